"""Abuse limits: per form session plus a global ceiling, never per address (limits.py)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from form_service.clock import FixedClock
from form_service.frame import STATE_KEY as EXTENSION
from form_service.intake import create_app
from form_service.intake.limits import Bucket, Limits, MemoryCounter, RedisCounter
from form_service.settings import Rate
from tests.form_service.factories import make_settings
from tests.form_service.intake.helpers import (
    TYPED,
    assert_form_given_back,
    form_token,
    multipart,
    post_tip,
    stored_tips,
)

MOMENT = dt.datetime(2026, 3, 1, 10, 0, 30, tzinfo=dt.UTC)


def make_app(db_url: str, desk_public_key: str, **overrides: Any) -> Any:
    """Create an intake with the production limits unless overridden."""
    options = {"ratelimit_session": "10 per hour; 30 per day"}
    options["ratelimit_global"] = "200 per hour; 1000 per day"
    options.update(overrides)
    return create_app(make_settings(db_url, desk_public_key, **options))


def junk_posts(client: Any, count: int) -> set[int]:
    """Send posts that fail CSRF or validation, from one address; return their statuses."""
    token = form_token(client)
    statuses = set()
    for number in range(count):
        if number % 3 == 0:
            response = client.post("/form/en/", data=b"", content_type="text/plain")
        elif number % 3 == 1:
            response = client.post("/form/en/", data={"csrf_token": "forged", "topic": "x"})
        else:
            body, content_type = multipart({"csrf_token": token, "topic": "", "message": ""})
            response = client.post("/form/en/", data=body, content_type=content_type)
        statuses.add(response.status_code)
    return statuses


def test_a_thousand_junk_posts_from_one_address_do_not_stop_a_genuine_tip(
    db_url: str, desk_public_key: str
) -> None:
    app = make_app(db_url, desk_public_key)
    try:
        # Everything comes from one address, as behind an onion service.
        flood = app.test_client()
        # Text bodies are refused (415) before the token is read; the rest fail CSRF or checks.
        assert junk_posts(flood, 1000) == {400, 415}
        tipster = app.test_client()
        response = post_tip(tipster, **TYPED)
        assert response.status_code == 200
        assert len(stored_tips(app.extensions[EXTENSION].settings)) == 1
    finally:
        app.extensions[EXTENSION].engine.dispose()


def test_one_session_is_limited_and_another_from_the_same_address_is_not(
    db_url: str, desk_public_key: str
) -> None:
    app = make_app(db_url, desk_public_key, ratelimit_session="2 per hour")
    try:
        client = app.test_client()
        for _ in range(2):
            assert post_tip(client, **TYPED).status_code == 200
        response = post_tip(client, **TYPED)
        html = assert_form_given_back(response, 429, "Too many messages have reached us")
        assert "your network" not in html
        assert 0 < int(response.headers["Retry-After"]) <= 3600
        # The form itself stays reachable, and a new session can send.
        assert client.get("/form/en/").status_code == 200
        assert post_tip(app.test_client(), **TYPED).status_code == 200
    finally:
        app.extensions[EXTENSION].engine.dispose()


def test_the_global_ceiling_holds_across_sessions(db_url: str, desk_public_key: str) -> None:
    app = make_app(db_url, desk_public_key, ratelimit_global="3 per hour")
    try:
        statuses = [post_tip(app.test_client(), **TYPED).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        assert len(stored_tips(app.extensions[EXTENSION].settings)) == 3
    finally:
        app.extensions[EXTENSION].engine.dispose()


def test_a_session_refused_by_its_own_limit_does_not_spend_the_global_ceiling() -> None:
    clock = FixedClock(MOMENT)
    bucket = Bucket(per_key=(Rate(1, 3600),), overall=(Rate(5, 3600),))
    limits = Limits({"submit": bucket}, MemoryCounter(clock), clock)
    assert limits.spend("submit", "hammer").allowed
    for _ in range(100):
        assert not limits.spend("submit", "hammer").allowed
    assert all(limits.spend("submit", f"other-{n}").allowed for n in range(4))
    assert not limits.spend("submit", "one-too-many").allowed


def test_windows_reset_with_the_clock_and_say_how_long_to_wait() -> None:
    clock = FixedClock(MOMENT)
    limits = Limits(
        {"submit": Bucket(per_key=(Rate(1, 3600), Rate(2, 86400)), overall=())},
        MemoryCounter(clock),
        clock,
    )
    assert limits.spend("submit", "k").allowed
    refused = limits.spend("submit", "k")
    # 10:00:30 -> the hour window ends at 11:00:00.
    assert (refused.allowed, refused.retry_after) == (False, 3571)
    clock.advance(hours=1)
    # The refused post did not count: the second of the day goes through.
    assert limits.spend("submit", "k").allowed
    clock.advance(hours=1)
    refused = limits.spend("submit", "k")
    assert not refused.allowed and refused.retry_after > 3600


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[tuple[Any, str]]:
    """Yield a Redis client and a bucket name unique to this test, cleaned up after."""
    import redis

    connection = redis.Redis.from_url(redis_url)
    bucket = f"test-{uuid.uuid4().hex}"
    yield connection, bucket
    for key in connection.scan_iter(f"*{bucket}*"):
        connection.delete(key)
    connection.close()


def test_limits_in_redis_hold_across_workers_and_expire(
    redis_url: str, redis_prefix: tuple[Any, str]
) -> None:
    connection, name = redis_prefix
    clock = FixedClock(MOMENT)
    bucket = Bucket(per_key=(Rate(2, 3600),), overall=(Rate(3, 3600),))
    # Two workers: two Limits objects on the same Redis.
    workers = [Limits({name: bucket}, RedisCounter(redis_url), clock) for _ in range(2)]
    assert workers[0].spend(name, "session-a").allowed
    assert workers[1].spend(name, "session-a").allowed
    assert not workers[0].spend(name, "session-a").allowed
    assert workers[1].spend(name, "session-b").allowed
    assert not workers[0].spend(name, "session-c").allowed
    keys = [key.decode() for key in connection.scan_iter(f"*{name}*")]
    assert keys and all(0 < connection.ttl(key) <= 3600 for key in keys)


def test_the_app_counts_in_redis_and_stores_no_address_or_session_secret(
    db_url: str, desk_public_key: str, redis_url: str, redis_prefix: tuple[Any, str]
) -> None:
    connection, _ = redis_prefix
    settings = make_settings(
        db_url, desk_public_key, ratelimit_session="1 per hour", ratelimit_storage_url=redis_url
    )
    workers = [create_app(settings), create_app(settings)]
    try:
        client = workers[0].test_client()
        assert post_tip(client, **TYPED).status_code == 200
        with client.session_transaction("/form/en/") as session:
            secret = session["csrf_token"]
        # The same session through the other worker (they share the cookie's secret key).
        other = workers[1].test_client()
        cookie = client.get_cookie("intake_session", path="/form/")
        assert cookie is not None
        other.set_cookie("intake_session", cookie.value, path="/form/")
        response = post_tip(other, **TYPED)
        assert_form_given_back(response, 429, "Too many messages have reached us")
        keys = [key.decode() for key in connection.scan_iter("intake-limit:submit:*")]
        assert keys
        for key in keys:
            assert "127.0.0.1" not in key and secret not in key
    finally:
        for key in connection.scan_iter("intake-limit:submit:*"):
            connection.delete(key)
        for app in workers:
            app.extensions[EXTENSION].engine.dispose()


def test_a_broken_limit_store_lets_tipsters_through(db_url: str, desk_public_key: str) -> None:
    # Nothing listens on port 1: every count fails, and the tip must still be taken.
    app = make_app(db_url, desk_public_key, ratelimit_storage_url="redis://127.0.0.1:1/0")
    try:
        assert post_tip(app.test_client(), **TYPED).status_code == 200
    finally:
        app.extensions[EXTENSION].engine.dispose()
