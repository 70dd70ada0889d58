"""Read the service's settings from the environment into one frozen object."""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

PREFIX = "FORM_SERVICE_"
PROJECT_DIR = Path(__file__).resolve().parent.parent
ENVIRONMENTS = ("production", "development")
# A tab left open overnight must still post: the token lives at least a day.
MIN_CSRF_TIME_LIMIT = 24 * 3600
MIN_SECRET_LENGTH = 32
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class SettingsError(ValueError):
    """A setting is missing or invalid; the service must not start."""


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Hold every setting of the tip service; secrets are kept out of repr()."""

    secret_key: str = field(repr=False)
    receipt_pepper: str = field(repr=False)
    desk_public_key: str
    database_url: str
    environment: str = "production"
    debug: bool = False
    instance_dir: Path = PROJECT_DIR / "instance"
    theme_dir: Path = PROJECT_DIR / "theme"
    site_url: str = "http://127.0.0.1:8000"
    ratelimit_storage_url: str = "memory://"
    ratelimit_submit: str = "20 per hour; 100 per day"
    proxy_fix_x_for: int = 0
    csrf_time_limit: int = 2 * 24 * 3600
    cookie_secure: bool = True
    log_level: str = "WARNING"
    sqlite_busy_timeout_ms: int = 5000

    def __post_init__(self) -> None:
        """Refuse settings the service must not run with."""
        problems = list(self._problems())
        if problems:
            raise SettingsError("; ".join(problems))

    def _problems(self) -> list[str]:
        """List what is wrong with these settings."""
        problems = []
        for name in ("secret_key", "receipt_pepper"):
            if len(getattr(self, name)) < MIN_SECRET_LENGTH:
                env = PREFIX + name.upper()
                problems.append(f"{env} must be at least {MIN_SECRET_LENGTH} characters")
        if self.secret_key == self.receipt_pepper:
            problems.append("the secret key and the receipt pepper must differ")
        if decode_public_key(self.desk_public_key) is None:
            problems.append(f"{PREFIX}DESK_PUBLIC_KEY must be a base64 X25519 public key")
        if self.environment not in ENVIRONMENTS:
            problems.append(f"{PREFIX}ENV must be one of {', '.join(ENVIRONMENTS)}")
        if self.debug and self.environment == "production":
            problems.append("debug mode is not allowed in production")
        if self.csrf_time_limit < MIN_CSRF_TIME_LIMIT:
            problems.append(f"{PREFIX}CSRF_TIME_LIMIT must be at least {MIN_CSRF_TIME_LIMIT}")
        if self.proxy_fix_x_for < 0:
            problems.append(f"{PREFIX}PROXY_FIX_X_FOR must not be negative")
        if self.log_level not in LOG_LEVELS:
            problems.append(f"{PREFIX}LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
        if not self.database_url:
            problems.append(f"{PREFIX}DATABASE_URL must not be empty")
        return problems

    @property
    def is_sqlite(self) -> bool:
        """Tell whether the database is the embedded SQLite."""
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from FORM_SERVICE_* variables; secrets have no default."""
        env = os.environ if environ is None else environ

        def get(name: str) -> str | None:
            return env.get(PREFIX + name) or None

        missing = [
            PREFIX + name
            for name in ("SECRET_KEY", "RECEIPT_PEPPER", "DESK_PUBLIC_KEY")
            if get(name) is None
        ]
        if missing:
            raise SettingsError("missing required settings: " + ", ".join(missing))
        instance_dir = Path(get("INSTANCE_DIR") or PROJECT_DIR / "instance").resolve()
        options: dict[str, object] = {
            "secret_key": get("SECRET_KEY"),
            "receipt_pepper": get("RECEIPT_PEPPER"),
            "desk_public_key": get("DESK_PUBLIC_KEY"),
            "database_url": get("DATABASE_URL")
            or f"sqlite:///{instance_dir / 'form_service.sqlite3'}",
            "instance_dir": instance_dir,
        }
        for name, (attribute, convert) in _OPTIONAL.items():
            raw = get(name)
            if raw is not None:
                options[attribute] = convert(PREFIX + name, raw)
        return cls(**options)  # type: ignore[arg-type]


def decode_public_key(text: str) -> bytes | None:
    """Decode a base64 X25519 public key, or return None if it is not one."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == 32 else None


def _to_bool(name: str, raw: str) -> bool:
    """Parse a yes/no environment value strictly."""
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be true or false")


def _to_int(name: str, raw: str) -> int:
    """Parse an integer environment value."""
    try:
        return int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer") from None


def _to_str(name: str, raw: str) -> str:
    """Keep a text environment value as it is."""
    return raw.strip()


def _to_path(name: str, raw: str) -> Path:
    """Resolve a directory environment value."""
    return Path(raw).resolve()


_Converter = Callable[[str, str], object]
# Environment name (after the prefix) -> (Settings attribute, parser).
_OPTIONAL: dict[str, tuple[str, _Converter]] = {
    "ENV": ("environment", _to_str),
    "DEBUG": ("debug", _to_bool),
    "THEME_DIR": ("theme_dir", _to_path),
    "SITE_URL": ("site_url", _to_str),
    "RATELIMIT_STORAGE_URL": ("ratelimit_storage_url", _to_str),
    "RATELIMIT_SUBMIT": ("ratelimit_submit", _to_str),
    "PROXY_FIX_X_FOR": ("proxy_fix_x_for", _to_int),
    "CSRF_TIME_LIMIT": ("csrf_time_limit", _to_int),
    "COOKIE_SECURE": ("cookie_secure", _to_bool),
    "LOG_LEVEL": ("log_level", _to_str),
    "SQLITE_BUSY_TIMEOUT_MS": ("sqlite_busy_timeout_ms", _to_int),
}
