"""Reply templates in the system Chromium: an admin keeps them, a reply starts from one.

Every page visited (the template page empty, with an error, with a template, in Japanese; the
tip page offering it, filled from it, after the reply) is judged by axe-core (0 violations)
and the Nu HTML Checker (0 errors), with test_browser.py's server fixture and judge.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyotp
import pytest
from nacl.public import PrivateKey
from sqlalchemy.orm import Session

from form_service.clock import FixedClock
from form_service.models import StaffRole, TipReplyKey
from form_service.replykeys import new_reply_key
from form_service.review.auth import totp
from tests.form_service.factories import make_staff, make_tip
from tests.form_service.review.test_accounts_browser import sign_in_page
from tests.form_service.review.test_browser import Judge, desk_url, submit

__all__ = ["desk_url"]  # the fixture, imported so this module's tests can use it

pytestmark = pytest.mark.browser


def test_an_admin_keeps_reply_templates_and_a_reply_starts_from_one(
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
    admin = make_staff(db, desk_private_key, "admin@example.org", StaffRole.ADMIN)
    assert admin.secret is not None
    tip = make_tip(db, desk_private_key, language="ja")
    reply_key = new_reply_key("12345 67890 12345 67890 12345")
    db.add(TipReplyKey(tip_id=tip.tip_id, salt=reply_key.salt, public_key=reply_key.public_key))
    db.commit()
    step = totp.current_step(clock.timestamp())
    folder = artifacts_dir / f"replies-browser-{'pg' if 'postgres' in db_url else 'sqlite'}"
    folder.mkdir(exist_ok=True)
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    judge = Judge(page, axe_violations, folder)
    try:
        code = pyotp.TOTP(admin.secret).at(step * 30)
        sign_in_page(page, desk_url, admin.email, admin.password, code)
        page.get_by_role("link", name="Reply templates").click()
        page.wait_for_url(f"{desk_url}/reply-templates")
        judge.check("templates-empty")
        assert "No templates yet." in page.content()

        # Spaces only: the browser lets them through, the server must refuse them.
        page.locator("#title").fill("   ")
        page.locator("#body").fill("   ")
        submit(page, "form.desk-form")
        assert page.locator(".error-summary, .field-error, [aria-invalid=true]").count() > 0
        judge.check("templates-error")

        page.locator("#language").select_option("ja")
        page.locator("#title").fill("Which year?")
        page.locator("#body").fill("何年のことか教えていただけますか。")
        submit(page, "form.desk-form")
        assert page.locator("table.templates tbody tr").count() == 1
        judge.check("templates-one")

        with page.expect_navigation():
            page.get_by_role("link", name="日本語").click()
        assert page.locator("html").get_attribute("lang") == "ja"
        judge.check("templates-ja")

        page.goto(f"{desk_url}/tips/{tip.tip_id}")
        judge.check("tip-template-offered")
        page.locator("#template").select_option(label="Which year?")
        with page.expect_navigation():
            page.locator('form[method="get"] button[type=submit]').click()
        assert page.locator("#reply_text").input_value() == "何年のことか教えていただけますか。"
        judge.check("tip-template-used")
        submit(page, f'form[action="/tips/{tip.tip_id}/replies"]')
        assert page.locator(".conversation, ol").filter(has_text="何年のこと").count() > 0
        judge.check("tip-replied")
    finally:
        context.close()
    assert judge.violations == {}
    assert vnu_errors(judge.files) == []
