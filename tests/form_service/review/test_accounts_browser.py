"""Accounts in the system Chromium: an admin invites, the invitee enrols through the link.

Every page visited, in English and Japanese, is judged by axe-core (0 violations) and the
Nu HTML Checker (0 errors), as in test_browser.py, whose server fixture and judge it reuses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyotp
import pytest
from nacl.public import PrivateKey
from sqlalchemy.orm import Session

from form_service.clock import FixedClock
from form_service.models import StaffRole
from form_service.review.auth import totp
from tests.form_service.factories import make_staff
from tests.form_service.review.test_browser import Judge, desk_url, submit

__all__ = ["desk_url"]  # the fixture, imported so this module's tests can use it

pytestmark = pytest.mark.browser
NEW_PASSWORD = "walnut harbour lantern gymnast"  # noqa: S105 - a test account's password


def sign_in_page(page: Any, url: str, email: str, password: str, code: str) -> None:
    """Sign in through the pages with a password and an authenticator code."""
    page.goto(f"{url}/sign-in")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(password)
    submit(page, "form.desk-form")
    page.get_by_label("Six-digit code from your authenticator app").fill(code)
    submit(page, "form.desk-form")


def test_an_admin_invites_a_reviewer_who_enrols_through_the_link(
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
    step = totp.current_step(clock.timestamp())
    folder = artifacts_dir / f"accounts-browser-{'pg' if 'postgres' in db_url else 'sqlite'}"
    folder.mkdir(exist_ok=True)
    admin_context = browser.new_context(locale="en-GB")
    invitee_context = browser.new_context(locale="en-GB")
    page = admin_context.new_page()
    judge = Judge(page, axe_violations, folder)
    try:
        sign_in_page(
            page, desk_url, admin.email, admin.password, pyotp.TOTP(admin.secret).at(step * 30)
        )
        page.get_by_role("link", name="Accounts").click()
        page.wait_for_url(f"{desk_url}/accounts")
        judge.check("accounts")
        page.get_by_label("E-mail address").fill("new.reviewer@example.org")
        page.get_by_label("Role").select_option("reviewer")
        submit(page, "form.desk-form")
        judge.check("invitation-link")
        link = page.locator("#invitation-link").inner_text()

        invitee = invitee_context.new_page()
        invitee_judge = Judge(invitee, axe_violations, folder)
        invitee.goto(link)
        invitee_judge.check("invitation")
        invitee.get_by_label("New password", exact=True).fill("too short")
        invitee.get_by_label("New password again").fill("too short")
        submit(invitee, "form.desk-form")
        invitee_judge.check("invitation-error")
        invitee.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
        invitee.get_by_label("New password again").fill(NEW_PASSWORD)
        submit(invitee, "form.desk-form")
        assert "/sign-in/enrol" in invitee.url
        secret = invitee.locator("#totp-secret").inner_text().replace(" ", "")
        invitee.get_by_label("Six-digit code from your authenticator app").fill(
            pyotp.TOTP(secret).at(step * 30)
        )
        submit(invitee, "form.desk-form")
        assert invitee.url == f"{desk_url}/"
        invitee.goto(link)
        invitee_judge.check("invitation-gone")

        # The reviewer's own page: recovery codes, then a sign-in with one of them.
        invitee.goto(f"{desk_url}/")
        with invitee.expect_navigation():
            invitee.get_by_role("link", name="Your account").click()
        invitee_judge.check("own-account")
        invitee.locator("#codes-current_password").fill(NEW_PASSWORD)
        submit(invitee, 'form[action="/account/recovery-codes"]')
        invitee_judge.check("recovery-codes")
        codes = invitee.locator("#recovery-codes code").all_inner_texts()
        assert len(codes) == 10
        invitee.get_by_role("button", name="Sign out").click()
        invitee.wait_for_url(f"{desk_url}/sign-in")
        invitee.get_by_label("E-mail address").fill("new.reviewer@example.org")
        invitee.get_by_label("Password").fill(NEW_PASSWORD)
        submit(invitee, "form.desk-form")
        with invitee.expect_navigation():
            invitee.get_by_role("link", name="Use a recovery code").click()
        invitee_judge.check("recovery-sign-in")
        invitee.get_by_label("Recovery code").fill(codes[0])
        submit(invitee, "form.desk-form")
        assert invitee.url == f"{desk_url}/"
        with invitee.expect_navigation():
            invitee.get_by_role("link", name="日本語").click()
        invitee.goto(f"{desk_url}/account")
        invitee_judge.check("own-account-ja")

        page.goto(f"{desk_url}/accounts")
        with page.expect_navigation():
            page.get_by_role("link", name="new.reviewer@example.org").click()
        judge.check("account")
        submit(page, 'form[action$="/disable"]')
        judge.check("account-disabled")
        submit(page, 'form[action$="/enable"]')
        submit(page, 'form[action$="/second-factor"]')
        judge.check("enrolment-code")
        with page.expect_navigation():
            page.get_by_role("link", name="日本語").click()
        page.goto(f"{desk_url}/accounts")
        judge.check("accounts-ja")
        with page.expect_navigation():
            page.get_by_role("link", name="new.reviewer@example.org").click()
        judge.check("account-ja")
        files = judge.files + invitee_judge.files
        violations = {**judge.violations, **invitee_judge.violations}
    finally:
        admin_context.close()
        invitee_context.close()
    assert violations == {}
    assert vnu_errors(files) == []
