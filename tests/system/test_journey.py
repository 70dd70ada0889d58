"""The whole journey through nginx and TLS in the system Chromium, then the logs it left behind."""

from __future__ import annotations

import re
import secrets
import uuid
from pathlib import Path
from typing import Any

import pyotp
import pytest

from tests.system.conftest import Client, Stack, csrf_token, read_logs, run_the_batch
from tools.stack import prepare as stack_setup

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.xdist_group("stack")

MARKER = f"journey-marker-{uuid.uuid4().hex}"
# A second client address, unused by anything else on this machine, so a leak is unambiguous.
OTHER_CLIENT = "127.0.0.77"
# Unique per process: xdist workers may each walk the journey against the one shared stack.
STAFF_EMAIL = f"journey.{uuid.uuid4().hex[:12]}@example.org"
# Random each run: a strong password without one written in the repository.
STAFF_PASSWORD = secrets.token_urlsafe(18)
IPV4 = re.compile(r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b")


def add_staff_member() -> str:
    """Create the desk account the journey signs in with; return its enrolment code."""
    from form_service.db import make_engine, make_session_factory
    from form_service.models import StaffRole
    from form_service.review.auth.accounts import add_staff, issue_enrolment_code
    from form_service.settings import ReviewSettings

    engine = make_engine(ReviewSettings.from_env(stack_setup.review_env()))
    try:
        with make_session_factory(engine)() as db:
            staff = add_staff(
                db, STAFF_EMAIL, StaffRole.REVIEWER, STAFF_PASSWORD, actor="system-test"
            )
            code = issue_enrolment_code(db, staff, actor="system-test")
            db.commit()
    finally:
        engine.dispose()
    return code


@pytest.fixture(scope="module")
def journey(stack: Stack, browser: Any, artifacts_dir: Path) -> dict[str, str]:
    """Walk the journey once: read, tip with JavaScript off, desk sign-in with TOTP, read it."""
    enrolment_code = add_staff_member()
    seen: dict[str, str] = {}
    public = browser.new_context(java_script_enabled=False, ignore_https_errors=True)
    try:
        page = public.new_page()
        response = page.goto(stack.public + "/en/")
        assert response is not None and response.status == 200
        seen["home"] = page.locator("h1").first.inner_text()
        response = page.goto(stack.public + "/form/en/")
        assert response is not None and response.status == 200
        page.locator("input[name=topic]").first.check()
        page.fill("#message", f"I saw something. {MARKER}")
        page.set_input_files(
            "#attachments",
            files=[{"name": "note.txt", "mimeType": "text/plain", "buffer": b"plain words"}],
        )
        with page.expect_navigation():
            page.locator("form[method=post] button[type=submit]").last.click()
        page.screenshot(path=str(artifacts_dir / "system-journey-receipt.png"), full_page=True)
        seen["receipt"] = page.locator("main").inner_text()
    finally:
        public.close()
    run_the_batch()
    desk = browser.new_context(java_script_enabled=False, ignore_https_errors=True)
    try:
        page = desk.new_page()
        page.goto(stack.desk + "/staff/")
        assert "/staff/sign-in" in page.url
        page.fill("#email", STAFF_EMAIL)
        page.fill("#password", STAFF_PASSWORD)
        with page.expect_navigation():
            page.locator("main form[method=post] button[type=submit]").click()
        page.fill("#enrolment_code", enrolment_code)
        with page.expect_navigation():
            page.locator("main form[method=post] button[type=submit]").click()
        secret = page.locator("#totp-secret").inner_text().replace(" ", "")
        # The desk accepts this step and the next, so the code stays good for 30 s or more.
        page.fill("#code", pyotp.TOTP(secret).now())  # wall clock: the stack keeps the real time
        with page.expect_navigation():
            page.locator("main form[method=post] button[type=submit]").click()
        seen["inbox_url"] = page.url
        # Find this run's tip the way staff would: the inbox search (other tests send tips too).
        page.locator("details.filters summary").click()
        page.fill("#search", MARKER)
        with page.expect_navigation():
            page.locator("form.filter-form button[type=submit]").click()
        with page.expect_navigation():
            page.locator("table.tips a[href*='/staff/tips/']").first.click()
        seen["tip_url"] = page.url
        seen["tip"] = page.locator("main").inner_text()
        download = page.locator("a[href*='/attachments/']").first.get_attribute("href")
        response = desk.request.get(stack.desk + str(download))
        seen["download_csp"] = response.headers.get("content-security-policy", "")
        page.screenshot(path=str(artifacts_dir / "system-journey-tip.png"), full_page=True)
    finally:
        desk.close()
    return seen


def test_a_reader_sends_a_tip_with_javascript_off(journey: dict[str, str]) -> None:
    assert journey["home"].strip()
    assert "Information received" in journey["receipt"]
    assert MARKER not in journey["receipt"]


def test_staff_sign_in_with_totp_and_read_the_tip(journey: dict[str, str], stack: Stack) -> None:
    assert journey["inbox_url"].startswith(stack.desk + "/staff/")
    assert journey["tip_url"].startswith(stack.desk + "/staff/tips/")
    assert MARKER in journey["tip"]


def test_a_download_keeps_the_desks_sandbox_through_nginx(journey: dict[str, str]) -> None:
    # nginx replaces the desk's policy with its own, but must keep the `sandbox` directive.
    directives = [part.strip() for part in journey["download_csp"].split(";")]
    assert "sandbox" in directives
    assert "default-src 'none'" in directives


def test_a_tip_from_another_address_goes_through_too(stack: Stack) -> None:
    client = Client(stack.ca, source_address=OTHER_CLIENT)
    form = client.get(stack.public + "/form/en/")
    response = client.post_form(
        stack.public + "/form/en/",
        {"csrf_token": csrf_token(form.text), "topic": "other", "message": f"From afar {MARKER}"},
        referer=stack.public + "/form/en/",
    )
    assert response.status == 200, response.text[:500]
    # The paths where nginx would log an error naming the client: a failed upstream and a
    # body over the limit.
    assert client.get(stack.public + "/__test__/502").status == 502
    too_large = client.request(
        "POST", stack.public + "/en/", body=b"x" * 70_000, headers={"Content-Type": "text/plain"}
    )
    assert too_large.status == 413


def test_no_log_holds_a_client_address_or_the_tip(journey: dict[str, str], stack: Stack) -> None:
    logs = read_logs(stack)
    access = [text for path, text in logs.items() if path.name == "access.log"]
    # The journey's site pages were logged, its form pages not at all (they would date a tip).
    assert access and '"GET /en/"' in access[0], "the journey must have been logged"
    assert "/form" not in access[0]
    for path, text in logs.items():
        assert MARKER not in text, path
        assert OTHER_CLIENT not in text, path
        assert "client:" not in text, path
        for line in text.splitlines():
            # gunicorn names its own listening address at start; nothing else may hold one.
            if "Listening at: http://127.0.0.1:" in line:
                continue
            assert not IPV4.search(line), f"{path}: {line}"
