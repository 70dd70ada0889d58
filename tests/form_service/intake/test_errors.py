"""Every failure gives the form back with the tipster's text: CSRF, size, database, bugs.

A behaviour suite of the intake's failure paths (the error handlers in views.py, salvage.py
for bodies too large to parse, submit.py when the database is down), so it keeps a
behaviour name; the rate limit's own tests are in test_limits.py.
"""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from form_service import migrate
from form_service.clock import FixedClock
from form_service.frame import STATE_KEY as EXTENSION
from form_service.intake import create_app, spool
from form_service.intake.request import MAX_BODY_BYTES
from form_service.settings import Settings
from tests.form_service.factories import make_settings
from tests.form_service.intake.helpers import (
    TOKEN_PATTERN,
    TYPED,
    assert_form_given_back,
    form_token,
    multipart,
    post_tip,
    receipt_code,
    stored_tips,
    tip_fields,
)


def token_aged(client: Any, clock: FixedClock, seconds: int) -> str:
    """Fetch a form's token, then move the clock on so it was signed `seconds` ago."""
    token = form_token(client)
    clock.advance(seconds=seconds)
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
    client: Any, settings: Settings, clock: FixedClock
) -> None:
    token = token_aged(client, clock, 23 * 3600)
    response = post_tip(client, token=token, **TYPED)
    assert response.status_code == 200
    assert len(stored_tips(settings)) == 1


def test_an_expired_token_gives_the_form_back_and_the_new_token_works(
    client: Any, settings: Settings, clock: FixedClock
) -> None:
    token = token_aged(client, clock, settings.csrf_time_limit + 60)
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


@pytest.fixture(params=["sqlite", "postgresql"])
def down_settings(
    request: pytest.FixtureRequest, tmp_path: Path, desk_public_key: str
) -> Iterator[Settings]:
    """Yield settings whose database refuses writes: SQLite locked, PostgreSQL unreachable."""
    if request.param == "postgresql":
        # Nothing listens on the discard port: every connection attempt fails at once.
        yield make_settings(
            "postgresql+psycopg://postgres@127.0.0.1:9/none",
            desk_public_key,
            instance_dir=tmp_path / "instance",
        )
        return
    path = tmp_path / "locked.sqlite3"
    settings = make_settings(
        f"sqlite:///{path}",
        desk_public_key,
        sqlite_busy_timeout_ms=50,
        instance_dir=tmp_path / "instance",
    )
    migrate.upgrade(settings)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    yield settings
    holder.execute("ROLLBACK")
    holder.close()


def test_a_database_outage_does_not_stop_a_tip_which_waits_in_the_spool(
    down_settings: Settings,
) -> None:
    app = create_app(down_settings)
    try:
        response = post_tip(app.test_client(), flush=False, **TYPED)
        assert response.status_code == 200
        assert receipt_code(response)
        [record] = spool.waiting(down_settings.spool_path)
        assert b"MARKER" not in record.read_bytes()
    finally:
        app.extensions[EXTENSION].engine.dispose()


def test_a_spool_that_cannot_be_written_gives_503_with_retry_after_and_the_text(
    db_url: str, desk_public_key: str, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    app = create_app(make_settings(db_url, desk_public_key, spool_dir=blocker / "spool"))
    try:
        response = post_tip(app.test_client(), **TYPED)
        assert_form_given_back(response, 503, "Our service has a problem")
        assert int(response.headers["Retry-After"]) > 0
    finally:
        app.extensions[EXTENSION].engine.dispose()


def test_a_bug_shows_the_sites_error_page(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any, **kwargs: Any) -> str:
        raise RuntimeError("simulated bug")

    monkeypatch.setattr("form_service.intake.views.spool_tip", broken)
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
