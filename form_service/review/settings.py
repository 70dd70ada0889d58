"""Settings of the review desk only, read from FORM_SERVICE_* variables; no secret defaults."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path


class ReviewSettingsError(ValueError):
    """Raised when the environment lacks a value the desk cannot run without."""


@dataclass(frozen=True, kw_only=True)
class ReviewSettings:
    """What the staff desk needs beyond the shared core's Settings (which holds the database,
    the rate-limit storage and the cookie_secure switch)."""

    secret_key: str = field(repr=False)
    desk_key_file: Path | None = None
    desk_passphrase: str | None = field(default=None, repr=False)
    retention_days: int = 365
    idle_minutes: int = 30
    absolute_hours: int = 12
    # Failed sign-in attempts allowed per account per minute before it must wait.
    attempts_per_minute: int = 5

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ReviewSettings:
        """Read the desk's settings from the environment (FORM_SERVICE_* variables)."""
        env = os.environ if environ is None else environ
        # Its own secret, so a leaked intake secret cannot forge desk cookies (and vice versa).
        secret = env.get("FORM_SERVICE_REVIEW_SECRET_KEY", "")
        if len(secret) < 32:
            raise ReviewSettingsError("FORM_SERVICE_REVIEW_SECRET_KEY must hold 32+ random chars")
        key_file = env.get("FORM_SERVICE_DESK_KEY_FILE")
        return cls(
            secret_key=secret,
            desk_key_file=Path(key_file) if key_file else None,
            desk_passphrase=_passphrase(env),
            retention_days=retention_days_from_env(env),
        )


def _passphrase(env: Mapping[str, str]) -> str | None:
    """Return the desk key passphrase from a file (preferred) or the environment."""
    path = env.get("FORM_SERVICE_DESK_PASSPHRASE_FILE")
    if path:
        return Path(path).read_text(encoding="utf-8").rstrip("\n")
    return env.get("FORM_SERVICE_DESK_PASSPHRASE")


def retention_days_from_env(environ: Mapping[str, str] | None = None) -> int:
    """Return FORM_SERVICE_RETENTION_DAYS (default 365) without needing the desk's secrets."""
    env = os.environ if environ is None else environ
    days = int(env.get("FORM_SERVICE_RETENTION_DAYS", "365"))
    if days < 1:
        raise ReviewSettingsError("FORM_SERVICE_RETENTION_DAYS must be at least 1")
    return days
