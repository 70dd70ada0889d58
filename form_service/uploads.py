"""Check uploaded files against their declared type and strip image metadata.

Everything here works in memory: a file of a tipster must never touch the disk
before it is encrypted (see intake.request.InMemoryRequest).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from enum import StrEnum

import filetype
from PIL import Image, ImageOps, ImageSequence

from form_service.crypto import PlainAttachment

MAX_FILES = 5
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_TOTAL_BYTES = 25 * 1024 * 1024

# Declared type -> (Pillow format or None, file extension of the generated name).
ACCEPTED_TYPES: dict[str, tuple[str | None, str]] = {
    "image/jpeg": ("JPEG", "jpg"),
    "image/png": ("PNG", "png"),
    "image/gif": ("GIF", "gif"),
    "image/webp": ("WEBP", "webp"),
    "application/pdf": (None, "pdf"),
    "text/plain": (None, "txt"),
}
# Names some browsers and systems give to the same types.
TYPE_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "image/x-png": "image/png"}


class UploadProblem(StrEnum):
    """Why a file was refused; the form turns each into a message in the page's language."""

    TOO_MANY = "too_many"
    TOO_LARGE = "too_large"
    TOTAL_TOO_LARGE = "total_too_large"
    TYPE_NOT_ACCEPTED = "type_not_accepted"
    CONTENT_MISMATCH = "content_mismatch"
    UNREADABLE_IMAGE = "unreadable_image"


class UploadError(ValueError):
    """A file cannot be accepted."""

    def __init__(self, problem: UploadProblem, position: int = 0) -> None:
        super().__init__(problem.value)
        self.problem = problem
        self.position = position


@dataclass(frozen=True)
class Upload:
    """A file as received: declared type, bytes, and whether it went past the size cap."""

    declared_type: str
    data: bytes
    oversize: bool


def check_uploads(uploads: list[Upload]) -> list[PlainAttachment]:
    """Check count, sizes and types, and return cleaned attachments ready to seal."""
    if len(uploads) > MAX_FILES:
        raise UploadError(UploadProblem.TOO_MANY)
    for position, upload in enumerate(uploads, start=1):
        if upload.oversize or len(upload.data) > MAX_FILE_BYTES:
            raise UploadError(UploadProblem.TOO_LARGE, position)
    if sum(len(upload.data) for upload in uploads) > MAX_TOTAL_BYTES:
        raise UploadError(UploadProblem.TOTAL_TOO_LARGE)
    return [clean_upload(upload, position) for position, upload in enumerate(uploads, start=1)]


def clean_upload(upload: Upload, position: int) -> PlainAttachment:
    """Check one file's content against its declared type and strip image metadata."""
    declared = TYPE_ALIASES.get(upload.declared_type, upload.declared_type)
    if declared not in ACCEPTED_TYPES:
        raise UploadError(UploadProblem.TYPE_NOT_ACCEPTED, position)
    image_format, extension = ACCEPTED_TYPES[declared]
    if not _content_matches(declared, upload.data):
        raise UploadError(UploadProblem.CONTENT_MISMATCH, position)
    data = upload.data if image_format is None else _strip_image(upload.data, image_format)
    if image_format is not None and not data:
        raise UploadError(UploadProblem.UNREADABLE_IMAGE, position)
    return PlainAttachment(
        data=data, content_type=declared, safe_name=f"attachment-{position}.{extension}"
    )


def _content_matches(declared: str, data: bytes) -> bool:
    """Tell whether the bytes really are of the declared type."""
    if declared == "text/plain":
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            return False
        return "\x00" not in text
    guessed = filetype.guess_mime(data)
    return bool(guessed == declared)


def _strip_image(data: bytes, image_format: str) -> bytes:
    """Re-encode an image from its pixels only: no EXIF, GPS, XMP, ICC or comments survive."""
    try:
        with warnings.catch_warnings():
            # A decompression bomb is refused, not merely warned about.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[image_format]) as image:
                frames, durations = [], []
                # The iterator seeks one image object, so copy each frame as it comes.
                for frame in ImageSequence.Iterator(image):
                    frames.append(_pixels_only(frame))
                    durations.append(int(frame.info.get("duration", 100)))
                if len(frames) == 1:
                    image.seek(0)
                    frames = [_pixels_only(ImageOps.exif_transpose(image))]
                return _encode(frames, durations, image_format)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Warning):
        return b""


def _pixels_only(frame: Image.Image) -> Image.Image:
    """Copy a frame's pixels into a new image that carries no metadata at all."""
    if frame.mode in {"P", "PA", "1"} or "transparency" in frame.info:
        frame = frame.convert("RGBA")
    return Image.frombytes(frame.mode, frame.size, frame.tobytes())


def _encode(frames: list[Image.Image], durations: list[int], image_format: str) -> bytes:
    """Encode clean frames in the original format."""
    output = io.BytesIO()
    first = frames[0]
    if image_format == "JPEG" and first.mode not in {"L", "RGB", "CMYK"}:
        first = first.convert("RGB")
    options: dict[str, object] = {"format": image_format}
    if image_format in {"JPEG", "WEBP"}:
        options["quality"] = 95
    if len(frames) > 1:
        options.update(save_all=True, append_images=frames[1:], duration=durations, loop=0)
    first.save(output, **options)  # type: ignore[arg-type]
    return output.getvalue()
