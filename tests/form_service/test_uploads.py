"""Files are checked against their declared type; photos lose their metadata (GPS above all)."""

from __future__ import annotations

import io

import pytest
from PIL import Image, PngImagePlugin

from form_service.uploads import (
    MAX_FILE_BYTES,
    MAX_TOTAL_BYTES,
    Upload,
    UploadError,
    UploadProblem,
    check_uploads,
)
from tests.form_service.factories import jpeg_with_gps


def png_with_text() -> bytes:
    """Make a PNG with a text chunk."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "MARKER-AUTHOR")
    output = io.BytesIO()
    Image.new("RGBA", (8, 8), (0, 0, 255, 128)).save(output, format="PNG", pnginfo=info)
    return output.getvalue()


def gif_animation() -> bytes:
    """Make a three-frame GIF."""
    frames = [Image.new("RGB", (10, 10), color) for color in ("red", "green", "blue")]
    output = io.BytesIO()
    frames[0].save(output, format="GIF", save_all=True, append_images=frames[1:], duration=50)
    return output.getvalue()


def test_jpeg_loses_exif_gps_and_comments_but_keeps_its_picture() -> None:
    original = jpeg_with_gps()
    assert b"MARKER-CAMERA-MAKER" in original
    [cleaned] = check_uploads([Upload("image/jpeg", original, oversize=False)])
    assert b"MARKER" not in cleaned.data
    with Image.open(io.BytesIO(cleaned.data)) as image:
        assert image.format == "JPEG"
        assert not image.getexif()
        assert "exif" not in image.info and "comment" not in image.info
        # The orientation was applied to the pixels before the tag was dropped.
        assert image.size == (24, 32)
    assert cleaned.content_type == "image/jpeg"
    assert cleaned.safe_name == "attachment-1.jpg"


def test_png_loses_its_text_chunks() -> None:
    [cleaned] = check_uploads([Upload("image/png", png_with_text(), oversize=False)])
    assert b"MARKER-AUTHOR" not in cleaned.data
    with Image.open(io.BytesIO(cleaned.data)) as image:
        assert image.mode == "RGBA"
        assert "Author" not in image.info


def test_an_animation_keeps_its_frames() -> None:
    [cleaned] = check_uploads([Upload("image/gif", gif_animation(), oversize=False)])
    with Image.open(io.BytesIO(cleaned.data)) as image:
        assert image.n_frames == 3


def test_pdf_and_text_pass_unchanged() -> None:
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    text = "見ました\n".encode()
    cleaned = check_uploads(
        [Upload("application/pdf", pdf, oversize=False), Upload("text/plain", text, False)]
    )
    assert [item.data for item in cleaned] == [pdf, text]
    assert [item.safe_name for item in cleaned] == ["attachment-1.pdf", "attachment-2.txt"]


@pytest.mark.parametrize(
    ("upload", "problem"),
    [
        (Upload("image/png", jpeg_with_gps(), False), UploadProblem.CONTENT_MISMATCH),
        (Upload("application/pdf", b"MZ\x90\x00 not a pdf", False), UploadProblem.CONTENT_MISMATCH),
        (Upload("text/plain", b"\xff\xfe\x00bin", False), UploadProblem.CONTENT_MISMATCH),
        (Upload("application/zip", b"PK\x03\x04", False), UploadProblem.TYPE_NOT_ACCEPTED),
        (Upload("image/jpeg", b"\xff\xd8\xff\xe0broken", False), UploadProblem.UNREADABLE_IMAGE),
        (Upload("text/plain", b"x", oversize=True), UploadProblem.TOO_LARGE),
    ],
)
def test_a_file_that_is_not_what_it_claims_is_refused(
    upload: Upload, problem: UploadProblem
) -> None:
    with pytest.raises(UploadError) as raised:
        check_uploads([upload])
    assert raised.value.problem is problem
    assert raised.value.position == 1


def test_more_than_five_files_are_refused() -> None:
    with pytest.raises(UploadError) as raised:
        check_uploads([Upload("text/plain", b"x", False)] * 6)
    assert raised.value.problem is UploadProblem.TOO_MANY


def test_more_than_25_mb_together_is_refused() -> None:
    big = b"a" * MAX_FILE_BYTES
    count = MAX_TOTAL_BYTES // MAX_FILE_BYTES + 1
    with pytest.raises(UploadError) as raised:
        check_uploads([Upload("text/plain", big, False)] * count)
    assert raised.value.problem is UploadProblem.TOTAL_TOO_LARGE
