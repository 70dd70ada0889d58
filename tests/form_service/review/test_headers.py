"""Every desk response stays out of caches and frames; its cookie is HttpOnly, Strict, Secure."""

from __future__ import annotations

from flask.testing import FlaskClient
from nacl.public import PrivateKey
from sqlalchemy.orm import Session

from form_service.settings import ReviewSettings


def test_desk_responses_are_never_cached_and_locked_down(review_client: FlaskClient) -> None:
    response = review_client.get("/sign-in")
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert "script-src" not in response.headers["Content-Security-Policy"]
    page = response.get_data(as_text=True)
    assert "<script" not in page
    assert "style=" not in page


def test_cookies_are_httponly_samesite_strict_and_secure_in_production(
    review_settings: ReviewSettings, desk_private_key: PrivateKey, db: Session
) -> None:
    from dataclasses import replace

    from form_service.review import create_app

    app = create_app(replace(review_settings, cookie_secure=True), private_key=desk_private_key)
    client = app.test_client()
    header = client.get("/sign-in", base_url="https://desk.example").headers["Set-Cookie"]
    assert header.startswith("desk_session=")
    assert "HttpOnly" in header
    assert "SameSite=Strict" in header
    assert "Secure" in header
    assert "Path=/" in header
