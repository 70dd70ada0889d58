"""The public intake app: it takes tips, seals them to the desk's key, and can never read one.

Nothing here imports the review desk or any private key (a test proves it).
"""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask, Response
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect
from jinja2 import ChoiceLoader, FileSystemLoader
from werkzeug.middleware.proxy_fix import ProxyFix

from form_service.crypto import load_public_key
from form_service.db import check_engine, make_engine, make_session_factory, make_write_lock
from form_service.intake.limits import make_limiter
from form_service.intake.pages import THEME_URL, current_language
from form_service.intake.request import (
    MAX_BODY_BYTES,
    MAX_FIELD_BYTES,
    MAX_PARTS,
    InMemoryRequest,
)
from form_service.intake.state import EXTENSION, IntakeState
from form_service.intake.views import bp
from form_service.languages import load_languages, stylesheet_url
from form_service.settings import Settings

PACKAGE_DIR = Path(__file__).resolve().parent.parent
TRANSLATIONS_DIR = PACKAGE_DIR / "translations"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


def create_app(settings: Settings | None = None) -> Flask:
    """Create the public intake app from settings (read from the environment if None)."""
    settings = settings or Settings.from_env()
    configure_logging(settings)
    languages = load_languages(settings.theme_dir)
    check_catalogs(settings, [language.locale for language in languages[1:]])
    app = Flask(__name__, static_folder=None)
    app.request_class = InMemoryRequest
    app.debug = settings.debug
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        MAX_FORM_MEMORY_SIZE=MAX_FIELD_BYTES,
        MAX_FORM_PARTS=MAX_PARTS,
        WTF_CSRF_TIME_LIMIT=settings.csrf_time_limit,
        # The token is bound to a SameSite session cookie; the HTTPS Referer check would
        # lock out tipsters whose browser strips the Referer, a setting we should welcome.
        WTF_CSRF_SSL_STRICT=False,
        SESSION_COOKIE_NAME="intake_session",
        SESSION_COOKIE_PATH="/form/",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=settings.cookie_secure,
        SESSION_COOKIE_SAMESITE="Lax",
        BABEL_DEFAULT_LOCALE=languages[0].locale,
        BABEL_TRANSLATION_DIRECTORIES=f"{TRANSLATIONS_DIR};{settings.theme_dir / 'translations'}",
    )
    # The same whitespace handling as Pelican's, so base.html renders alike in both.
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.jinja_loader = ChoiceLoader(
        [FileSystemLoader(TEMPLATES_DIR), FileSystemLoader(settings.theme_dir / "templates")]
    )
    engine = make_engine(settings)
    check_engine(engine)
    app.extensions[EXTENSION] = IntakeState(
        settings=settings,
        languages=languages,
        engine=engine,
        session_factory=make_session_factory(engine),
        write_lock=make_write_lock(settings),
        desk_public_key=load_public_key(settings.desk_public_key),
        stylesheet_url=stylesheet_url(settings.theme_dir, THEME_URL),
    )
    Babel(app, locale_selector=lambda: current_language().locale)
    # The limiter checks before the CSRF token is read: refusing a flood costs less.
    limiter = make_limiter(app, settings)
    limiter.limit(settings.ratelimit_submit, methods=["POST"])(bp)
    CSRFProtect(app)
    app.register_blueprint(bp)
    app.after_request(never_cache)
    if settings.proxy_fix_x_for:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_fix_x_for)  # type: ignore[method-assign]
    return app


def never_cache(response: Response) -> Response:
    """Keep every intake page out of every cache, the browser's included."""
    response.headers["Cache-Control"] = "no-store"
    return response


def configure_logging(settings: Settings) -> None:
    """Log the service's own messages to stderr; no request data is ever logged."""
    logger = logging.getLogger("form_service")
    logger.setLevel(settings.log_level)
    if not logger.handlers:
        handler = logging.StreamHandler()
        # No timestamp: a log line next to a tip must not date the submission.
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)


def check_catalogs(settings: Settings, locales: list[str]) -> None:
    """Refuse to start without compiled catalogs: the form would fall back to English."""
    missing = [
        str(path)
        for locale in locales
        for path in (
            TRANSLATIONS_DIR / locale / "LC_MESSAGES" / "messages.mo",
            settings.theme_dir / "translations" / locale / "LC_MESSAGES" / "messages.mo",
        )
        if not path.exists()
    ]
    if missing:
        raise RuntimeError("compile the catalogs first (pybabel compile): " + ", ".join(missing))
