"""What the desk process holds, and the request's database session and staff member."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import cast

from flask import g
from nacl.public import PrivateKey
from sqlalchemy.orm import Session

from form_service.frame import AppState, current_state
from form_service.models import Staff, StaffSession
from form_service.review import deadlines
from form_service.review.auth import sessions
from form_service.review.auth.throttle import SignInThrottle
from form_service.review.inbox import AsOf
from form_service.review.search import SearchTexts
from form_service.settings import ReviewSettings


@dataclass(frozen=True, kw_only=True)
class DeskState(AppState):
    """The desk's shared objects: its settings, the unlocked key and search texts (memory only)."""

    settings: ReviewSettings
    private_key: PrivateKey
    throttle: SignInThrottle
    search_texts: SearchTexts


def desk() -> DeskState:
    """Return the running desk's state."""
    return current_state(DeskState)


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


def as_of() -> AsOf:
    """Return what deadline filters need today: the office's deadlines, the day, the dialect."""
    return AsOf(
        deadlines.Policy.from_settings(desk().settings),
        desk().clock.today(),
        db().get_bind().dialect.name,
    )


def staff_sessions(staff_id: int) -> list[StaffSession]:
    """Return the live signed-in sessions of a staff member, on the desk's clock and timeouts."""
    settings = desk().settings
    return sessions.live_sessions(
        db(),
        staff_id,
        idle=timedelta(minutes=settings.idle_minutes),
        absolute=timedelta(hours=settings.absolute_hours),
        now=desk().clock.now(),
    )


def current_staff() -> Staff:
    """Return the signed-in staff member (the guard has made sure there is one)."""
    return cast(Staff, g.staff)
