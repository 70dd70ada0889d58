"""The desk runs itself, as one story: the first admin from the CLI invites a reviewer in the
desk; the reviewer sets a password and enrols TOTP through the link and works a tip;
`form-service notify` delivers its content-free notice to a real SMTP sink; a tip nobody
acknowledged for ten days is flagged overdue in the inbox.

A behaviour suite (a journey across accounts, tips, notices and deadlines), so it keeps a
behaviour name. Every step goes through the real pages and the real command, on both
databases and on the app's fixed clock.
"""

from __future__ import annotations

import re
from datetime import timedelta

import click
import pyotp
from click.testing import CliRunner, Result
from flask import Flask
from nacl.public import PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from form_service import notify as notices
from form_service.cli import cli
from form_service.clock import FixedClock
from form_service.models import AuditEntry, Staff, TipStatus, TipTriage
from form_service.review.auth import totp
from form_service.settings import ReviewSettings
from tests.form_service.cli.test_notify import mail_env
from tests.form_service.factories import FIXED_MOMENT, PASSWORD, make_tip
from tests.form_service.review.helpers import csrf_token
from tests.form_service.smtp import Sink

REVIEWER_PASSWORD = "walnut harbour lantern gymnast"  # noqa: S105 - a test account's password


def form_service(
    settings: ReviewSettings, *args: str, stdin: str | None = None, **extra: str
) -> Result:
    """Run the real `form-service` command group against the test database."""
    env = {
        "FORM_SERVICE_REVIEW_SECRET_KEY": settings.secret_key,
        "FORM_SERVICE_DATABASE_URL": settings.database_url,
        "FORM_SERVICE_ENV": "development",
        **extra,
    }
    group: click.Group = cli
    return CliRunner().invoke(group, list(args), input=stdin, env=env)


def post(client: object, path: str, form_page: str, **data: str) -> object:
    """Post a desk form with the CSRF token a browser would have read off form_page."""
    token = csrf_token(client, form_page)  # type: ignore[arg-type]
    return client.post(path, data={"csrf_token": token, **data})  # type: ignore[attr-defined]


def enrol_with_page_secret(client: object, clock: FixedClock) -> None:
    """Read the new authenticator key off the enrolment page and confirm a first code."""
    page = client.get("/sign-in/enrol").get_data(as_text=True)  # type: ignore[attr-defined]
    secret = re.search(r'<code id="totp-secret">([^<]+)</code>', page).group(1)  # type: ignore[union-attr]
    code = pyotp.TOTP(secret.replace(" ", "")).at(
        totp.current_step(clock.timestamp()) * totp.STEP_SECONDS
    )
    response = post(client, "/sign-in/enrol", "/sign-in/enrol", code=code)
    assert response.status_code == 302, response.get_data(as_text=True)  # type: ignore[attr-defined]


def test_an_admin_invites_a_reviewer_who_enrols_works_a_tip_and_is_reminded(
    review_app: Flask,
    review_settings: ReviewSettings,
    db: Session,
    desk_private_key: PrivateKey,
    clock: FixedClock,
    smtp_sink: Sink,
) -> None:
    fresh = make_tip(db, desk_private_key)
    waiting = make_tip(db, desk_private_key, received_on=FIXED_MOMENT.date() - timedelta(days=10))

    # 1. The first admin comes from the command line, with a one-time enrolment code.
    added = form_service(
        review_settings, "staff", "add", "admin@example.org", "--role", "admin", stdin=PASSWORD
    )
    assert added.exit_code == 0, added.output
    enrolment_code = added.output.rsplit(": ", 1)[1].strip()
    admin = review_app.test_client()
    post(admin, "/sign-in", "/sign-in", email="admin@example.org", password=PASSWORD)
    post(admin, "/sign-in/enrol", "/sign-in/enrol", enrolment_code=enrolment_code)
    enrol_with_page_secret(admin, clock)

    # 2. The admin invites a reviewer in the desk: the link is shown once.
    shown = post(
        admin, "/accounts/invite", "/accounts", email="reviewer@example.org", role="reviewer"
    )
    link = re.search(r'<code id="invitation-link">([^<]+)</code>', shown.get_data(as_text=True))  # type: ignore[attr-defined]
    assert link is not None
    path = link.group(1).replace("&amp;", "&").split("//", 1)[1].split("/", 1)[1]

    # 3. The reviewer sets a password through the link and enrols an authenticator.
    reviewer = review_app.test_client()
    response = post(
        reviewer,
        "/invitation",
        f"/{path}",
        code=path.split("code=", 1)[1],
        new_password=REVIEWER_PASSWORD,
        repeat_password=REVIEWER_PASSWORD,
    )
    assert response.headers["Location"] == "/sign-in/enrol"  # type: ignore[attr-defined]
    enrol_with_page_secret(reviewer, clock)
    assert reviewer.get("/").status_code == 200
    assert reviewer.get("/accounts").status_code == 403  # reviewers never reach admin pages

    # 4. The reviewer works the fresh tip: takes it, triages it, notes what was done.
    me = db.scalar(select(Staff).where(Staff.email == "reviewer@example.org"))
    assert me is not None
    tip_page = f"/tips/{fresh.tip_id}"
    post(reviewer, f"{tip_page}/assignee", tip_page, assignee=str(me.staff_id))
    post(reviewer, f"{tip_page}/status", tip_page, status="triaged", reason="")
    post(reviewer, f"{tip_page}/notes", tip_page, note_text="Checked the place names.")
    db.expire_all()
    triage = db.get(TipTriage, fresh.tip_id)
    assert triage is not None and triage.assignee_id == me.staff_id
    assert db.get(type(fresh), fresh.tip_id).status == TipStatus.TRIAGED  # type: ignore[union-attr]

    # 5. The timer's `form-service notify` sends its one notice, which says nothing.
    sent = form_service(review_settings, "notify", **mail_env(smtp_sink.port))
    assert sent.exit_code == 0 and "Notice sent." in sent.output, sent.output
    assert len(smtp_sink.deliveries) == 1
    notice = smtp_sink.deliveries[0].message
    assert notice["Subject"] == notices.SUBJECT
    assert notice.get_content().strip() == notices.BODY.strip()

    # 6. The tip nobody acknowledged in ten days is flagged overdue (7 days allowed).
    overdue = reviewer.get("/?deadline=overdue").get_data(as_text=True)
    assert f'href="/tips/{waiting.tip_id}"' in overdue
    assert f'href="/tips/{fresh.tip_id}"' not in overdue
    assert "overdue by 3 days" in overdue

    reviewed = db.scalars(
        select(AuditEntry.action)
        .where(AuditEntry.tip_id == fresh.tip_id)
        .order_by(AuditEntry.entry_id)
    )
    # Each post follows a view of the tip page (its CSRF token was read there).
    worked = ["tip.view", "tip.assign", "tip.view", "tip.status", "tip.view", "tip.note"]
    assert list(reviewed) == worked
    actions = set(db.scalars(select(AuditEntry.action)))
    assert {"staff.add", "staff.invite", "staff.invitation_accepted", "staff.enrol_2fa"} <= actions
