"""Measure the static site against its budgets and print the figures.

Budgets (issue: the public site): HTML per page <= 20 KB gzipped; CSS <= 15 KB gzipped in
total; 0 KB of JavaScript; first view of a text page <= 60 KB and <= 8 requests; cold
build of the whole site <= 5 s. Sizes are gzip level 9, as served precompressed.

Usage: .venv/bin/python bench/site_budget.py [--runs N]
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import statistics
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


def cold_build(output: Path) -> float:
    """Build the whole site from scratch into `output` and return the wall time in seconds."""
    shutil.rmtree(output, ignore_errors=True)
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pelican",
            "content",
            "-s",
            "site/pelicanconf.py",
            "-o",
            str(output),
            "--fatal",
            "warnings",
        ],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


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


def main() -> int:
    """Build the site, measure it and print each figure beside its budget."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="cold builds to time")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        output = Path(temp) / "site"
        times = [cold_build(output) for _ in range(args.runs)]
        pages = sorted(output.rglob("*.html"))
        html = {page: gzipped(page) for page in pages}
        css = sum(gzipped(path) for path in output.rglob("*.css"))
        js = sum(path.stat().st_size for path in output.rglob("*.js"))
        views = {page: first_view(output, page) for page in pages}
        heaviest_html = max(html, key=html.__getitem__)
        heaviest_view = max(views, key=lambda page: views[page][0])
        view_bytes = views[heaviest_view][0]
        most_requests = max(views, key=lambda page: views[page][1])
        rows = [
            ("pages built", f"{len(pages)}", "", True),
            (
                f"cold build, median of {args.runs}",
                f"{statistics.median(times):.2f} s",
                "<= 5 s",
                statistics.median(times) <= 5,
            ),
            ("cold build, slowest", f"{max(times):.2f} s", "<= 5 s", max(times) <= 5),
            (
                f"HTML, heaviest ({heaviest_html.relative_to(output)})",
                f"{html[heaviest_html] / KB:.1f} KB",
                "<= 20 KB",
                html[heaviest_html] <= 20 * KB,
            ),
            ("HTML, median", f"{statistics.median(html.values()) / KB:.1f} KB", "", True),
            ("CSS, all stylesheets", f"{css / KB:.1f} KB", "<= 15 KB", css <= 15 * KB),
            ("JavaScript", f"{js / KB:.1f} KB", "0 KB", js == 0),
            (
                f"first view, heaviest ({heaviest_view.relative_to(output)})",
                f"{view_bytes / KB:.1f} KB",
                "<= 60 KB",
                view_bytes <= 60 * KB,
            ),
            (
                f"first view, most requests ({most_requests.relative_to(output)})",
                f"{views[most_requests][1]}",
                "<= 8",
                views[most_requests][1] <= 8,
            ),
        ]
    width = max(len(row[0]) for row in rows)
    for name, figure, budget, ok in rows:
        verdict = "" if not budget else ("ok" if ok else "OVER BUDGET")
        print(f"{name:<{width}}  {figure:>9}  {budget:<9} {verdict}")
    return 0 if all(row[3] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
