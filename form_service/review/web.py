"""Request plumbing of the desk: its state, the database session and the deny-by-default guard."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import cast

from flask import Flask, Response, abort, current_app, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask.typing import ResponseReturnValue
from nacl.public import PrivateKey
from sqlalchemy.orm import Session, sessionmaker

from form_service.review.sessions import load_session
from form_service.review.settings import ReviewSettings
from form_service.review.throttle import SignInThrottle
from form_service.settings import Settings
from form_service.staff import SessionStage, Staff, StaffRole

# The only endpoints a visitor without a complete sign-in may reach. Everything else,
# including routes added later, redirects to sign-in: the guard denies by default.
PUBLIC_ENDPOINTS = frozenset({"review.sign_in", "review.set_language", "review.stylesheet"})
# Reachable after the password, before the second factor.
SECOND_FACTOR_ENDPOINTS = frozenset(
    {"review.enrol_second_factor", "review.verify_second_factor", "review.sign_out"}
)
ADMIN_ENDPOINTS = frozenset({"review.export_tips", "review.audit_log"})
TOKEN_KEY = "token"  # noqa: S105 - the session key name, not a secret
_SAFE_NEXT = re.compile(r"/(?![/\\])[A-Za-z0-9/_\-.~%?=&+]*")


@dataclass(frozen=True)
class Desk:
    """What the desk process holds: settings, the unlocked key (memory only), shared helpers."""

    settings: Settings
    review: ReviewSettings
    private_key: PrivateKey
    session_factory: sessionmaker[Session]
    throttle: SignInThrottle


def desk() -> Desk:
    """Return the running desk's state."""
    return cast(Desk, current_app.extensions["desk"])


def db() -> Session:
    """Return this request's database session, opening it on first use."""
    if "db" not in g:
        g.db = desk().session_factory()
    return cast(Session, g.db)


def close_db(_: BaseException | None = None) -> None:
    """Close the request's database session (rolling back anything uncommitted)."""
    database = g.pop("db", None)
    if database is not None:
        database.close()


def current_staff() -> Staff:
    """Return the signed-in staff member (the guard has made sure there is one)."""
    return cast(Staff, g.staff)


def safe_next(value: str | None) -> str | None:
    """Return value if it is a path inside the desk (one leading slash), else None."""
    if value and _SAFE_NEXT.fullmatch(value) and "//" not in value:
        return value
    return None


def _load_staff() -> None:
    """Find the session record behind the cookie and put its staff member on g."""
    g.staff, g.stage = None, None
    settings = desk().review
    found = load_session(
        db(),
        session.get(TOKEN_KEY),
        idle=timedelta(minutes=settings.idle_minutes),
        absolute=timedelta(hours=settings.absolute_hours),
    )
    if found is not None:
        record, g.staff = found
        g.stage = SessionStage(record.stage)


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


class DeskSessionInterface(SecureCookieSessionInterface):
    """The signed cookie (token, CSRF secret, language) scoped to the desk's own path."""

    def get_cookie_path(self, app: Flask) -> str:
        """Send the cookie only to the desk (/staff/ under the development server)."""
        return (request.script_root or "") + "/"


CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def secure_headers(response: Response) -> Response:
    """Keep desk pages out of every cache and lock down what a page may load or do."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    # same-origin, not no-referrer: Flask-WTF checks the Referer on HTTPS posts.
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    response.headers.setdefault("Content-Security-Policy", CSP)
    return response
