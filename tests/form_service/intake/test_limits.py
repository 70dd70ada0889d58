"""Rate limits on posting tips: keyed by a hash of the address, held across workers in Redis."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from form_service.frame import STATE_KEY as EXTENSION
from form_service.intake import create_app
from tests.form_service.factories import make_settings
from tests.form_service.intake.helpers import TYPED, assert_form_given_back, post_tip


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
