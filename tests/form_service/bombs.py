"""Small files that decode to huge pictures: the uploads an attacker would send.

Each is built byte by byte (or patched after Pillow wrote a tiny one), so a file of a few
kilobytes declares a canvas of millions of pixels, or hundreds of frames. The tests and
bench/upload_bench.py use the same ones.
"""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def gif_bomb(width: int, height: int, frames: int) -> bytes:
    """Make a GIF whose canvas is width x height and whose frames are 1 x 1 pixel each.

    Pillow composes every frame onto the full canvas, so each costs the whole canvas.
    """
    colours = [Image.new("P", (1, 1), index % 2) for index in range(frames)]
    for image in colours:
        image.putpalette([0, 0, 0, 255, 255, 255])
    output = io.BytesIO()
    colours[0].save(
        output, format="GIF", save_all=True, append_images=colours[1:], duration=40, loop=0
    )
    data = bytearray(output.getvalue())
    # The logical screen size sits right after the six-byte signature.
    data[6:10] = struct.pack("<HH", width, height)
    return bytes(data)


def _chunk(kind: bytes, body: bytes) -> bytes:
    """Encode one PNG chunk with its length and CRC."""
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _blank_rows(width: int, height: int) -> bytes:
    """Compress the rows of an all-black 1-bit picture (each row: a filter byte, then bits)."""
    row = b"\x00" * (1 + (width + 7) // 8)
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(row) for _ in range(height)]
    return b"".join(parts) + compressor.flush()


def png_still(width: int, height: int, *, broken: bool = False) -> bytes:
    """Make a valid 1-bit PNG of width x height (a few kilobytes), or one whose data is junk."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    pixels = b"not zlib data at all" if broken else _blank_rows(width, height)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", pixels)
        + _chunk(b"IEND", b"")
    )


def apng_bomb(width: int, height: int, frames: int) -> bytes:
    """Make an APNG of width x height declaring `frames` frames, each a 1 x 1 patch."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    parts = [b"\x89PNG\r\n\x1a\n", _chunk(b"IHDR", header)]
    parts.append(_chunk(b"acTL", struct.pack(">II", frames, 0)))
    sequence = 0
    # The default image is the first frame, so it spans the canvas (it compresses to little).
    parts.append(_chunk(b"fcTL", _frame_control(sequence, width, height)))
    sequence += 1
    parts.append(_chunk(b"IDAT", _blank_rows(width, height)))
    patch = zlib.compress(b"\x00\x80")
    for _ in range(frames - 1):
        parts.append(_chunk(b"fcTL", _frame_control(sequence, 1, 1)))
        parts.append(_chunk(b"fdAT", struct.pack(">I", sequence + 1) + patch))
        sequence += 2
    parts.append(_chunk(b"IEND", b""))
    return b"".join(parts)


def _frame_control(sequence: int, width: int, height: int) -> bytes:
    """Encode an fcTL body: a frame at the top left, shown for 40 ms."""
    return struct.pack(">IIIIIHHBB", sequence, width, height, 0, 0, 4, 100, 0, 0)


def webp_animation(width: int, height: int, frames: int) -> bytes:
    """Make an animated WebP of `frames` frames of width x height (alternating colours)."""
    images = [Image.new("RGB", (width, height), (index % 2) * 255) for index in range(frames)]
    output = io.BytesIO()
    images[0].save(
        output,
        format="WEBP",
        save_all=True,
        append_images=images[1:],
        duration=40,
        quality=1,
        method=0,
        # Keep every frame: otherwise identical frames are merged and the count drops.
        allow_mixed=False,
        minimize_size=False,
    )
    return output.getvalue()
