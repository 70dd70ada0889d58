"""A tipster in Chromium with JavaScript off comes back with the code, in each language.

The whole round trip: send a tip, keep the code, open the check page from the
confirmation, type the code, read the desk's reply, send more with a file, delete the
reply, leave. axe-core checks every page on the way; the Nu HTML Checker validates every
kind of check page in all four languages in one run.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from nacl.public import PrivateKey

from form_service.settings import Settings
from tests.form_service.intake.helpers import (
    TOKEN_PATTERN,
    desk_reply,
    post_tip,
    receipt_code,
)
from tests.form_service.intake.test_browser import axe_page, live_url, page  # noqa: F401

pytestmark = pytest.mark.browser

# (html lang, the send button, the lookup button, the leave button, the delete button)
LANGUAGES = {
    "en": ("en", "Send securely", "Open my tip", "Leave", "Delete this reply"),
    "ja": ("ja", "安全に送信する", "確認する", "終了する", "この返信を削除する"),
    "ko": ("ko", "안전하게 보내기", "확인하기", "나가기", "이 답장 삭제하기"),
    "zh-hans": ("zh-Hans", "安全发送", "查看", "退出", "删除此回复"),
}


@pytest.mark.parametrize("code", LANGUAGES)
def test_a_tipster_comes_back_without_javascript(
    code: str,
    page: Any,  # noqa: F811 - the fixture imported above
    axe_page: Any,  # noqa: F811
    live_url: str,  # noqa: F811
    settings: Settings,
    desk_private_key: PrivateKey,
    axe_violations: Any,
    artifacts_dir: Path,
) -> None:
    html_lang, send, open_tip, leave, delete = LANGUAGES[code]

    def check(name: str, response: Any) -> None:
        """Run axe on the page as served, and keep a screenshot."""
        assert page.locator("html").get_attribute("lang") == html_lang
        assert response.headers["cache-control"] == "no-store"
        axe_page.set_content(response.text(), wait_until="load")
        assert axe_violations(axe_page) == [], f"axe on the {name} page ({code})"
        page.screenshot(path=str(artifacts_dir / f"check-{name}-{code}.png"), full_page=True)

    page.goto(f"{live_url}/form/{code}/")
    page.locator("#topic-1").check()
    page.fill("#message", f"MARKER-FIRST {code}")
    with page.expect_navigation():
        page.get_by_role("button", name=send).click()
    receipt = page.locator(".receipt-code").inner_text().strip()

    # The confirmation links the check page; the typed code may use hyphens.
    with page.expect_navigation() as navigation:
        page.locator(f"a[href='/form/{code}/check/']").click()
    check("lookup", navigation.value)
    page.fill("#receipt", "12345-67890")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name=open_tip).click()
    assert page.locator(".error-summary").count() == 1
    check("lookup-error", navigation.value)

    desk_reply(settings, desk_private_key, f"MARKER-REPLY {code}", dt.date(2026, 12, 2))
    page.fill("#receipt", receipt.replace(" ", "-"))
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name=open_tip).click()
    assert receipt.replace(" ", "") not in page.url.replace("-", "")
    assert f"MARKER-REPLY {code}" in page.locator(".conversation").inner_text()
    check("tip", navigation.value)

    page.fill("#message", f"MARKER-MORE {code}")
    page.set_input_files(
        "#attachments",
        files=[{"name": "more.txt", "mimeType": "text/plain", "buffer": b"more notes\n"}],
    )
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name=send).click()
    assert page.locator(".notice[role=status]").count() == 1
    assert f"MARKER-MORE {code}" not in page.content()
    check("sent", navigation.value)

    with page.expect_navigation() as navigation:
        page.get_by_role("button", name=delete).click()
    assert f"MARKER-REPLY {code}" not in page.content()
    check("deleted", navigation.value)

    with page.expect_navigation() as navigation:
        page.get_by_role("button", name=leave).click()
    check("left", navigation.value)
    assert page.context.cookies() == [] or all(
        cookie["name"] != "check_session" for cookie in page.context.cookies()
    )


def test_every_kind_of_check_page_is_valid_html(
    client: Any,
    settings: Settings,
    desk_private_key: PrivateKey,
    vnu_errors: Any,
    tmp_path: Path,
) -> None:
    pages: dict[str, Any] = {}
    for code in LANGUAGES:
        path = f"/form/{code}/check/"
        receipt = receipt_code(post_tip(client, code))
        pages[f"confirmation-{code}"] = post_tip(client, code)
        pages[f"lookup-{code}"] = client.get(path)
        token = TOKEN_PATTERN.search(pages[f"lookup-{code}"].get_data(as_text=True))
        assert token
        pages[f"miss-{code}"] = client.post(path, data={"csrf_token": token[1], "receipt": "1"})
        client.post(path, data={"csrf_token": token[1], "receipt": receipt})
        pages[f"tip-{code}"] = client.get(path)
        token = TOKEN_PATTERN.search(pages[f"tip-{code}"].get_data(as_text=True))
        assert token
        pages[f"empty-{code}"] = client.post(path + "more", data={"csrf_token": token[1]})
        pages[f"left-{code}"] = client.post(path + "leave", data={"csrf_token": token[1]})
    files = []
    for name, response in pages.items():
        file = tmp_path / f"{name}.html"
        file.write_bytes(response.get_data())
        files.append(file)
    assert vnu_errors(files) == []
