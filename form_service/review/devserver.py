"""The desk under `make run`: mounted at /staff/ by form_service.devserver (development only).

Development-only secrets live in the instance folder the dev server creates; production
sets FORM_SERVICE_REVIEW_SECRET_KEY, FORM_SERVICE_DESK_KEY_FILE and the passphrase instead.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterable
from typing import Any

from form_service.review import create_app
from form_service.review.settings import ReviewSettings
from form_service.settings import Settings

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
PREFIX = "/staff"
DEV_SECRET_FILE = "review-secret.DEV-ONLY.txt"  # noqa: S105 - a file name, not a secret


def make_app(settings: Settings) -> WSGIApp:
    """Build the desk from the development instance folder and mount it under /staff."""
    instance = settings.instance_dir
    secret_file = instance / DEV_SECRET_FILE
    if not secret_file.exists():
        descriptor = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
    env = dict(os.environ)
    env.setdefault("FORM_SERVICE_REVIEW_SECRET_KEY", secret_file.read_text("utf-8").strip())
    env.setdefault("FORM_SERVICE_DESK_KEY_FILE", str(instance / "desk-key.json"))
    env.setdefault(
        "FORM_SERVICE_DESK_PASSPHRASE_FILE", str(instance / "desk-key-passphrase.DEV-ONLY.txt")
    )
    desk = create_app(settings, ReviewSettings.from_env(env))

    def mounted(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Move /staff from PATH_INFO to SCRIPT_NAME, so the desk's URLs carry the prefix."""
        path = environ.get("PATH_INFO", "")
        if path.startswith(PREFIX):
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + PREFIX
            environ["PATH_INFO"] = path[len(PREFIX) :] or "/"
        return desk(environ, start_response)

    return mounted
