"""Read each app's settings from the environment into one frozen object.

`Settings` holds what every part of the service reads (the database, the theme, the
environment, cookies, rate-limit storage). The public intake adds its secrets and the
desk's public key in `IntakeSettings`; the staff desk adds its own secret and key file in
`ReviewSettings`. Neither app is ever handed the other's secrets. Config flows one way:
environment -> `<Class>.from_env()` -> `create_app(settings)`; tests build them directly,
and every object checks itself when it is built, however it was built.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar, Self

PREFIX = "FORM_SERVICE_"
PROJECT_DIR = Path(__file__).resolve().parent.parent
ENVIRONMENTS = ("production", "development")
# A tab left open overnight must still post: the token lives at least a day.
MIN_CSRF_TIME_LIMIT = 24 * 3600
MIN_SECRET_LENGTH = 32
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# How `form-service notify` talks to the mail server: STARTTLS on the submission port,
# TLS from the first byte (port 465), or plain (a relay on the same host only).
NOTIFY_TLS_MODES = ("starttls", "tls", "none")
# "always": one identical message every period; "activity": only when something arrived.
NOTIFY_MODES = ("always", "activity")


class SettingsError(ValueError):
    """A setting is missing or invalid; the service must not start."""


Converter = Callable[[str, str], object]


@dataclass(frozen=True)
class Variable:
    """One FORM_SERVICE_* variable: the attribute it sets and how its text is parsed."""

    name: str
    attribute: str
    convert: Converter
    required: bool = False

    @property
    def env_name(self) -> str:
        """Return the variable's full name, prefix included."""
        return PREFIX + self.name


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
    """Keep a text environment value, without surrounding white space."""
    return raw.strip()


def _to_secret(name: str, raw: str) -> str:
    """Keep a secret exactly as given."""
    return raw


def _to_list(name: str, raw: str) -> tuple[str, ...]:
    """Split a comma-separated environment value into its non-empty items."""
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _to_path(name: str, raw: str) -> Path:
    """Resolve a path environment value."""
    return Path(raw).resolve()


@dataclass(frozen=True)
class Rate:
    """A limit: at most `count` posts per `seconds`."""

    count: int
    seconds: int


RATE_PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
RATE_PATTERN = re.compile(r"\s*(\d+)\s+per\s+(second|minute|hour|day)\s*")


def parse_rates(text: str) -> tuple[Rate, ...]:
    """Parse limits written as "10 per hour; 30 per day"; raise ValueError if malformed."""
    rates = []
    for part in text.split(";"):
        match = RATE_PATTERN.fullmatch(part)
        if not match or int(match.group(1)) < 1:
            raise ValueError(f"not a limit: {part.strip()!r}")
        rates.append(Rate(int(match.group(1)), RATE_PERIODS[match.group(2)]))
    return tuple(rates)


def decode_public_key(text: str) -> bytes | None:
    """Decode a base64 X25519 public key, or return None if it is not one."""
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == 32 else None


