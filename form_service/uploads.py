"""Check uploaded files against their declared type and strip image metadata.

Everything here works in memory: a file of a tipster must never touch the disk
before it is encrypted (see intake.request.InMemoryRequest).

Pictures are decoded to be re-encoded, and decoding is where a small file becomes a large
amount of memory: a 55 KB GIF can declare 60 frames of 3000 x 3000 pixels. So the pixels of
every frame together are counted from the file's headers BEFORE a single frame is decoded,
and a picture over budget is refused. Within the budget a worker stays under the memory
ceiling stated in docs/security.md (measured by bench/upload_bench.py).
"""

from __future__ import annotations

import io
import itertools
import warnings
from dataclasses import dataclass
from enum import StrEnum

import filetype
from PIL import Image, ImageOps, ImageSequence

from form_service.crypto import PlainAttachment

MAX_FILES = 5
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_TOTAL_BYTES = 25 * 1024 * 1024
# Pixel budgets, counted over the whole canvas of every frame. A still photo of a 50 MP camera
# passes; an animation is a short clip at most (10 MP in all: 40 frames of 720 x 348, or 500
# frames of 140 x 140). Decoded as RGBA, the largest still takes 200 MB, an animation 40 MB.
# libwebp's encoder needs about 14 bytes per pixel and is the slowest, so WebP stills get half.
MAX_STILL_PIXELS = 50_000_000
MAX_WEBP_PIXELS = 25_000_000
MAX_ANIMATION_PIXELS = 10_000_000
MAX_FRAMES = 500
# All the pictures of one post together: two of the largest stills (WebP pixels count twice).
# This bounds the time a worker spends re-encoding one post (bench/upload_bench.py).
MAX_POST_PIXELS = 100_000_000

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
TYPE_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/x-png": "image/png",
    "image/apng": "image/png",
}


class UploadProblem(StrEnum):
    """Why a file was refused; the form turns each into a message in the page's language."""

    TOO_MANY = "too_many"
    TOO_LARGE = "too_large"
    TOTAL_TOO_LARGE = "total_too_large"
    TYPE_NOT_ACCEPTED = "type_not_accepted"
    CONTENT_MISMATCH = "content_mismatch"
    UNREADABLE_IMAGE = "unreadable_image"
    IMAGE_TOO_LARGE = "image_too_large"
    PICTURES_TOO_LARGE = "pictures_too_large"


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
    budget = PixelBudget()
    return [
        clean_upload(upload, position, budget) for position, upload in enumerate(uploads, start=1)
    ]


@dataclass
class PixelBudget:
    """The pixels the pictures of one post may still decode."""

    remaining: int = MAX_POST_PIXELS

    def spend(self, pixels: int) -> None:
        """Take pixels from the budget, refusing the post's pictures when it runs out."""
        if pixels > self.remaining:
            raise UploadError(UploadProblem.PICTURES_TOO_LARGE)
        self.remaining -= pixels


def clean_upload(
    upload: Upload, position: int, budget: PixelBudget | None = None
) -> PlainAttachment:
    """Check one file's content against its declared type and strip image metadata."""
    declared = TYPE_ALIASES.get(upload.declared_type, upload.declared_type)
    if declared not in ACCEPTED_TYPES:
        raise UploadError(UploadProblem.TYPE_NOT_ACCEPTED, position)
    image_format, extension = ACCEPTED_TYPES[declared]
    if not _content_matches(declared, upload.data):
        raise UploadError(UploadProblem.CONTENT_MISMATCH, position)
    data = upload.data
    if image_format is not None:
        try:
            data = _strip_image(upload.data, image_format, budget or PixelBudget())
        except UploadError as error:
            raise UploadError(error.problem, position) from None
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
    # An animated PNG is a PNG to every browser, whatever it was declared as.
    return bool(guessed == declared or (guessed, declared) == ("image/apng", "image/png"))


def _strip_image(data: bytes, image_format: str, budget: PixelBudget) -> bytes:
    """Re-encode an image from its pixels only: no EXIF, GPS, XMP, ICC or comments survive."""
    try:
        with warnings.catch_warnings():
            # A decompression bomb is refused, not merely warned about.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[image_format]) as image:
                count = _check_budget(image, image_format)
                weight = 2 if image_format == "WEBP" else 1
                budget.spend(image.size[0] * image.size[1] * count * weight)
                if count == 1:
                    # Turned in place: a second full copy of a 50 MP photo is 200 MB more.
                    ImageOps.exif_transpose(image, in_place=True)
                    return _encode([_pixels_only(image)], [], image_format)
                frames, durations = [], []
                # The iterator seeks one image object, so copy each frame as it comes; never
                # more frames than were counted, whatever the file says later on.
                for frame in itertools.islice(ImageSequence.Iterator(image), count):
                    frames.append(_pixels_only(frame))
                    durations.append(int(frame.info.get("duration", 100)))
                return _encode(frames, durations, image_format)
    except UploadError:
        raise
    # A decoder can fail in many ways on a hostile file, and running out of memory is one
    # of them: each is the same answer to the tipster (their text is kept by the form).
    except (
        OSError,
        ValueError,
        SyntaxError,
        MemoryError,
        EOFError,
        Image.DecompressionBombError,
        Warning,
    ) as error:
        raise UploadError(UploadProblem.UNREADABLE_IMAGE) from error


def _check_budget(image: Image.Image, image_format: str) -> int:
    """Return the number of frames, refusing a picture over the pixel budget before decoding.

    Pillow reads frame counts from the headers: GIF by walking the blocks without decoding
    them, APNG from its animation-control chunk, WebP from its demuxer.
    """
    width, height = image.size
    canvas = width * height
    if canvas <= 0:
        raise UploadError(UploadProblem.UNREADABLE_IMAGE)
    if canvas > (MAX_WEBP_PIXELS if image_format == "WEBP" else MAX_STILL_PIXELS):
        raise UploadError(UploadProblem.IMAGE_TOO_LARGE)
    count = int(getattr(image, "n_frames", 1))
    if count > 1 and (count > MAX_FRAMES or canvas * count > MAX_ANIMATION_PIXELS):
        raise UploadError(UploadProblem.IMAGE_TOO_LARGE)
    return max(count, 1)


def _pixels_only(frame: Image.Image) -> Image.Image:
    """Copy a frame's pixels into a new image that carries no metadata at all."""
    if frame.mode in {"P", "PA", "1"} or "transparency" in frame.info:
        frame = frame.convert("RGBA")
    # A new image has no metadata; pasting copies pixels only, without the extra bytes copy
    # of tobytes/frombytes.
    clean = Image.new(frame.mode, frame.size)
    clean.paste(frame)
    return clean


def _encode(frames: list[Image.Image], durations: list[int], image_format: str) -> bytes:
    """Encode clean frames in the original format."""
    output = io.BytesIO()
    first = frames[0]
    if image_format == "JPEG" and first.mode not in {"L", "RGB", "CMYK"}:
        first = first.convert("RGB")
    options: dict[str, object] = {"format": image_format}
    # The fastest settings of each encoder that keep the picture: re-encoding the largest
    # still allowed must stay well inside a worker's timeout (bench/upload_bench.py).
    if image_format in {"JPEG", "WEBP"}:
        options["quality"] = 95
    if image_format == "WEBP":
        options["method"] = 0
    if image_format == "PNG":
        options["compress_level"] = 1
    if len(frames) > 1:
        options.update(save_all=True, append_images=frames[1:], duration=durations, loop=0)
    first.save(output, **options)  # type: ignore[arg-type]
    return output.getvalue()
