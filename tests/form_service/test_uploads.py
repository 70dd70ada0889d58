"""Files are checked against their declared type; photos lose their metadata (GPS above all)."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from form_service.uploads import (
    MAX_FILE_BYTES,
    MAX_POST_PIXELS,
    MAX_STILL_PIXELS,
    MAX_TOTAL_BYTES,
    Upload,
    UploadError,
    UploadProblem,
    check_uploads,
)
from tests.form_service.bombs import apng_bomb, gif_bomb, png_still, webp_animation
from tests.form_service.factories import jpeg_with_gps

PROJECT_DIR = Path(__file__).resolve().parents[2]


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


# --- Decompression bombs: small files that declare huge pictures --------------------------

BOMBS = {
    "gif-3000x3000-60-frames": ("image/gif", lambda: gif_bomb(3000, 3000, 60)),
    "gif-600-frames": ("image/gif", lambda: gif_bomb(64, 64, 600)),
    "apng-3000x3000-60-frames": ("image/png", lambda: apng_bomb(3000, 3000, 60)),
    "webp-2-frames-of-2500x2500": ("image/webp", lambda: webp_animation(2500, 2500, 2)),
    "webp-501-frames": ("image/webp", lambda: webp_animation(8, 8, 501)),
    # Pixel data that is not even zlib: refused from the header, never decoded.
    "png-60-megapixels": ("image/png", lambda: png_still(8000, 7500, broken=True)),
}


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_a_picture_over_the_pixel_budget_is_refused_before_decoding(name: str) -> None:
    declared, build = BOMBS[name]
    data = build()
    assert len(data) < 100_000
    with pytest.raises(UploadError) as raised:
        check_uploads([Upload("text/plain", b"note", False), Upload(declared, data, False)])
    assert raised.value.problem is UploadProblem.IMAGE_TOO_LARGE
    assert raised.value.position == 2


def test_an_animation_within_the_budget_keeps_its_frames() -> None:
    # 100 frames of 300 x 300 = 9 million pixels, under the 10 million of an animation.
    [cleaned] = check_uploads([Upload("image/gif", gif_bomb(300, 300, 100), False)])
    with Image.open(io.BytesIO(cleaned.data)) as image:
        assert image.size == (300, 300)
        assert image.n_frames > 1


def test_an_animated_png_is_accepted_as_a_png() -> None:
    [cleaned] = check_uploads([Upload("image/png", apng_bomb(200, 200, 10), False)])
    assert cleaned.safe_name == "attachment-1.png"


def test_a_post_cannot_decode_more_than_its_total_of_pixels() -> None:
    # Each still is within its own budget (45 million); three exceed the post's 100 million.
    still = png_still(7500, 6000)
    uploads = [Upload("image/png", still, False)] * 3
    assert MAX_STILL_PIXELS >= 7500 * 6000 and MAX_POST_PIXELS < 3 * 7500 * 6000
    with pytest.raises(UploadError) as raised:
        check_uploads(uploads)
    assert raised.value.problem is UploadProblem.PICTURES_TOO_LARGE


def test_a_broken_frame_is_unreadable_not_an_error() -> None:
    with pytest.raises(UploadError) as raised:
        check_uploads([Upload("image/png", png_still(64, 64, broken=True), False)])
    assert raised.value.problem is UploadProblem.UNREADABLE_IMAGE


OUT_OF_MEMORY = """
import resource, sys
from form_service.uploads import Upload, UploadError, check_uploads
from tests.form_service.bombs import png_still
data = png_still(7000, 7000)
# Leave this process 100 MB more than it holds now: a 49 MP picture needs about 200 MB.
with open("/proc/self/statm") as statm:
    size = int(statm.read().split()[0]) * resource.getpagesize()
resource.setrlimit(resource.RLIMIT_AS, (size + 100 * 2**20, resource.RLIM_INFINITY))
try:
    check_uploads([Upload("image/png", data, False)])
except UploadError as error:
    print(error.problem.value)
"""


def test_running_out_of_memory_while_decoding_is_an_unreadable_picture() -> None:
    result = subprocess.run(
        [sys.executable, "-c", OUT_OF_MEMORY],
        capture_output=True,
        text=True,
        check=False,
        cwd=PROJECT_DIR,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == UploadProblem.UNREADABLE_IMAGE.value


def test_no_bomb_raises_a_worker_above_the_memory_ceiling(tmp_path: Path) -> None:
    # The ceiling is GUNICORN_WORKER_MEMORY_MB in docs/security.md; the worst pictures within
    # the budget (bench/upload_bench.py) stay under half of it, bombs far under that. The
    # bombs are built here, so the child process measures only what checking them costs.
    for name, (declared, build) in BOMBS.items():
        (tmp_path / f"{name}.{declared.split('/')[1]}").write_bytes(build())
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from form_service.uploads import Upload, UploadError, check_uploads\n"
        "for path in Path(sys.argv[1]).iterdir():\n"
        "    try:\n"
        "        check_uploads([Upload('image/' + path.suffix[1:], path.read_bytes(), False)])\n"
        "    except UploadError:\n"
        "        pass\n"
        # VmHWM, the peak resident size, starts afresh at exec (ru_maxrss would count the
        # pytest process this one was forked from).
        "status = Path('/proc/self/status').read_text()\n"
        "peak = [line for line in status.splitlines() if line.startswith('VmHWM')][0]\n"
        "print(int(peak.split()[1]) // 1024)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=PROJECT_DIR,
        timeout=120,
    )
    assert int(result.stdout) < 150, f"peak {result.stdout.strip()} MB"
