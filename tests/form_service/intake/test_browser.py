"""A tipster in Chromium with JavaScript off sends a tip in each language and reads the receipt.

Every page visited (form, error summary, confirmation) is checked by axe-core; the Nu
HTML Checker validates every kind of intake page in one run (its JVM is slow to start).
A behaviour suite (a person's journey through the whole intake), so it keeps a behaviour
name rather than a module's.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from form_service.crypto import receipt_hash
from form_service.intake.request import MAX_BODY_BYTES
from form_service.settings import PROJECT_DIR, Settings
from tests.form_service.intake.helpers import post_tip, stored_tips
from tools.devserver import StaticSite, make_dispatcher

pytestmark = pytest.mark.browser

LANGUAGES = {
    "en": ("en", "Send securely"),
    "ja": ("ja", "安全に送信する"),
    "ko": ("ko", "안전하게 보내기"),
    "zh-hans": ("zh-Hans", "安全发送"),
}


@pytest.fixture
def live_url(intake_app: Any, tmp_path: Path) -> Iterator[str]:
    """Serve the intake and the theme's stylesheet on a loopback port in a thread."""
    (tmp_path / "site").mkdir()
    shutil.copytree(PROJECT_DIR / "theme" / "static", tmp_path / "site" / "theme")
    app = make_dispatcher({"/form": intake_app}, StaticSite(tmp_path / "site", ["en"]))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """Open a page in a fresh context with JavaScript disabled, as the tipster has it."""
    context = browser.new_context(java_script_enabled=False)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def axe_page(browser: Any, live_url: str) -> Iterator[Any]:
    """Open a JavaScript-enabled page on the same origin: axe-core needs timers to run."""
    context = browser.new_context()
    try:
        checker = context.new_page()
        checker.goto(f"{live_url}/form/en/")
        yield checker
    finally:
        context.close()


@pytest.mark.parametrize("code", LANGUAGES)
def test_a_tip_is_sent_without_javascript_in_each_language(
    code: str,
    page: Any,
    axe_page: Any,
    live_url: str,
    settings: Settings,
    axe_violations: Any,
    artifacts_dir: Path,
) -> None:
    html_lang, button = LANGUAGES[code]

    def check(name: str, response: Any) -> None:
        """Run axe on the page as served, and keep a screenshot."""
        assert page.locator("html").get_attribute("lang") == html_lang
        axe_page.set_content(response.text(), wait_until="load")
        assert axe_violations(axe_page) == [], f"axe on the {name} page ({code})"
        page.screenshot(path=str(artifacts_dir / f"intake-{name}-{code}.png"), full_page=True)

    response = page.goto(f"{live_url}/form/{code}/")
    assert response.status == 200
    check("form", response)

    # Sending nothing but a place shows the error summary, with the place kept.
    page.fill("#when_where", "MARKER-PLACE 新潟")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name=button).click()
    assert navigation.value.status == 400
    assert page.locator(".error-summary a[href='#message']").count() == 1
    assert page.input_value("#when_where") == "MARKER-PLACE 新潟"
    check("error", navigation.value)

    page.locator("#topic-1").check()
    page.fill("#message", f"MARKER-BROWSER {code}")
    page.set_input_files(
        "#attachments",
        files=[{"name": "notes.txt", "mimeType": "text/plain", "buffer": b"seen in 1983\n"}],
    )
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name=button).click()
    assert navigation.value.status == 200
    assert navigation.value.headers["cache-control"] == "no-store"
    code_text = page.locator(".receipt-code").inner_text().strip()
    assert len(code_text.replace(" ", "")) == 25
    check("confirmation", navigation.value)

    [tip] = stored_tips(settings)
    assert tip.language == code
    assert tip.receipt_hash == receipt_hash(settings.receipt_pepper, code_text)
    assert len(tip.attachments) == 1


def test_every_kind_of_intake_page_is_valid_html(
    client: Any, monkeypatch: pytest.MonkeyPatch, vnu_errors: Any, tmp_path: Path
) -> None:
    pages: dict[str, Any] = {}
    for code in LANGUAGES:
        pages[f"form-{code}"] = client.get(f"/form/{code}/")
        pages[f"error-{code}"] = post_tip(client, code, message="", when_where="x")
        pages[f"confirmation-{code}"] = post_tip(client, code)
    pages["not-found"] = client.get("/form/xx/")
    pages["method"] = client.put("/form/en/")
    pages["csrf"] = post_tip(client, token="forged")  # noqa: S106 - a forged CSRF token
    monkeypatch.setattr("form_service.intake.views.spool_tip", broken_store)
    pages["bug"] = post_tip(client)
    files = []
    for name, response in pages.items():
        path = tmp_path / f"{name}.html"
        path.write_bytes(response.get_data())
        files.append(path)
    assert vnu_errors(files) == []


def broken_store(*args: Any, **kwargs: Any) -> str:
    """Fail as a bug would."""
    raise RuntimeError("simulated bug")


def test_a_too_large_upload_in_the_browser_keeps_the_text(
    page: Any, live_url: str, settings: Settings, tmp_path: Path
) -> None:
    page.goto(f"{live_url}/form/en/")
    page.locator("#topic-0").check()
    page.fill("#message", "MARKER-KEPT after a huge upload")
    # Past the largest body the app parses at all: the text is recovered from the raw body.
    huge = tmp_path / "video.txt"
    huge.write_bytes(b"a" * (MAX_BODY_BYTES + 1024 * 1024))
    page.set_input_files("#attachments", files=[str(huge)])
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Send securely").click()
    assert navigation.value.status == 413
    assert page.input_value("#message") == "MARKER-KEPT after a huge upload"
    assert "Your files were too large" in page.locator(".error-summary").inner_text()
    assert stored_tips(settings) == []
