"""The staff review desk: a separate Flask app sharing the core with the public intake.

It has its own secret key and cookie, denies by default (see guard.py), and holds the
desk's private key in this process's memory only.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import Flask
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect
from nacl.public import PrivateKey
from werkzeug.middleware.proxy_fix import ProxyFix

from form_service import frame
from form_service.clock import SYSTEM_CLOCK, Clock
from form_service.review import context, errors, guard, headers
from form_service.review.auth.throttle import SignInThrottle
from form_service.review.keys import (
    held_key,
    refuse_core_dumps,
    refuse_inspection,
    unlock_desk_key,
)
from form_service.review.search import SearchTexts
from form_service.review.state import DeskState, close_db
from form_service.review.text import inert
from form_service.review.tipview import opener
from form_service.settings import ReviewSettings

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
DOMAIN = "desk"


def create_app(
    settings: ReviewSettings | None = None,
    private_key: PrivateKey | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> Flask:
    """Create the desk app; the key is unlocked here unless a test passes one (and a clock)."""
    settings = settings or ReviewSettings.from_env()
    frame.configure_logging(settings)
    frame.check_catalogs(settings, DOMAIN, [lang for lang in context.DESK_LANGUAGES[1:]])
    refuse_core_dumps()
    if private_key is None:
        # A served desk (tests pass their key): no core file, no ptrace, and the key the
        # gunicorn master unlocked before forking this worker, if it did.
        refuse_inspection()
        private_key = held_key() or unlock_desk_key(settings)
    app = Flask(__name__, static_folder=None)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        # Its own cookie: the intake's cookie is never sent to, nor accepted by, the desk.
        SESSION_COOKIE_NAME="desk_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=settings.cookie_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.absolute_hours),
        # The token is bound to the server-side session, which expires on its own.
        WTF_CSRF_TIME_LIMIT=None,
        MAX_CONTENT_LENGTH=256 * 1024,
        MAX_FORM_MEMORY_SIZE=128 * 1024,
        MAX_FORM_PARTS=200,
    )
    frame.configure_babel(app, settings, DOMAIN, context.DESK_LANGUAGES[0])
    frame.configure_jinja(app, TEMPLATES_DIR, settings.theme_dir)
    engine, session_factory = frame.open_database(settings)
    frame.install_state(
        app,
        DeskState(
            settings=settings,
            languages=frame.site_languages(settings),
            engine=engine,
            session_factory=session_factory,
            stylesheet_url=frame.theme_stylesheet(settings),
            private_key=private_key,
            throttle=SignInThrottle(
                settings.ratelimit_storage_url,
                settings.attempts_per_minute,
                clock,
                per_address=settings.sign_in_per_address,
                argon2_per_minute=settings.sign_in_checks_per_minute,
            ),
            clock=clock,
            search_texts=SearchTexts(
                opener(private_key),
                clock,
                max_bytes=settings.search_cache_mb * 2**20,
                idle_seconds=settings.idle_minutes * 60,
            ),
        ),
    )
    Babel(app, locale_selector=context.select_locale)
    _register(app)
    if settings.proxy_fix_x_for:
        # The sign-in limit per address needs the client's address, not nginx's.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_fix_x_for)  # type: ignore[method-assign]
    # After the guard: a visitor is sent to sign-in before any CSRF check can answer 400.
    CSRFProtect(app)
    return app


def _register(app: Flask) -> None:
    """Attach the views, the guard, the headers and the error pages."""
    from form_service.review.views import (  # noqa: F401 - importing registers the routes
        RowIdConverter,
        accounts,
        admin,
        auth,
        bp,
        bulk,
        invitation,
        own_account,
        replies,
        tips,
    )

    app.url_map.converters["row_id"] = RowIdConverter
    app.register_blueprint(bp)
    app.session_interface = headers.DeskSessionInterface()
    app.before_request(guard.guard)
    app.after_request(headers.secure_headers)
    app.teardown_appcontext(close_db)
    app.context_processor(context.page_context)
    app.add_template_filter(inert, "inert")
    app.add_template_filter(context.dict_without, "dict_without")
    errors.register(app)
