"""Measure the static site against its budgets and print the figures.

Budgets (issue: the public site): HTML per page <= 20 KB gzipped; CSS <= 15 KB gzipped in
total; 0 KB of JavaScript; first view of a text page <= 60 KB and <= 8 requests; cold
build of the whole site <= 5 s. Sizes are gzip level 9, as served precompressed.

The reference: Pelican building the same number of pages from plain Markdown with its
default theme and default settings, timed the same way in the same run.

Usage: .venv/bin/python bench/site_budget.py [--runs N]   (prints JSON)
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parent.parent
KB = 1024


def gzipped(path: Path) -> int:
    """Return the size of a file once gzipped at level 9."""
    return len(gzip.compress(path.read_bytes(), compresslevel=9))


def cold_build(output: Path, content: Path | None = None, settings: Path | None = None) -> float:
    """Build a site from scratch into `output` and return the wall time in seconds.

    Without arguments it builds this project's site; otherwise `content` with `settings`.
    """
    shutil.rmtree(output, ignore_errors=True)
    command = [sys.executable, "-m", "pelican", str(content or "content")]
    command += ["-s", str(settings or "site/pelicanconf.py"), "-o", str(output)]
    started = time.perf_counter()
    subprocess.run(
        command if content else [*command, "--fatal", "warnings"],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL if content else None,
    )
    return time.perf_counter() - started


def reference_build(folder: Path, pages: int, runs: int) -> list[float]:
    """Time Pelican's default theme building `pages` plain Markdown pages."""
    content = folder / "content"
    (content / "pages").mkdir(parents=True)
    paragraph = "The families are still waiting for news of those taken. " * 12
    for number in range(pages):
        (content / "pages" / f"page-{number}.md").write_text(
            f"Title: Page {number}\nSlug: page-{number}\n\n{paragraph}\n\n{paragraph}\n",
            encoding="utf-8",
        )
    settings = folder / "pelicanconf.py"
    settings.write_text('SITENAME = "Reference"\nTIMEZONE = "UTC"\n', encoding="utf-8")
    return [cold_build(folder / "output", content, settings) for _ in range(runs)]


def first_view(site: Path, page: Path) -> tuple[int, int]:
    """Return (bytes, requests) a browser fetches to show a page: itself and its resources."""
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    resources = {page}
    for link in soup.find_all("link", href=True):
        if set(link.get("rel", [])) & {"stylesheet", "icon"}:
            resources.add(site / urlsplit(link["href"]).path.lstrip("/"))
    for element in soup.find_all(["img", "script"], src=True):
        resources.add(site / urlsplit(element["src"]).path.lstrip("/"))
    return sum(gzipped(path) for path in resources), len(resources)


def measure(runs: int) -> dict[str, object]:
    """Build the site and the reference `runs` times each; return weights and times."""
    with tempfile.TemporaryDirectory() as temp:
        output = Path(temp) / "site"
        times = [cold_build(output) for _ in range(runs)]
        pages = sorted(output.rglob("*.html"))
        reference = reference_build(Path(temp) / "reference", len(pages), runs)
        css = sum(gzipped(path) for path in output.rglob("*.css"))
        js = sum(path.stat().st_size for path in output.rglob("*.js"))
        weights = {}
        for page in pages:
            view_bytes, requests = first_view(output, page)
            weights[str(page.relative_to(output))] = {
                "html_gz": gzipped(page),
                "first_view_gz": view_bytes,
                "requests": requests,
            }
    return {
        "pages": len(pages),
        "build_s": times,
        "reference_build_s": reference,
        "css_gz": css,
        "js_bytes": js,
        "weights": weights,
        "budgets": {
            "html_gz": 20 * KB,
            "css_gz": 15 * KB,
            "first_view_gz": 60 * KB,
            "requests": 8,
            "build_s": 5,
        },
    }


def main() -> int:
    """Build the site, measure it and print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="cold builds to time")
    print(json.dumps(measure(parser.parse_args().runs), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
