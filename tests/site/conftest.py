"""Fixtures for the static site: one build into a temporary folder per test session."""

from __future__ import annotations

import functools
import http.server
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "site" / "plugins"))  # the build plugins, for their strings
SITE_ORIGIN = "https://site.test"
LANGUAGES = json.loads((ROOT / "theme" / "languages.json").read_text(encoding="utf-8"))
LANG_CODES = [lang["code"] for lang in LANGUAGES]
SLUGS = sorted(path.stem for path in (ROOT / "content" / "pages" / "en").glob("*.md"))


def page_path(lang: str, slug: str) -> str:
    """Return the output path of a page, relative to the site root."""
    if slug == "home":
        return f"{lang}/index.html"
    if slug == "not-found":
        return f"{lang}/404.html"
    return f"{lang}/{slug}/index.html"


@dataclass(frozen=True)
class BuiltSite:
    """A site built into a folder, with helpers to read its pages."""

    root: Path

    def html_files(self) -> list[Path]:
        """Return every HTML file of the build."""
        return sorted(self.root.rglob("*.html"))

    @functools.cache  # noqa: B019 (the instance lives for the whole session)
    def soup(self, relative: str) -> BeautifulSoup:
        """Parse one built page."""
        return BeautifulSoup((self.root / relative).read_text(encoding="utf-8"), "html.parser")


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    """Build the site once, as `make site` does, into a temporary folder."""
    output = tmp_path_factory.mktemp("site")
    completed = subprocess.run(
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
        capture_output=True,
        text=True,
        env={"SITE_ORIGIN": SITE_ORIGIN, "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return BuiltSite(output)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serve files without printing a log line per request."""

    def log_message(self, format: str, *args: object) -> None:
        """Stay quiet: the tests read pages, not logs."""


@pytest.fixture(scope="session")
def site_server(built_site: BuiltSite) -> Iterator[str]:
    """Serve the built site on a free loopback port and yield its base URL."""
    handler = functools.partial(QuietHandler, directory=str(built_site.root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
