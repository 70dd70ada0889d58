"""The desk's deny-by-default guard: who may reach which endpoint, and safe redirects."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import abort, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue

from form_service.models import SessionStage, StaffRole
from form_service.review.auth.sessions import load_session
from form_service.review.state import db, desk

# The only endpoints a visitor without a complete sign-in may reach. Everything else,
# including routes added later, redirects to sign-in: the guard denies by default.
# The invitation page is the invitee's way in: its link carries a one-time enrolment code.
PUBLIC_ENDPOINTS = frozenset({"review.sign_in", "review.set_language", "review.accept_invitation"})
# Reachable after the password, before the second factor.
SECOND_FACTOR_ENDPOINTS = frozenset(
    {
        "review.enrol_second_factor",
        "review.verify_second_factor",
        "review.recovery_second_factor",
        "review.sign_out",
    }
)
# The dashboard's figures cover every tip, so it is an admin's page like the exports.
ADMIN_ENDPOINTS = frozenset(
    {
        "review.export_tips",
        "review.audit_log",
        "review.dashboard",
        "review.reply_templates",
        "review.delete_reply_template",
        "review.list_accounts",
        "review.invite_staff",
        "review.show_account",
        "review.change_role",
        "review.disable_account",
        "review.enable_account",
        "review.end_account_sessions",
        "review.reset_account_second_factor",
    }
)
TOKEN_KEY = "token"  # noqa: S105 - the session key name, not a secret
_SAFE_NEXT = re.compile(r"/(?![/\\])[A-Za-z0-9/_\-.~%?=&+]*")


def safe_next(value: str | None) -> str | None:
    """Return value if it is a path inside the desk (one leading slash), else None."""
    if value and _SAFE_NEXT.fullmatch(value) and "//" not in value:
        return value
    return None


def _load_staff() -> None:
    """Find the session record behind the cookie and put its staff member on g."""
    g.staff, g.stage, g.session_record = None, None, None
    settings = desk().settings
    found = load_session(
        db(),
        session.get(TOKEN_KEY),
        idle=timedelta(minutes=settings.idle_minutes),
        absolute=timedelta(hours=settings.absolute_hours),
        now=desk().clock.now(),
    )
    if found is not None:
        record, g.staff = found
        g.stage = SessionStage(record.stage)
        g.session_record = record


def guard() -> ResponseReturnValue | None:
    """Let a request through only if its endpoint is public or its staff member may use it."""
    endpoint = request.endpoint
    if endpoint is None:
        return None  # No route matched: Flask answers 404 or 405.
    _load_staff()
    if endpoint in PUBLIC_ENDPOINTS:
        return None
    if g.staff is None:
        return redirect(url_for("review.sign_in", next=request.full_path.rstrip("?")))
    if g.stage != SessionStage.SIGNED_IN:
        if endpoint in SECOND_FACTOR_ENDPOINTS:
            return None
        return redirect(url_for("review.sign_in"))
    if endpoint in ADMIN_ENDPOINTS and g.staff.role != StaffRole.ADMIN:
        abort(403)
    return None