@dataclass(frozen=True, kw_only=True)
class Settings:
    """What every part of the service reads; secrets live in the per-app subclasses."""

    database_url: str
    environment: str = "production"
    debug: bool = False
    instance_dir: Path = PROJECT_DIR / "instance"
    theme_dir: Path = PROJECT_DIR / "theme"
    site_url: str = "http://127.0.0.1:8000"
    ratelimit_storage_url: str = "memory://"
    proxy_fix_x_for: int = 0
    cookie_secure: bool = True
    log_level: str = "WARNING"
    sqlite_busy_timeout_ms: int = 5000
    # Where the intake spools sealed records until the next batch (None: instance_dir/spool),
    # and the minutes between two batches: the finest a tip can be dated (docs/security.md).
    spool_dir: Path | None = None
    batch_minutes: int = 1440

    # The variables each class reads (its own only; from_env walks the class hierarchy).
    VARIABLES: ClassVar[tuple[Variable, ...]] = (
        Variable("DATABASE_URL", "database_url", _to_str),
        Variable("INSTANCE_DIR", "instance_dir", _to_path),
        Variable("ENV", "environment", _to_str),
        Variable("DEBUG", "debug", _to_bool),
        Variable("THEME_DIR", "theme_dir", _to_path),
        Variable("SITE_URL", "site_url", _to_str),
        Variable("RATELIMIT_STORAGE_URL", "ratelimit_storage_url", _to_str),
        Variable("PROXY_FIX_X_FOR", "proxy_fix_x_for", _to_int),
        Variable("COOKIE_SECURE", "cookie_secure", _to_bool),
        Variable("LOG_LEVEL", "log_level", _to_str),
        Variable("SQLITE_BUSY_TIMEOUT_MS", "sqlite_busy_timeout_ms", _to_int),
        Variable("SPOOL_DIR", "spool_dir", _to_path),
        Variable("BATCH_MINUTES", "batch_minutes", _to_int),
    )

    def __post_init__(self) -> None:
        """Refuse settings the service must not run with."""
        problems = self.problems()
        if problems:
            raise SettingsError("; ".join(problems))

    def problems(self) -> list[str]:
        """List what is wrong with these settings (subclasses add their own checks)."""
        problems = []
        if self.environment not in ENVIRONMENTS:
            problems.append(f"{PREFIX}ENV must be one of {', '.join(ENVIRONMENTS)}")
        if self.debug and self.environment == "production":
            problems.append("debug mode is not allowed in production")
        if self.proxy_fix_x_for < 0:
            problems.append(f"{PREFIX}PROXY_FIX_X_FOR must not be negative")
        if self.log_level not in LOG_LEVELS:
            problems.append(f"{PREFIX}LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}")
        if not self.database_url:
            problems.append(f"{PREFIX}DATABASE_URL must not be empty")
        if not 1 <= self.batch_minutes <= 1440 or 1440 % self.batch_minutes:
            # Batches at fixed times of the day: a window never straddles two days.
            problems.append(f"{PREFIX}BATCH_MINUTES must divide 1440 (a day): 1, 5, 60, 1440...")
        return problems

    @property
    def spool_path(self) -> Path:
        """Return the spool directory (instance_dir/spool unless set)."""
        return self.spool_dir if self.spool_dir is not None else self.instance_dir / "spool"

    @property
    def is_sqlite(self) -> bool:
        """Tell whether the database is the embedded SQLite."""
        return self.database_url.startswith("sqlite")

    @classmethod
    def variables(cls) -> Iterator[Variable]:
        """Yield every variable this class reads, the shared ones first."""
        for klass in reversed(cls.__mro__):
            yield from vars(klass).get("VARIABLES", ())

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        """Build settings from FORM_SERVICE_* variables; secrets have no default."""
        env = os.environ if environ is None else environ
        variables = list(cls.variables())
        missing = [var.env_name for var in variables if var.required and not env.get(var.env_name)]
        if missing:
            raise SettingsError("missing required settings: " + ", ".join(missing))
        options: dict[str, object] = {}
        for var in variables:
            raw = env.get(var.env_name)
            if raw:
                options[var.attribute] = var.convert(var.env_name, raw)
        instance_dir = options.setdefault("instance_dir", (PROJECT_DIR / "instance").resolve())
        options.setdefault(
            "database_url", f"sqlite:///{Path(str(instance_dir))}/form_service.sqlite3"
        )
        # The variables table gives each attribute its parsed type; mypy cannot follow it.
        return cls(**options)  # type: ignore[arg-type]


def _secret_problems(values: Mapping[str, str]) -> list[str]:
    """Refuse secrets shorter than MIN_SECRET_LENGTH (named by their variables)."""
    return [
        f"{PREFIX}{name} must be at least {MIN_SECRET_LENGTH} characters"
        for name, value in values.items()
        if len(value) < MIN_SECRET_LENGTH
    ]


@dataclass(frozen=True, kw_only=True)
class IntakeSettings(Settings):
    """The public intake's settings: its secrets and the desk's PUBLIC key only."""

    secret_key: str = field(repr=False)
    receipt_pepper: str = field(repr=False)
    desk_public_key: str
    # Tips one form session may send, and all tipsters together (docs/security.md).
    ratelimit_session: str = "10 per hour; 30 per day"
    ratelimit_global: str = "200 per hour; 1000 per day"
    csrf_time_limit: int = 2 * 24 * 3600

    VARIABLES: ClassVar[tuple[Variable, ...]] = (
        Variable("SECRET_KEY", "secret_key", _to_secret, required=True),
        Variable("RECEIPT_PEPPER", "receipt_pepper", _to_secret, required=True),
        Variable("DESK_PUBLIC_KEY", "desk_public_key", _to_str, required=True),
        Variable("RATELIMIT_SESSION", "ratelimit_session", _to_str),
        Variable("RATELIMIT_GLOBAL", "ratelimit_global", _to_str),
        Variable("CSRF_TIME_LIMIT", "csrf_time_limit", _to_int),
    )

    def problems(self) -> list[str]:
        """Add the intake's own checks to the shared ones."""
        problems = super().problems()
        problems += _secret_problems(
            {"SECRET_KEY": self.secret_key, "RECEIPT_PEPPER": self.receipt_pepper}
        )
        if self.secret_key == self.receipt_pepper:
            problems.append("the secret key and the receipt pepper must differ")
        if decode_public_key(self.desk_public_key) is None:
            problems.append(f"{PREFIX}DESK_PUBLIC_KEY must be a base64 X25519 public key")
        for name, value in (
            ("RATELIMIT_SESSION", self.ratelimit_session),
            ("RATELIMIT_GLOBAL", self.ratelimit_global),
        ):
            try:
                parse_rates(value)
            except ValueError:
                problems.append(f'{PREFIX}{name} must read like "10 per hour; 30 per day"')
        if self.csrf_time_limit < MIN_CSRF_TIME_LIMIT:
            problems.append(f"{PREFIX}CSRF_TIME_LIMIT must be at least {MIN_CSRF_TIME_LIMIT}")
        return problems


