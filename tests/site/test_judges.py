"""The built site before the judges: the Nu HTML Checker and axe-core in the system Chromium."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_vnu
from tests.site.conftest import LANG_CODES, SLUGS, BuiltSite, page_path

# 375 and 1280 are the widths the issue names; 320 is the narrowest the theme supports.
WIDTHS = [320, 375, 1280]


def test_every_page_passes_the_nu_html_checker(built_site: BuiltSite) -> None:
    files = built_site.html_files()
    assert len(files) == len(SLUGS) * len(LANG_CODES) + 1
    assert run_vnu(files) == []


def test_the_stylesheet_and_images_pass_the_nu_checker(built_site: BuiltSite) -> None:
    assert run_vnu([built_site.root / "theme" / "css" / "site.css"], "--css") == []
    svgs = sorted(built_site.root.rglob("*.svg"))
    assert len(svgs) == 4
    assert run_vnu(svgs, "--svg") == []


@pytest.mark.browser
@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_has_no_axe_violations(
    browser: Any, axe_violations: Any, site_server: str, artifacts_dir: Path, width: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    outside: list[str] = []
    page.on(
        "request",
        lambda request: (
            outside.append(request.url) if not request.url.startswith(site_server) else None
        ),
    )
    failures = {}
    pages = ["index.html"] + [page_path(lang, slug) for lang in LANG_CODES for slug in SLUGS]
    try:
        for relative in pages:
            page.goto(f"{site_server}/{relative}")
            shot = artifacts_dir / "site" / f"{width}" / relative.replace("/", "__")
            shot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shot.with_suffix(".png")), full_page=True)
            violations = axe_violations(page)
            if violations:
                failures[relative] = violations
            # Nothing may overflow sideways, even at the narrowest width.
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            if overflow > 0:
                failures[relative] = [{"id": "horizontal-overflow", "pixels": overflow}]
    finally:
        context.close()
    assert failures == {}
    assert outside == []
