"""Measure the peak memory and time of one intake worker cleaning the worst uploads.

Each case runs in a fresh Python process that imports the upload checks (as a gunicorn
worker has), then checks one post's files; the process reports its peak resident size
(VmHWM, which starts afresh at exec) and the time spent. The cases are the largest pictures
the pixel budget lets through (a post of two 50 MP stills, in each format, the worst
animation) and the bombs it refuses.

    .venv/bin/python bench/upload_bench.py

Prints one line per case (wall and CPU seconds, peak MB) and the highest peak against
GUNICORN_WORKER_MEMORY_MB (the ceiling docs/security.md states; default 1024).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from PIL import Image

PROJECT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_DIR))

from tests.form_service.bombs import (  # noqa: E402 - needs the project on the path
    apng_bomb,
    gif_bomb,
    png_still,
    webp_animation,
)

CEILING_MB = int(os.environ.get("GUNICORN_WORKER_MEMORY_MB", "1024"))
CHILD = """
import json, sys, time
from pathlib import Path
from form_service.uploads import Upload, UploadError, check_uploads
paths = [Path(name) for name in sys.argv[1:]]
uploads = [Upload(path.name.split("_")[0].replace("-", "/"), path.read_bytes(), False)
           for path in paths]
started, cpu = time.perf_counter(), time.process_time()
try:
    check_uploads(uploads)
    answer = "accepted"
except UploadError as error:
    answer = error.problem.value
seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
status = Path("/proc/self/status").read_text()
peak = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM"))
print(json.dumps({"answer": answer, "seconds": seconds, "cpu": cpu, "peak_mb": peak / 1024}))
"""


def encoded(image: Image.Image, image_format: str, **options: object) -> bytes:
    """Encode a picture in memory."""
    output = io.BytesIO()
    image.save(output, format=image_format, **options)  # type: ignore[arg-type]
    return output.getvalue()


def largest_stills(image_format: str) -> bytes:
    """Make the largest still the budget allows (50 MP, WebP 25 MP; RGBA where possible)."""
    mode = "RGB" if image_format == "JPEG" else "RGBA"
    side = 5000 if image_format == "WEBP" else 7071
    return encoded(Image.new(mode, (side, side), (30, 60, 90, 200)[: len(mode)]), image_format)


def largest_animation() -> bytes:
    """Make the largest animation the budget allows: 40 RGBA frames of 500 x 500."""
    frames = [Image.new("RGBA", (500, 500), (i * 6, 0, 0, 128)) for i in range(40)]
    return encoded(frames[0], "PNG", save_all=True, append_images=frames[1:])


CASES: dict[str, Callable[[], list[tuple[str, bytes]]]] = {
    "two 50 MP JPEG stills": lambda: [("image-jpeg", largest_stills("JPEG"))] * 2,
    "two 50 MP RGBA PNG stills": lambda: [("image-png", largest_stills("PNG"))] * 2,
    "two 25 MP RGBA WebP stills": lambda: [("image-webp", largest_stills("WEBP"))] * 2,
    "five 1-bit 49 MP PNG (third over post budget)": lambda: (
        [("image-png", png_still(7000, 7000))] * 5
    ),
    "10 MP RGBA APNG (40 frames)": lambda: [("image-png", largest_animation())],
    "10 MP GIF (100 frames of 316 x 316)": lambda: [("image-gif", gif_bomb(316, 316, 100))],
    "bomb: GIF 3000 x 3000 x 60": lambda: [("image-gif", gif_bomb(3000, 3000, 60))],
    "bomb: APNG 3000 x 3000 x 60": lambda: [("image-png", apng_bomb(3000, 3000, 60))],
    "bomb: WebP 8 x 8 x 501": lambda: [("image-webp", webp_animation(8, 8, 501))],
    "bomb: five GIF bombs": lambda: [("image-gif", gif_bomb(3000, 3000, 60))] * 5,
}


def run_case(folder: Path, files: list[tuple[str, bytes]]) -> dict[str, object]:
    """Check one post's files in a fresh process and return its figures."""
    paths = []
    for index, (kind, data) in enumerate(files):
        path = folder / f"{kind}_{index}"
        path.write_bytes(data)
        paths.append(str(path))
    result = subprocess.run(
        [sys.executable, "-c", CHILD, *paths],
        capture_output=True,
        text=True,
        check=True,
        cwd=PROJECT_DIR,
    )
    for path in paths:
        Path(path).unlink()
    figures: dict[str, object] = json.loads(result.stdout)
    figures["bytes"] = sum(len(data) for _, data in files)
    return figures


def main() -> None:
    """Run every case and print its answer, time and peak memory."""
    highest = 0.0
    # Wall time depends on what else the machine runs; CPU time is the worker's own cost.
    print(f"{'case':48} {'upload':>9} {'answer':>20} {'wall s':>7} {'CPU s':>6} {'peak MB':>8}")
    with tempfile.TemporaryDirectory() as folder:
        for name, build in CASES.items():
            figures = run_case(Path(folder), build())
            peak = float(str(figures["peak_mb"]))
            highest = max(highest, peak)
            print(
                f"{name:48} {figures['bytes']:>9} {figures['answer']:>20} "
                f"{float(str(figures['seconds'])):>7.2f} {float(str(figures['cpu'])):>6.2f} "
                f"{peak:>8.0f}"
            )
    verdict = "within" if highest <= CEILING_MB else "OVER"
    print(f"highest peak {highest:.0f} MB, {verdict} the ceiling of {CEILING_MB} MB")


if __name__ == "__main__":
    main()
