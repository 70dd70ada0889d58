"""`make run`: serve the built site, the form and the desk together on 127.0.0.1.

Development only: the instance folder (secrets, a desk key whose passphrase sits beside it,
SQLite) comes from form_service.cli.dev; run with `python -m tools.devserver`.
"""

from __future__ import annotations

import logging
import mimetypes
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from werkzeug.serving import WSGIRequestHandler, run_simple
from werkzeug.wrappers import Response

from form_service.cli.dev import bootstrap, default_instance_dir, desk_settings
from form_service.db import make_engine
from form_service.intake import create_app as create_intake
from form_service.intake import spool
from form_service.languages import load_languages
from form_service.review import create_app as create_desk
from form_service.settings import PROJECT_DIR, IntakeSettings, ReviewSettings

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
DESK_PREFIX = "/staff"


class StaticSite:
    """Serve the built site: folder index.html files and the per-language 404 page."""

    def __init__(self, root: Path, language_codes: Iterable[str]) -> None:
        self.root = root.resolve()
        self.language_codes = set(language_codes)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """Answer one request from the files under root."""
        path = environ.get("PATH_INFO", "/")
        target = (self.root / path.lstrip("/")).resolve()
        if not target.is_relative_to(self.root):
            return self.not_found(path, environ, start_response)
        if target.is_dir():
            if not path.endswith("/"):
                start_response("308 Permanent Redirect", [("Location", path + "/")])
                return [b""]
            target = target / "index.html"
        if not target.is_file():
            return self.not_found(path, environ, start_response)
        return file_response(target, 200)(environ, start_response)

    def not_found(
        self, path: str, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Any:
        """Answer with the 404 page of the language in the path (English otherwise)."""
        first = path.strip("/").split("/", 1)[0]
        lang = first if first in self.language_codes else "en"
        for page in (self.root / lang / "404.html", self.root / "en" / "404.html"):
            if page.is_file():
                return file_response(page, 404)(environ, start_response)
        start_response("404 Not Found", [("Content-Type", "text/plain; charset=utf-8")])
        return [b"Not found. Run `make site` to build the site.\n"]


def file_response(path: Path, status: int) -> Response:
    """Answer with a whole file read into memory (small site files, development only)."""
    mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return Response(path.read_bytes(), status=status, mimetype=mimetype)


def make_dispatcher(mounts: dict[str, WSGIApp], fallback: WSGIApp) -> WSGIApp:
    """Route /form/... and /staff/... to their apps unchanged, everything else to the site."""

    def dispatch(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Pass one request to the app that owns its path."""
        path = environ.get("PATH_INFO", "")
        for prefix, app in mounts.items():
            if path == prefix or path.startswith(prefix + "/"):
                return app(environ, start_response)
        return fallback(environ, start_response)

    return dispatch


class QuietRequestHandler(WSGIRequestHandler):
    """Werkzeug's handler without its access log, which records client addresses."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Log nothing about requests."""

    def log(self, type: str, message: str, *args: Any) -> None:
        """Log server messages without the client's address or the time."""
        logging.getLogger("werkzeug").log(
            logging.ERROR if type == "error" else logging.INFO, message, *args
        )


def mount_under(prefix: str, app: WSGIApp) -> WSGIApp:
    """Move the prefix from PATH_INFO to SCRIPT_NAME, so the app's URLs carry it."""

    def mounted(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        """Pass one request to the app with the prefix moved into SCRIPT_NAME."""
        path = environ.get("PATH_INFO", "")
        if path.startswith(prefix):
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + prefix
            environ["PATH_INFO"] = path[len(prefix) :] or "/"
        return app(environ, start_response)

    return mounted


def build_app(intake: IntakeSettings, review: ReviewSettings, site_dir: Path) -> WSGIApp:
    """Combine the intake app, the review desk and the static site."""
    mounts: dict[str, WSGIApp] = {
        "/form": create_intake(intake),
        DESK_PREFIX: mount_under(DESK_PREFIX, create_desk(review)),
    }
    codes = [language.code for language in load_languages(intake.theme_dir)]
    return make_dispatcher(mounts, StaticSite(site_dir, codes))


def start_flusher(settings: IntakeSettings) -> None:
    """Move spooled tips into the database every FORM_SERVICE_BATCH_MINUTES, in a thread."""
    engine = make_engine(settings)
    thread = threading.Thread(
        target=spool.run,
        args=(settings.spool_path, engine, settings.batch_minutes),
        name="spool-flusher",
        daemon=True,
    )
    thread.start()


def main() -> None:
    """Start the development server on 127.0.0.1:$PORT (8000 by default)."""
    port = int(os.environ.get("PORT", "8000"))
    instance_dir = default_instance_dir()
    intake = bootstrap(instance_dir, port)
    review = desk_settings(instance_dir, port)
    site_dir = Path(os.environ.get("SITE_OUTPUT_DIR") or PROJECT_DIR / "output")
    app = build_app(intake, review, site_dir)
    start_flusher(intake)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    base = f"http://127.0.0.1:{port}"
    print(
        f"Serving the site on {base}/, the form on {base}/form/en/ "
        f"and the staff desk on {base}/staff/ (development only)"
    )
    run_simple("127.0.0.1", port, app, threaded=True, request_handler=QuietRequestHandler)


if __name__ == "__main__":
    main()
