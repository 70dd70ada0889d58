"""The check pages' sessions in a real Redis: shared by workers, sealed, idle for 15 minutes.

With several gunicorn workers a session must live in Redis, not in one worker's memory; what
Redis holds must open nothing without the browser's token. Redis database 4 keeps these keys
apart from the other tests' (0) and from every local stack's (5 to 15, tools/stack/prepare.py,
whose start empties them); every key a test makes is deleted after it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from form_service.frame import STATE_KEY
from form_service.intake.checks import IDLE, CheckSessions, RedisStore, _store_key
from form_service.settings import IntakeSettings
from tests.form_service.intake.helpers import post_tip, receipt_code
from tests.form_service.intake.test_check import CHECK, look_up

HASH, KEY = b"h" * 32, b"k" * 32


@pytest.fixture
def redis_db(redis_url: str) -> Iterator[tuple[str, Any]]:
    """Yield the URL of Redis database 4 and a client; delete the sessions made, after."""
    import redis

    url = re.sub(r"/\d+$", "/4", redis_url)
    client = redis.Redis.from_url(url)
    before = set(client.scan_iter("check:*"))
    yield url, client
    made = set(client.scan_iter("check:*")) - before
    if made:
        client.delete(*made)
    client.close()


def test_a_session_opened_by_one_worker_is_found_by_another(
    redis_db: tuple[str, Any],
) -> None:
    url, _ = redis_db
    first, second = CheckSessions(RedisStore(url)), CheckSessions(RedisStore(url))
    token = first.open(HASH, KEY)
    found = second.load(token)
    assert found is not None
    assert (found.receipt_hash, found.private_key) == (HASH, KEY)
    second.end(token)
    assert first.load(token) is None


def test_redis_holds_neither_the_token_nor_the_hash_nor_the_key(
    redis_db: tuple[str, Any],
) -> None:
    url, client = redis_db
    token = CheckSessions(RedisStore(url)).open(HASH, KEY)
    [name] = [n for n in client.scan_iter("check:*") if n == f"check:{_store_key(token)}".encode()]
    value = client.get(name)
    for secret in (token.encode(), HASH, KEY, HASH.hex().encode(), KEY.hex().encode()):
        assert secret not in name and secret not in value
    # A copy of what Redis holds, under another name, opens nothing without the token.
    assert CheckSessions(RedisStore(url)).load("another-token") is None


def test_each_use_gives_a_session_its_fifteen_idle_minutes_again(
    redis_db: tuple[str, Any],
) -> None:
    url, client = redis_db
    sessions = CheckSessions(RedisStore(url))
    token = sessions.open(HASH, KEY)
    name = f"check:{_store_key(token)}"
    assert 0 < client.ttl(name) <= IDLE.total_seconds()
    client.expire(name, 5)  # as if 14 minutes 55 seconds went by unused
    assert sessions.load(token) is not None
    assert client.ttl(name) > IDLE.total_seconds() - 5
    client.delete(name)  # what Redis does once the idle time has run out
    assert sessions.load(token) is None


def test_a_value_of_another_format_is_no_session_and_no_error(
    redis_db: tuple[str, Any],
) -> None:
    url, client = redis_db
    sessions = CheckSessions(RedisStore(url))
    token = sessions.open(HASH, KEY)
    client.set(f"check:{_store_key(token)}", b"not sealed by this token", ex=60)
    assert sessions.load(token) is None
    assert sessions.load("x" * 65) is None  # longer than any token: not even looked up


def test_the_intake_keeps_its_sessions_in_redis_when_its_limits_do(
    settings: IntakeSettings, redis_db: tuple[str, Any]
) -> None:
    from form_service.intake import create_app

    url, client = redis_db
    redis_settings = IntakeSettings(**{**vars(settings), "ratelimit_storage_url": url})
    workers = [create_app(redis_settings) for _ in range(2)]  # two workers, one Redis
    try:
        browser = workers[0].test_client()
        code = receipt_code(post_tip(browser))
        before = set(client.scan_iter("check:*"))
        assert look_up(browser, code).status_code == 303
        assert len(set(client.scan_iter("check:*")) - before) == 1
        other = workers[1].test_client()
        cookie = browser.get_cookie("check_session", path="/form/")
        assert cookie is not None
        other.set_cookie("check_session", cookie.value, path="/form/")
        assert "Leave" in other.get(CHECK).get_data(as_text=True)
    finally:
        for app in workers:
            app.extensions[STATE_KEY].engine.dispose()
