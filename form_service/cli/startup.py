"""Refuse to start, with one line that says why, when the service could only fail later.

A setting that does not parse, a desk key that cannot be read or unlocked, a database that
cannot be reached, has another schema than the code's or an unknown URL scheme, or catalogs
that were never compiled: each would otherwise surface as 500 pages in front of tipsters
or staff. `python -m form_service.cli.startup intake|review` checks all of it and exits 4 (the
code gunicorn itself uses for an app that failed to load), and gunicorn's `on_starting`
hook (deploy/gunicorn.conf.py) runs the same check before any worker starts.

In production (FORM_SERVICE_ENV=production, the default) it also refuses what would work but
weaken the service: see `production_problems`. Settings built in code (the tests) are never
refused for these: only a start goes through this check.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping

from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from form_service import migrate
from form_service.crypto import load_public_key
from form_service.frame import check_catalogs, site_languages
from form_service.settings import (
    PREFIX,
    IntakeSettings,
    ReviewSettings,
    Settings,
    SettingsError,
)

EXIT_UNUSABLE = 4
# The databases the service is built and tested for.
SUPPORTED_SCHEMES = frozenset({"sqlite", "postgresql"})


def database_problems(settings: Settings) -> list[str]:
    """Return why the database is unusable: unreachable, unknown scheme or another schema."""
    scheme = settings.database_url.split(":", 1)[0]
    if scheme.split("+", 1)[0] not in SUPPORTED_SCHEMES:
        return [f"the database URL scheme is not one we support: {scheme}"]
    try:
        current, head = migrate.current_revisions(settings), migrate.head_revisions(settings)
    except (ArgumentError, NoSuchModuleError, ImportError):
        return [f"the database URL scheme is not one we support: {scheme}"]
    except SQLAlchemyError as error:
        return [f"the database cannot be reached ({type(error).__name__})"]
    if set(current) != set(head):
        found = ", ".join(current) or "empty"
        return [f"the database schema is at {found}, not {', '.join(head)}: run db upgrade"]
    return []


def catalog_problems(settings: Settings, domain: str, locales: list[str]) -> list[str]:
    """Return why the compiled catalogs are unusable (never compiled)."""
    try:
        check_catalogs(settings, domain, locales)
    except RuntimeError as error:
        return [str(error)]
    return []


def production_problems(settings: Settings, environ: Mapping[str, str]) -> list[str]:
    """Return what production refuses although it would work: each a one-line reason."""
    if settings.environment != "production":
        return []
    problems = []
    if not settings.cookie_secure:
        problems.append(
            f"{PREFIX}COOKIE_SECURE=false sends session cookies over plain http; "
            "production cookies must be Secure"
        )
    if settings.ratelimit_storage_url.startswith("memory://"):
        problems.append(
            "memory:// rate-limit and throttle storage counts per worker process, multiplying "
            f"every limit; set {PREFIX}RATELIMIT_STORAGE_URL=redis://... in production"
        )
    if settings.is_sqlite:
        problems.append(
            "SQLite is the single-user development database and cannot give the apps separate "
            "rights; use PostgreSQL in production"
        )
    if isinstance(settings, ReviewSettings) and settings.desk_passphrase is not None:
        # Any process of the same user can read another's environment (/proc/<pid>/environ),
        # and it is inherited by every child and shown by `docker inspect`.
        problems.append(
            f"the desk passphrase must not come from the environment ({PREFIX}DESK_PASSPHRASE) "
            f"in production; use {PREFIX}DESK_PASSPHRASE_FILE"
        )
    if isinstance(settings, ReviewSettings) and settings.audit_key_file is None:
        problems.append(
            f"without {PREFIX}AUDIT_KEY_FILE the audit chain is unkeyed, and whoever can write "
            "the database can rewrite it unseen; create one with form-service keys audit-key"
        )
    if shared_secret(settings, environ):
        problems.append(
            "the desk's secret key equals one of the intake's secrets: a taken intake could "
            "forge desk sessions; give each app its own"
        )
    return problems


def shared_secret(settings: Settings, environ: Mapping[str, str]) -> bool:
    """Tell whether the desk's secret equals an intake secret, where both are in `environ`."""
    intake = [environ.get(f"{PREFIX}{name}") for name in ("SECRET_KEY", "RECEIPT_PEPPER")]
    desk = environ.get(f"{PREFIX}REVIEW_SECRET_KEY")
    return bool(desk) and desk in intake


def intake_problems(environ: Mapping[str, str] | None = None) -> list[str]:
    """Return every reason the public intake could not serve (empty when it can)."""
    env = os.environ if environ is None else environ
    try:
        settings = IntakeSettings.from_env(env)
        load_public_key(settings.desk_public_key)
    except (SettingsError, ValueError) as error:
        return [str(error)]
    refused = production_problems(settings, env)
    if refused:
        return refused
    locales = [language.locale for language in site_languages(settings)[1:]]
    return catalog_problems(settings, "intake", locales) or database_problems(settings)


def review_problems(environ: Mapping[str, str] | None = None, serving: bool = False) -> list[str]:
    """Return every reason the staff desk could not serve (empty when it can).

    `serving`: this is the gunicorn master about to fork the desk's workers. It then refuses
    core dumps and inspection first and, once every check passed, holds the unlocked key for
    the workers (which never read the passphrase themselves) and removes the passphrase file
    if so configured. A refusal keeps the file, so the next start can read it.
    """
    from form_service.deskkey import KeyFileError
    from form_service.review import keys
    from form_service.review.context import DESK_LANGUAGES

    env = os.environ if environ is None else environ
    try:
        settings = ReviewSettings.from_env(env)
        refused = production_problems(settings, env)
        if refused:
            return refused
        if serving:
            keys.refuse_inspection()
        private_key = keys.unlock_desk_key(settings)
        settings.read_audit_key()
    except (SettingsError, KeyFileError, ValueError) as error:
        return [str(error)]
    except OSError as error:
        return [f"{error.filename or 'a key file'} cannot be read: {error.strerror}"]
    problems = catalog_problems(settings, "desk", list(DESK_LANGUAGES[1:]))
    problems = problems or database_problems(settings)
    if serving and not problems:
        keys.hold_key(private_key)
        keys.forget_passphrase_file(settings)
    return problems


def check_or_exit(
    app: str, environ: Mapping[str, str] | None = None, *, serving: bool = False
) -> None:
    """Exit 4 with a one-line reason on stderr unless `app` ("intake"/"review") can start.

    `serving`: called by gunicorn's master before it forks the app's workers.
    """
    problems = review_problems(environ, serving) if app == "review" else CHECKS[app](environ)
    if problems:
        sys.stderr.write(f"form-service {app}: refusing to start: {'; '.join(problems)}\n")
        raise SystemExit(EXIT_UNUSABLE)


CHECKS: dict[str, Callable[[Mapping[str, str] | None], list[str]]] = {
    "intake": intake_problems,
    "review": review_problems,
}


def main(argv: list[str] | None = None) -> None:
    """Check the app named on the command line (intake or review)."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or args[0] not in CHECKS:
        sys.stderr.write("usage: python -m form_service.cli.startup intake|review\n")
        raise SystemExit(2)
    check_or_exit(args[0])


if __name__ == "__main__":
    main()