@dataclass(frozen=True, kw_only=True)
class ReviewSettings(Settings):
    """The staff desk's settings: its own secret and the encrypted desk key, never the intake's."""

    secret_key: str = field(repr=False)
    desk_key_file: Path | None = None
    desk_passphrase_file: Path | None = None
    desk_passphrase: str | None = field(default=None, repr=False)
    # Delete the passphrase file once the gunicorn master has read it (a tmpfs file).
    desk_passphrase_remove: bool = False
    # The public key the intake seals to; when given, the unlocked key must match it.
    desk_public_key: str | None = None
    retention_days: int = 365
    idle_minutes: int = 30
    absolute_hours: int = 12
    # Sign-in attempts per account per minute; after as many failures in a row, a growing delay.
    attempts_per_minute: int = 5
    # Memory each desk process may hold of opened tip texts for search (0: open on every
    # search). Memory only, never disk; dropped after idle_minutes without a search.
    search_cache_mb: int = 64
    # Response deadlines from the day a tip was received (EU Directive 2019/1937, Art. 9).
    acknowledge_days: int = 7
    feedback_months: int = 3
    # Sign-in attempts per client address per minute, and password checks (Argon2, 64 MiB
    # each) per minute for the whole desk, however many account names are tried.
    sign_in_per_address: int = 20
    sign_in_checks_per_minute: int = 60
    # Content-free notifications (`form-service notify`); off while no host is set.
    notify_smtp_host: str | None = None
    notify_smtp_port: int = 587
    notify_smtp_tls: str = "starttls"
    notify_smtp_user: str | None = None
    notify_smtp_password_file: Path | None = None
    notify_from: str | None = None
    notify_recipients: tuple[str, ...] = ()
    notify_period_days: int = 1
    notify_mode: str = "always"
    # The key of the audit chain's HMACs: a file the database never holds (docs/security.md).
    audit_key_file: Path | None = None
    # Days audit entries are kept before `form-service audit prune` anchors and deletes them.
    audit_retention_days: int = 730
    # Where `form-service audit checkpoint` sends the head: file:/path, syslog[://host:port], email.
    audit_checkpoint_to: str | None = None

    VARIABLES: ClassVar[tuple[Variable, ...]] = (
        Variable("REVIEW_SECRET_KEY", "secret_key", _to_secret, required=True),
        Variable("DESK_KEY_FILE", "desk_key_file", _to_path),
        Variable("DESK_PASSPHRASE_FILE", "desk_passphrase_file", _to_path),
        Variable("DESK_PASSPHRASE", "desk_passphrase", _to_secret),
        Variable("DESK_PASSPHRASE_REMOVE", "desk_passphrase_remove", _to_bool),
        Variable("DESK_PUBLIC_KEY", "desk_public_key", _to_str),
        Variable("RETENTION_DAYS", "retention_days", _to_int),
        Variable("SEARCH_CACHE_MB", "search_cache_mb", _to_int),
        Variable("ACKNOWLEDGE_DAYS", "acknowledge_days", _to_int),
        Variable("FEEDBACK_MONTHS", "feedback_months", _to_int),
        Variable("SIGN_IN_PER_ACCOUNT", "attempts_per_minute", _to_int),
        Variable("SIGN_IN_PER_ADDRESS", "sign_in_per_address", _to_int),
        Variable("SIGN_IN_CHECKS_PER_MINUTE", "sign_in_checks_per_minute", _to_int),
        Variable("NOTIFY_SMTP_HOST", "notify_smtp_host", _to_str),
        Variable("NOTIFY_SMTP_PORT", "notify_smtp_port", _to_int),
        Variable("NOTIFY_SMTP_TLS", "notify_smtp_tls", _to_str),
        Variable("NOTIFY_SMTP_USER", "notify_smtp_user", _to_str),
        Variable("NOTIFY_SMTP_PASSWORD_FILE", "notify_smtp_password_file", _to_path),
        Variable("NOTIFY_FROM", "notify_from", _to_str),
        Variable("NOTIFY_RECIPIENTS", "notify_recipients", _to_list),
        Variable("NOTIFY_PERIOD_DAYS", "notify_period_days", _to_int),
        Variable("NOTIFY_MODE", "notify_mode", _to_str),
        Variable("AUDIT_KEY_FILE", "audit_key_file", _to_path),
        Variable("AUDIT_RETENTION_DAYS", "audit_retention_days", _to_int),
        Variable("AUDIT_CHECKPOINT_TO", "audit_checkpoint_to", _to_str),
    )

    def problems(self) -> list[str]:
        """Add the desk's own checks to the shared ones."""
        problems = super().problems()
        problems += _secret_problems({"REVIEW_SECRET_KEY": self.secret_key})
        if self.desk_public_key is not None and decode_public_key(self.desk_public_key) is None:
            problems.append(f"{PREFIX}DESK_PUBLIC_KEY must be a base64 X25519 public key")
        if self.retention_days < 1:
            problems.append(f"{PREFIX}RETENTION_DAYS must be at least 1")
        limits = (
            self.attempts_per_minute,
            self.sign_in_per_address,
            self.sign_in_checks_per_minute,
        )
        if self.idle_minutes < 1 or self.absolute_hours < 1 or min(limits) < 1:
            problems.append("session lifetimes and the sign-in attempt limits must be positive")
        if not 0 <= self.search_cache_mb <= 4096:
            problems.append(f"{PREFIX}SEARCH_CACHE_MB must be between 0 and 4096")
        if not 1 <= self.acknowledge_days <= 366 or not 1 <= self.feedback_months <= 24:
            problems.append(
                f"{PREFIX}ACKNOWLEDGE_DAYS must be 1 to 366 and {PREFIX}FEEDBACK_MONTHS 1 to 24"
            )
        if self.audit_retention_days < 30:
            problems.append(f"{PREFIX}AUDIT_RETENTION_DAYS must be at least 30")
        target = self.audit_checkpoint_to
        if target and not target.startswith(("file:/", "syslog", "email")):
            problems.append(
                f"{PREFIX}AUDIT_CHECKPOINT_TO must be file:/<path>, syslog[://host:port] or email"
            )
        return problems + self._notify_problems()

    def _notify_problems(self) -> list[str]:
        """Check the notification settings, but only once a mail server is named."""
        if not self.notify_smtp_host:
            return []
        problems = []
        if self.notify_smtp_tls not in NOTIFY_TLS_MODES:
            problems.append(f"{PREFIX}NOTIFY_SMTP_TLS must be one of {', '.join(NOTIFY_TLS_MODES)}")
        if self.notify_mode not in NOTIFY_MODES:
            problems.append(f"{PREFIX}NOTIFY_MODE must be one of {', '.join(NOTIFY_MODES)}")
        if not 0 < self.notify_smtp_port < 65536:
            problems.append(f"{PREFIX}NOTIFY_SMTP_PORT must be a port number")
        if self.notify_period_days < 1:
            problems.append(f"{PREFIX}NOTIFY_PERIOD_DAYS must be at least 1")
        if not self.notify_from or "@" not in self.notify_from:
            problems.append(f"{PREFIX}NOTIFY_FROM must be an e-mail address")
        if not self.notify_recipients or any("@" not in r for r in self.notify_recipients):
            problems.append(f"{PREFIX}NOTIFY_RECIPIENTS must list e-mail addresses")
        if (self.notify_smtp_user is None) != (self.notify_smtp_password_file is None):
            problems.append(f"{PREFIX}NOTIFY_SMTP_USER and NOTIFY_SMTP_PASSWORD_FILE go together")
        local = self.notify_smtp_host in {"localhost", "127.0.0.1", "::1"}
        if self.environment == "production" and self.notify_smtp_tls == "none" and not local:
            problems.append("plain SMTP is allowed only to a mail server on this host")
        return problems

    def read_notify_password(self) -> str | None:
        """Return the mail server password from its file, or None without one."""
        if self.notify_smtp_password_file is None:
            return None
        return self.notify_smtp_password_file.read_text(encoding="utf-8").rstrip("\n")

    def read_audit_key(self) -> bytes | None:
        """Return the audit chain's key from its file, or None without one."""
        if self.audit_key_file is None:
            return None
        key = self.audit_key_file.read_bytes().strip()
        if len(key) < MIN_SECRET_LENGTH:
            raise SettingsError(f"the audit key file holds fewer than {MIN_SECRET_LENGTH} bytes")
        return key

    def read_passphrase_buffer(self) -> bytearray | None:
        """Return the desk key's passphrase, as stored, in a buffer the caller zeroes after use.

        From its file (read straight into the buffer, never into an immutable copy), else the
        variable (development only: a str Python cannot wipe).
        """
        path = self.desk_passphrase_file
        if path is None:
            return (
                None if self.desk_passphrase is None else bytearray(self.desk_passphrase, "utf-8")
            )
        with path.open("rb", buffering=0) as source:
            buffer = bytearray(os.fstat(source.fileno()).st_size)
            source.readinto(buffer)  # a short read leaves NULs, which the caller strips
        # Never shrunk to drop the line end: a smaller bytearray may move, leaving a copy.
        return buffer
