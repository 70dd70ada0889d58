"""What one intake app holds: settings, languages, the database and the desk's public key."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from flask import current_app
from nacl.public import PublicKey
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from form_service.languages import Language
from form_service.settings import Settings

EXTENSION = "form_service.intake"


@dataclass(frozen=True)
class IntakeState:
    """The intake app's shared objects; it never holds a private key."""

    settings: Settings
    languages: tuple[Language, ...]
    engine: Engine
    session_factory: sessionmaker[Session]
    write_lock: Callable[[], AbstractContextManager[None]]
    desk_public_key: PublicKey
    stylesheet_url: str
    # Rendered pages that hold no request data, per language, with slots for the one
    # value that changes (the CSRF token, the receipt code): see pages.render_cached.
    page_cache: dict[tuple[str, str], str] = field(default_factory=dict)


def intake_state() -> IntakeState:
    """Return the state of the current intake app."""
    state: IntakeState = current_app.extensions[EXTENSION]
    return state
