"""What one intake app holds: the shared state, its write lock and the desk's public key."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from nacl.public import PublicKey

from form_service.frame import AppState, current_state
from form_service.intake.checks import CheckSessions, Spend
from form_service.intake.limits import Limits
from form_service.settings import IntakeSettings


@dataclass(frozen=True, kw_only=True)
class IntakeState(AppState):
    """The intake app's shared objects; it never holds a private key."""

    settings: IntakeSettings
    write_lock: Callable[[], AbstractContextManager[None]]
    desk_public_key: PublicKey
    # Sessions after a receipt lookup, and the lookup's limits (per session and overall).
    check_sessions: CheckSessions
    lookup_limits: Spend
    # Tips per form session and overall (limits.py); lookup_limits is its spend.
    limits: Limits
    # Rendered pages that hold no request data, per language, with slots for the one
    # value that changes (the CSRF token, the receipt code): see pages.render_cached.
    page_cache: dict[tuple[str, str], str] = field(default_factory=dict)


def intake_state() -> IntakeState:
    """Return the state of the current intake app."""
    return current_state(IntakeState)
