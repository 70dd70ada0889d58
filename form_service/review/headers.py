"""The desk's cookie scope and the headers that keep its pages out of caches and frames."""

from __future__ import annotations

from flask import Flask, Response, request
from flask.sessions import SecureCookieSessionInterface


class DeskSessionInterface(SecureCookieSessionInterface):
    """The signed cookie (token, CSRF secret, language) scoped to the desk's own path."""

    def get_cookie_path(self, app: Flask) -> str:
        """Send the cookie only to the desk (/staff/ under the development server)."""
        return (request.script_root or "") + "/"


CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def secure_headers(response: Response) -> Response:
    """Keep desk pages out of every cache and lock down what a page may load or do."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    # same-origin, not no-referrer: Flask-WTF checks the Referer on HTTPS posts.
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
    response.headers.setdefault("Content-Security-Policy", CSP)
    return response
