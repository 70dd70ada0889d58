"""A staff member works a tip in the system Chromium: sign-in with TOTP, triage, close, export.

Every desk page visited is checked by axe-core (0 violations) and the Nu HTML Checker
(0 errors). A behaviour suite (a person's journey through the whole desk), so it keeps a
behaviour name rather than a module's.
"""

from __future__ import annotations

import json
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyotp
import pytest
from flask import Flask
from nacl.public import PrivateKey
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from form_service.clock import FixedClock
from form_service.crypto import PlainAttachment
from form_service.models import StaffRole
from form_service.review.auth import totp
from form_service.settings import PROJECT_DIR
from tests.form_service.factories import make_staff, make_tip
from tools.devserver import StaticSite, make_dispatcher

pytestmark = pytest.mark.browser


@pytest.fixture
def desk_url(review_app: Flask, tmp_path: Path) -> Iterator[str]:
    """Serve the desk and the theme's stylesheet (as nginx does) on a free loopback port."""
    shutil.copytree(PROJECT_DIR / "theme" / "static", tmp_path / "site" / "theme")
    app = make_dispatcher({"/theme": StaticSite(tmp_path / "site", ["en"])}, review_app)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


class Judge:
    """Run axe-core on each page visited and keep its HTML for the Nu HTML Checker."""

    def __init__(self, page: Any, axe: Any, folder: Path) -> None:
        self.page, self.axe, self.folder = page, axe, folder
        self.files: list[Path] = []
        self.violations: dict[str, Any] = {}

    def check(self, name: str) -> None:
        """Judge the page now showing."""
        found = self.axe(self.page)
        if found:
            self.violations[name] = found
        path = self.folder / f"{len(self.files):02d}-{name}.html"
        path.write_text(self.page.content(), encoding="utf-8")
        self.page.screenshot(path=path.with_suffix(".png"), full_page=True)
        self.files.append(path)


def submit(page: Any, form_selector: str) -> None:
    """Click the submit button of one form and wait for the next page."""
    with page.expect_navigation():
        page.locator(f"{form_selector} button[type=submit]").click()


def test_staff_member_signs_in_works_a_tip_to_closed_and_exports(
    desk_url: str,
    db: Session,
    desk_private_key: PrivateKey,
    browser: Any,
    axe_violations: Any,
    vnu_errors: Any,
    artifacts_dir: Path,
    db_url: str,
    clock: FixedClock,
) -> None:
    account = make_staff(db, desk_private_key, "admin@example.org", StaffRole.ADMIN, enrolled=False)
    tip = make_tip(
        db,
        desk_private_key,
        fields={
            "message": "<script>alert(1)</script> seen at https://example.org \u202eexe.txt",
            "when_where": "1983, Niigata",
            "how_known": "",
            "contact": '=HYPERLINK("x")',
        },
        files=[PlainAttachment(b"%PDF-1.4", "application/pdf", "scan.pdf")],
    )
    make_tip(db, desk_private_key)
    folder = artifacts_dir / f"review-browser-{'pg' if 'postgres' in db_url else 'sqlite'}"
    folder.mkdir(exist_ok=True)
    context = browser.new_context(accept_downloads=True, locale="en-GB")
    page = context.new_page()
    judge = Judge(page, axe_violations, folder)
    try:
        page.goto(f"{desk_url}/sign-in")
        judge.check("sign-in")
        page.get_by_label("E-mail address").fill(account.email)
        page.get_by_label("Password").fill(account.password)
        submit(page, "form.desk-form")
        assert "/sign-in/enrol" in page.url
        judge.check("enrolment-code")
        page.get_by_label("Enrolment code").fill(account.enrolment_code or "")
        submit(page, "form.desk-form")
        judge.check("enrol")
        assert page.locator(".qr svg").count() == 1
        secret = page.locator("#totp-secret").inner_text().replace(" ", "")
        step = totp.current_step(clock.timestamp())
        page.get_by_label("Six-digit code from your authenticator app").fill(
            pyotp.TOTP(secret).at(step * 30)
        )
        submit(page, "form.desk-form")
        assert page.url == f"{desk_url}/"
        judge.check("inbox")

        with page.expect_navigation():  # judge the tip page, never the inbox it replaces
            page.locator(f'a[href="/tips/{tip.tip_id}"]').click()
        judge.check("tip-new")
        assert page.locator("script").count() == 0
        assert "[U+202E]" in page.locator(".tip-fields").inner_text()
        assert page.locator(".tip-fields a").count() == 0
        for status in ("triaged", "in_progress", "forwarded"):
            page.locator("#status").select_option(status)
            submit(page, f'form[action="/tips/{tip.tip_id}/status"]')
        page.locator("#status").select_option("closed")
        page.get_by_label("Reason for closing").fill("Passed to the investigators")
        submit(page, f'form[action="/tips/{tip.tip_id}/status"]')
        page.locator("#label").fill("police")
        submit(page, f'form[action="/tips/{tip.tip_id}/labels"]')
        page.locator("#note_text").fill("Called the police liaison.")
        submit(page, f'form[action="/tips/{tip.tip_id}/notes"]')
        judge.check("tip-closed")
        history = page.locator("table.history").inner_text()
        assert "Forwarded → Closed" in history
        with page.expect_download() as download_info:
            page.get_by_role("link", name="Download file 1").click()
        assert download_info.value.suggested_filename == (
            f"tip-{tip.tip_id}-attachment-{tip.attachments[0].attachment_id}.pdf"
        )

        page.goto(f"{desk_url}/?status=closed")
        judge.check("inbox-closed")
        page.get_by_label("Format").select_option("json")
        with page.expect_download() as download_info:
            page.get_by_role("button", name="Export").click()
        exported = json.loads(Path(download_info.value.path()).read_text(encoding="utf-8"))
        assert [row["tip_id"] for row in exported] == [str(tip.tip_id)]
        assert exported[0]["contact"].startswith("'=")

        page.goto(f"{desk_url}/dashboard")
        judge.check("dashboard")
        page.goto(f"{desk_url}/audit")
        judge.check("audit")
        page.goto(f"{desk_url}/tips/999999")
        judge.check("not-found")
        with page.expect_navigation():
            page.get_by_role("link", name="日本語").click()
        judge.check("not-found-ja")
        page.goto(f"{desk_url}/")
        judge.check("inbox-ja")
        page.get_by_role("button", name="サインアウト").click()
        page.wait_for_url(re.compile(r".*/sign-in$"))
        page.get_by_label("メールアドレス").fill(account.email)
        page.get_by_label("パスワード").fill(account.password)
        submit(page, "form.desk-form")
        judge.check("code-ja")
        page.get_by_label("認証アプリの6桁のコード").fill(pyotp.TOTP(secret).at((step + 1) * 30))
        submit(page, "form.desk-form")
        assert page.url == f"{desk_url}/"
    finally:
        context.close()
    assert judge.violations == {}
    assert vnu_errors(judge.files) == []
