"""Every failure gives the form back with the tipster's text: CSRF, size, limits, database."""

from __future__ import annotations

import io
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from itsdangerous import TimestampSigner

from form_service import migrate
from form_service.frame import STATE_KEY as EXTENSION
from form_service.intake import create_app
from form_service.intake.request import MAX_BODY_BYTES
from form_service.settings import Settings
from tests.form_service.factories import make_settings
from tests.form_service.intake.helpers import (
    TOKEN_PATTERN,
    form_token,
    multipart,
    post_tip,
    stored_tips,
    tip_fields,
)

TYPED = {"message": "MARKER-MESSAGE 私は見ました", "when_where": "MARKER-WHERE 1978"}


def assert_form_given_back(response: Any, status: int, notice: str) -> str:
    """Check a re-shown form: status, notice, the typed text and a fresh token."""
    html = response.get_data(as_text=True)
    assert response.status_code == status
    assert response.headers["Cache-Control"] == "no-store"
    assert 'class="error-summary"' in html
    assert notice in html
    assert "MARKER-MESSAGE 私は見ました" in html and "MARKER-WHERE 1978" in html
    assert TOKEN_PATTERN.search(html)
    return html


def token_aged(client: Any, monkeypatch: pytest.MonkeyPatch, seconds: int) -> str:
    """Fetch a form whose token was signed `seconds` ago."""
    now = int(time.time())
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: now - seconds)
    token = form_token(client)
    monkeypatch.undo()
    return token


def test_a_post_without_csrf_token_keeps_the_text(client: Any, settings: Settings) -> None:
    form_token(client)
    body, content_type = multipart(tip_fields(**TYPED))
    response = client.post("/form/en/", data=body, content_type=content_type)
    assert_form_given_back(response, 400, "Nothing was sent")
    assert stored_tips(settings) == []


def test_a_post_without_the_session_cookie_keeps_the_text(
    intake_app: Any, settings: Settings
) -> None:
    token = form_token(intake_app.test_client())
    response = post_tip(intake_app.test_client(), token=token, **TYPED)
    assert_form_given_back(response, 400, "did not keep our cookie")
    assert stored_tips(settings) == []


def test_a_form_left_open_overnight_still_sends(
    client: Any, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = token_aged(client, monkeypatch, 23 * 3600)
    response = post_tip(client, token=token, **TYPED)
    assert response.status_code == 200
    assert len(stored_tips(settings)) == 1


def test_an_expired_token_gives_the_form_back_and_the_new_token_works(
    client: Any, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = token_aged(client, monkeypatch, settings.csrf_time_limit + 60)
    response = post_tip(client, token=token, **TYPED)
    html = assert_form_given_back(response, 400, "open for a long time")
    assert stored_tips(settings) == []
    fresh = TOKEN_PATTERN.search(html)
    assert fresh is not None
    assert post_tip(client, token=fresh.group(1), **TYPED).status_code == 200
    assert len(stored_tips(settings)) == 1


def test_a_too_large_upload_gets_a_friendly_page_with_the_text(
    client: Any, settings: Settings
) -> None:
    huge = io.BytesIO(b"a" * (MAX_BODY_BYTES + 1024))
    fields = {"csrf_token": form_token(client), **tip_fields(**TYPED)}
    fields["attachments"] = [(huge, "video.txt", "text/plain")]
    body, content_type = multipart(fields)
    response = client.post("/form/en/", data=body, content_type=content_type)
    html = assert_form_given_back(response, 413, "Your files were too large")
    assert "attach them again" in html
    assert stored_tips(settings) == []


def test_too_many_posts_are_limited_with_the_text_kept(db_url: str, desk_public_key: str) -> None:
    app = create_app(make_settings(db_url, desk_public_key, ratelimit_submit="2 per hour"))
    client = app.test_client()
    try:
        for _ in range(2):
            assert post_tip(client, **TYPED).status_code == 200
        response = post_tip(client, **TYPED)
        assert_form_given_back(response, 429, "Too many messages")
        assert response.headers["Retry-After"] == "3600"
        # The form itself stays reachable (only posts are limited).
        assert client.get("/form/en/").status_code == 200
        [limiter] = app.extensions["limiter"]
        keys = " ".join(map(str, limiter.limiter.storage.storage))
        assert keys and "127.0.0.1" not in keys
    finally:
        app.extensions[EXTENSION].engine.dispose()


@pytest.fixture
def redis_keys(redis_url: str) -> Iterator[Any]:
    """Yield a Redis client, with this service's rate-limit keys removed before and after."""
    import redis

    connection = redis.Redis.from_url(redis_url)
    for key in connection.scan_iter("*intake*"):
        connection.delete(key)
    yield connection
    for key in connection.scan_iter("*intake*"):
        connection.delete(key)
    connection.close()


def test_limits_in_redis_hold_across_workers_and_store_no_address(
    db_url: str, desk_public_key: str, redis_url: str, redis_keys: Any
) -> None:
    settings = make_settings(
        db_url, desk_public_key, ratelimit_submit="2 per hour", ratelimit_storage_url=redis_url
    )
    workers = [create_app(settings), create_app(settings)]
    try:
        assert post_tip(workers[0].test_client(), **TYPED).status_code == 200
        assert post_tip(workers[1].test_client(), **TYPED).status_code == 200
        response = post_tip(workers[0].test_client(), **TYPED)
        assert_form_given_back(response, 429, "Too many messages")
        keys = [key.decode() for key in redis_keys.scan_iter("*intake*")]
        assert keys
        for key in keys:
            assert "127.0.0.1" not in key
            assert b"127.0.0.1" not in (redis_keys.dump(key) or b"")
    finally:
        for app in workers:
            app.extensions[EXTENSION].engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def down_settings(
    request: pytest.FixtureRequest, tmp_path: Path, desk_public_key: str
) -> Iterator[Settings]:
    """Yield settings whose database refuses writes: SQLite locked, PostgreSQL unreachable."""
    if request.param == "postgresql":
        # Nothing listens on the discard port: every connection attempt fails at once.
        yield make_settings("postgresql+psycopg://postgres@127.0.0.1:9/none", desk_public_key)
        return
    path = tmp_path / "locked.sqlite3"
    settings = make_settings(f"sqlite:///{path}", desk_public_key, sqlite_busy_timeout_ms=50)
    migrate.upgrade(settings)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    yield settings
    holder.execute("ROLLBACK")
    holder.close()


def test_a_database_outage_gives_503_with_retry_after_and_the_text(
    down_settings: Settings,
) -> None:
    app = create_app(down_settings)
    try:
        response = post_tip(app.test_client(), **TYPED)
        assert_form_given_back(response, 503, "Our service has a problem")
        assert int(response.headers["Retry-After"]) > 0
    finally:
        app.extensions[EXTENSION].engine.dispose()


def test_a_bug_shows_the_sites_error_page(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> str:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr("form_service.intake.views.store_tip", broken)
    response = post_tip(client, **TYPED)
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Sorry, something went wrong" in html and 'class="site-header"' in html
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", ["/form/xx/", "/form/en/nothing-here", "/form/EN/"])
def test_an_unknown_address_gets_the_sites_404_page(client: Any, path: str) -> None:
    response = client.get(path)
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "Page not found" in html and 'class="site-header"' in html
    assert '<html lang="en">' in html
    assert response.headers["Cache-Control"] == "no-store"


def test_another_method_gets_a_styled_page(client: Any) -> None:
    response = client.put("/form/en/")
    assert response.status_code == 405
    assert 'class="site-header"' in response.get_data(as_text=True)
