"""The form looks like the rest of the site: it links the theme's own fingerprinted stylesheet."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from form_service.settings import PROJECT_DIR


def test_the_form_links_the_same_fingerprinted_stylesheet_as_the_site(
    client: Any, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pelican", "content", "-s", "site/pelicanconf.py", "-o", str(site)],
        cwd=PROJECT_DIR,
        check=True,
        capture_output=True,
    )
    site_href = re.search(
        r'<link rel="stylesheet" href="([^"]+)"',
        (site / "en" / "index.html").read_text(encoding="utf-8"),
    )
    form_href = re.search(r'<link rel="stylesheet" href="([^"]+)"', client.get("/form/ja/").text)
    assert site_href and form_href
    assert "?v=" in site_href[1]
    assert form_href[1] == site_href[1]
