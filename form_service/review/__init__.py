"""The staff review desk: a separate Flask app sharing the core with the public intake.

It has its own secret key and cookie, denies by default (see web.guard), and holds the
desk's private key in this process's memory only.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from flask import Flask
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect
from nacl.public import PrivateKey

from form_service.db import make_engine, make_session_factory
from form_service.review import errors, pages, web
from form_service.review.settings import ReviewSettings
from form_service.review.text import inert
from form_service.review.throttle import SignInThrottle
from form_service.review.unlock import unlock_desk_key
from form_service.settings import Settings

HERE = Path(__file__).resolve().parent


def create_app(
    settings: Settings | None = None,
    review_settings: ReviewSettings | None = None,
    private_key: PrivateKey | None = None,
) -> Flask:
    """Create the desk app; the private key is unlocked here unless a test passes one."""
    settings = settings or Settings.from_env()
    review_settings = review_settings or ReviewSettings.from_env()
    private_key = private_key or unlock_desk_key(settings, review_settings)
    app = Flask(__name__, static_folder=None, template_folder=str(settings.theme_dir / "templates"))
    app.config.update(
        SECRET_KEY=review_settings.secret_key,
        # Its own cookie: the intake's cookie is never sent to, nor accepted by, the desk.
        SESSION_COOKIE_NAME="desk_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=settings.cookie_secure,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=review_settings.absolute_hours),
        # The token is bound to the server-side session, which expires on its own.
        WTF_CSRF_TIME_LIMIT=None,
        MAX_CONTENT_LENGTH=256 * 1024,
        MAX_FORM_MEMORY_SIZE=128 * 1024,
        MAX_FORM_PARTS=200,
        BABEL_DEFAULT_LOCALE="en",
        BABEL_TRANSLATION_DIRECTORIES=";".join(
            [str(HERE / "translations"), str(settings.theme_dir / "translations")]
        ),
    )
    engine = make_engine(settings)
    app.extensions["desk"] = web.Desk(
        settings=settings,
        review=review_settings,
        private_key=private_key,
        session_factory=make_session_factory(engine),
        throttle=SignInThrottle(
            settings.ratelimit_storage_url, review_settings.attempts_per_minute
        ),
    )
    Babel(app, locale_selector=pages.select_locale)
    _register(app)
    # After the guard: a visitor is sent to sign-in before any CSRF check can answer 400.
    CSRFProtect(app)
    return app


def _register(app: Flask) -> None:
    """Attach the views, the guard, the headers and the error pages."""
    from form_service.review import (  # noqa: F401 - importing registers the routes
        views_admin,
        views_auth,
        views_tips,
        views_work,
    )

    app.register_blueprint(views_auth.bp)
    app.session_interface = web.DeskSessionInterface()
    app.before_request(web.guard)
    app.after_request(web.secure_headers)
    app.teardown_appcontext(web.close_db)
    app.context_processor(pages.page_context)
    app.add_template_filter(inert, "inert")
    app.add_template_filter(pages.dict_without, "dict_without")
    errors.register(app)
