"""`make run`: serve the built site and the form together on 127.0.0.1 for development.

On first start it creates instance/ with development-only secrets and a desk key pair
(its passphrase stored beside it: never do that in production), then migrates SQLite.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import logging
import mimetypes
import os
import secrets
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from werkzeug.serving import WSGIRequestHandler, run_simple
from werkzeug.wrappers import Response

from form_service import migrate
from form_service.intake import create_app
from form_service.languages import load_languages
from form_service.settings import PROJECT_DIR, Settings

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
DEV_PASSPHRASE_FILE = "desk-key-passphrase.DEV-ONLY.txt"  # noqa: S105 - a file name
DEV_KEY_FILE = "desk-key.json"
DEV_SECRETS_FILE = "secrets.DEV-ONLY.json"


def development_environment(instance_dir: Path, port: int) -> dict[str, str]:
    """Create the development instance folder on first start and return its environment."""
    instance_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    secrets_file = instance_dir / DEV_SECRETS_FILE
    if not secrets_file.exists():
        values = {
            "secret_key": secrets.token_urlsafe(48),
            "receipt_pepper": secrets.token_urlsafe(48),
        }
        write_private(secrets_file, json.dumps(values, indent=2).encode("utf-8"))
    key_file = instance_dir / DEV_KEY_FILE
    if not key_file.exists():
        # The key-file code is the desk's; the dev server only creates a throwaway pair.
        deskkey = importlib.import_module("form_service.deskkey")
        passphrase = secrets.token_urlsafe(24)
        _, content = deskkey.generate_key_pair(passphrase, deskkey.INTERACTIVE)
        write_private(instance_dir / DEV_PASSPHRASE_FILE, (passphrase + "\n").encode("utf-8"))
        write_private(key_file, content)
    stored = json.loads(secrets_file.read_text(encoding="utf-8"))
    public_key = json.loads(key_file.read_text(encoding="utf-8"))["public_key"]
    # FORM_SERVICE_* variables in the environment win over the development values.
    env = dict(os.environ)
    for name, value in {
        "SECRET_KEY": stored["secret_key"],
        "RECEIPT_PEPPER": stored["receipt_pepper"],
        "DESK_PUBLIC_KEY": public_key,
        "INSTANCE_DIR": str(instance_dir),
        "ENV": "development",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "COOKIE_SECURE": "false",
        "LOG_LEVEL": "INFO",
    }.items():
        env.setdefault(f"FORM_SERVICE_{name}", value)
    return env


def default_instance_dir() -> Path:
    """Return the development instance folder ($FORM_SERVICE_INSTANCE_DIR or ./instance)."""
    return Path(os.environ.get("FORM_SERVICE_INSTANCE_DIR") or PROJECT_DIR / "instance").resolve()


def bootstrap(instance_dir: Path, port: int) -> Settings:
    """Create the development instance on first start, migrate it and return its settings."""
    settings = Settings.from_env(development_environment(instance_dir, port))
    migrate.upgrade(settings)
    return settings


def write_private(path: Path, content: bytes) -> None:
    """Write a file readable by its owner only."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)


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


def review_app(settings: Settings) -> WSGIApp | None:
    """Build the review desk for development if it provides a hook for it (a later issue)."""
    if importlib.util.find_spec("form_service.review") is None:
        return None
    if importlib.util.find_spec("form_service.review.devserver") is None:
        return None
    module = importlib.import_module("form_service.review.devserver")
    app: WSGIApp = module.make_app(settings)
    return app


class QuietRequestHandler(WSGIRequestHandler):
    """Werkzeug's handler without its access log, which records client addresses."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """Log nothing about requests."""

    def log(self, type: str, message: str, *args: Any) -> None:
        """Log server messages without the client's address or the time."""
        logging.getLogger("werkzeug").log(
            logging.ERROR if type == "error" else logging.INFO, message, *args
        )


def build_app(settings: Settings, site_dir: Path) -> WSGIApp:
    """Combine the intake app, the review desk (if any) and the static site."""
    mounts: dict[str, WSGIApp] = {"/form": create_app(settings)}
    review = review_app(settings)
    if review is not None:
        mounts["/staff"] = review
    codes = [language.code for language in load_languages(settings.theme_dir)]
    return make_dispatcher(mounts, StaticSite(site_dir, codes))


def main() -> None:
    """Start the development server on 127.0.0.1:$PORT (8000 by default)."""
    port = int(os.environ.get("PORT", "8000"))
    settings = bootstrap(default_instance_dir(), port)
    app = build_app(settings, Path(os.environ.get("SITE_OUTPUT_DIR") or PROJECT_DIR / "output"))
    review = importlib.util.find_spec("form_service.review") is not None
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    base = f"http://127.0.0.1:{port}"
    print(f"Serving the site on {base}/, the form on {base}/form/en/", end="")
    print(f" and the staff desk on {base}/staff/ (development only)" if review else "")
    run_simple("127.0.0.1", port, app, threaded=True, request_handler=QuietRequestHandler)


if __name__ == "__main__":
    main()
