"""The public intake app: it takes tips, seals them to the desk's key, and can never read one.

Nothing here imports the review desk or any private key (a test proves it).
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, Response
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from form_service import frame
from form_service.clock import SYSTEM_CLOCK, Clock
from form_service.crypto import load_public_key
from form_service.db import make_write_lock
from form_service.intake.check_views import bp as check_bp
from form_service.intake.checks import make_sessions
from form_service.intake.limits import make_limits
from form_service.intake.pages import current_language, format_day
from form_service.intake.request import (
    MAX_BODY_BYTES,
    MAX_FIELD_BYTES,
    MAX_PARTS,
    InMemoryRequest,
)
from form_service.intake.state import IntakeState
from form_service.intake.views import bp, refuse_other_bodies
from form_service.settings import IntakeSettings

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
DOMAIN = "intake"


def create_app(settings: IntakeSettings | None = None, clock: Clock = SYSTEM_CLOCK) -> Flask:
    """Create the public intake app from settings (read from the environment if None)."""
    settings = settings or IntakeSettings.from_env()
    frame.configure_logging(settings)
    languages = frame.site_languages(settings)
    frame.check_catalogs(settings, DOMAIN, [language.locale for language in languages[1:]])
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
        # The token comes in the form only, never in an X-CSRFToken header: no second way in.
        WTF_CSRF_HEADERS=[],
        SESSION_COOKIE_NAME="intake_session",
        SESSION_COOKIE_PATH="/form/",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=settings.cookie_secure,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    frame.configure_babel(app, settings, DOMAIN, languages[0].locale)
    frame.configure_jinja(app, TEMPLATES_DIR, settings.theme_dir)
    app.jinja_env.filters["format_day"] = format_day
    engine, session_factory = frame.open_database(settings)
    limits = make_limits(settings, clock)
    frame.install_state(
        app,
        IntakeState(
            settings=settings,
            languages=languages,
            engine=engine,
            session_factory=session_factory,
            stylesheet_url=frame.theme_stylesheet(settings),
            write_lock=make_write_lock(settings),
            clock=clock,
            desk_public_key=load_public_key(settings.desk_public_key),
            check_sessions=make_sessions(settings.ratelimit_storage_url, clock),
            lookup_limits=limits.spend,
            limits=limits,
        ),
    )
    Babel(app, locale_selector=lambda: current_language().locale)
    # Before the CSRF check: a JSON or text body is refused whatever token it carries.
    app.before_request(refuse_other_bodies)
    CSRFProtect(app)
    app.register_blueprint(bp)
    app.register_blueprint(check_bp)
    app.after_request(never_cache)
    if settings.proxy_fix_x_for:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_fix_x_for)  # type: ignore[method-assign]
    return app


def never_cache(response: Response) -> Response:
    """Keep every intake page out of every cache, the browser's included."""
    response.headers["Cache-Control"] = "no-store"
    return response
