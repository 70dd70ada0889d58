"""The development instance behind `make run` and `form-service --dev`.

On first use it creates instance/ with development-only secrets and a desk key pair (its
passphrase stored beside it: never do that in production), then migrates SQLite. It ships
in the package only because `form-service --dev` needs it; nothing else imports it, and a
production deployment sets FORM_SERVICE_* variables instead.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from form_service import deskkey, migrate
from form_service.files import write_private
from form_service.settings import PROJECT_DIR, IntakeSettings, ReviewSettings

DEV_PASSPHRASE_FILE = "desk-key-passphrase.DEV-ONLY.txt"  # noqa: S105 - a file name
DEV_KEY_FILE = "desk-key.json"
DEV_SECRETS_FILE = "secrets.DEV-ONLY.json"


def _create_once(path: Path, content: bytes) -> None:
    """Write a development file the first time only."""
    if not path.exists():
        write_private(path, content)


def development_environment(instance_dir: Path, port: int) -> dict[str, str]:
    """Create the development instance folder on first start and return its environment."""
    instance_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    secrets_file = instance_dir / DEV_SECRETS_FILE
    values = {
        "secret_key": secrets.token_urlsafe(48),
        "receipt_pepper": secrets.token_urlsafe(48),
        "review_secret_key": secrets.token_urlsafe(48),
    }
    _create_once(secrets_file, json.dumps(values, indent=2).encode("utf-8"))
    stored = json.loads(secrets_file.read_text(encoding="utf-8"))
    if "review_secret_key" not in stored:
        # An instance made before the desk had its own entry here gets one now.
        stored["review_secret_key"] = values["review_secret_key"]
        write_private(secrets_file, json.dumps(stored, indent=2).encode("utf-8"), overwrite=True)
    key_file = instance_dir / DEV_KEY_FILE
    if not key_file.exists():
        passphrase = secrets.token_urlsafe(24)
        _, content = deskkey.generate_key_pair(passphrase, deskkey.INTERACTIVE)
        write_private(instance_dir / DEV_PASSPHRASE_FILE, (passphrase + "\n").encode("utf-8"))
        write_private(key_file, content)
    public_key = json.loads(key_file.read_text(encoding="utf-8"))["public_key"]
    # FORM_SERVICE_* variables in the environment win over the development values.
    env = dict(os.environ)
    for name, value in {
        "SECRET_KEY": stored["secret_key"],
        "RECEIPT_PEPPER": stored["receipt_pepper"],
        "REVIEW_SECRET_KEY": stored["review_secret_key"],
        "DESK_PUBLIC_KEY": public_key,
        "DESK_KEY_FILE": str(key_file),
        "DESK_PASSPHRASE_FILE": str(instance_dir / DEV_PASSPHRASE_FILE),
        "INSTANCE_DIR": str(instance_dir),
        "ENV": "development",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "COOKIE_SECURE": "false",
        "LOG_LEVEL": "INFO",
        # Tips reach the desk a minute after they are sent (production: once a day).
        "BATCH_MINUTES": "1",
    }.items():
        env.setdefault(f"FORM_SERVICE_{name}", value)
    return env


def default_instance_dir() -> Path:
    """Return the development instance folder ($FORM_SERVICE_INSTANCE_DIR or ./instance)."""
    return Path(os.environ.get("FORM_SERVICE_INSTANCE_DIR") or PROJECT_DIR / "instance").resolve()


def bootstrap(instance_dir: Path, port: int) -> IntakeSettings:
    """Create the development instance on first start, migrate it and return its settings."""
    settings = IntakeSettings.from_env(development_environment(instance_dir, port))
    migrate.upgrade(settings)
    return settings


def desk_settings(instance_dir: Path, port: int) -> ReviewSettings:
    """Return the desk's settings for the development instance."""
    return ReviewSettings.from_env(development_environment(instance_dir, port))
