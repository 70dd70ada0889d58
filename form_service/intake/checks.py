"""Short server-side sessions after a lookup, and the lookup's limits.

A session lives 15 minutes after its last use. The browser holds only a random token; the
store holds, under a hash of that token, the tip's receipt hash and reply key encrypted with a
key derived from the token, so neither the store (memory or Redis) nor a copy of it opens any
reply.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from nacl.exceptions import CryptoError
from nacl.secret import SecretBox

from form_service.clock import Clock
from form_service.intake.limits import Decision

IDLE = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class CheckSession:
    """What a session after a lookup knows: which tip and the key that opens its replies."""

    # The tip's receipt hash: the one way the intake may name a tip (privileges.py).
    receipt_hash: bytes
    private_key: bytes


class Store(Protocol):
    """Where sessions live: a key, its encrypted value, how long it may stay idle."""

    def put(self, key: str, value: bytes, idle: dt.timedelta) -> None: ...
    def take(self, key: str, idle: dt.timedelta) -> bytes | None: ...
    def drop(self, key: str) -> None: ...


class MemoryStore:
    """Sessions in this process (one worker, development, tests)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._items: dict[str, tuple[bytes, dt.datetime]] = {}
        self._lock = threading.Lock()

    def put(self, key: str, value: bytes, idle: dt.timedelta) -> None:
        """Keep a value until it has been idle too long."""
        with self._lock:
            now = self._clock.now()
            self._items = {k: v for k, v in self._items.items() if v[1] + idle > now}
            self._items[key] = (value, now)

    def take(self, key: str, idle: dt.timedelta) -> bytes | None:
        """Return a value that has not been idle too long, and mark it used now."""
        with self._lock:
            found = self._items.get(key)
            now = self._clock.now()
            if found is None or found[1] + idle <= now:
                self._items.pop(key, None)
                return None
            self._items[key] = (found[0], now)
            return found[0]

    def drop(self, key: str) -> None:
        """Forget a value."""
        with self._lock:
            self._items.pop(key, None)


class RedisStore:
    """Sessions in Redis, shared by every worker; Redis expires them when idle."""

    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url)

    def put(self, key: str, value: bytes, idle: dt.timedelta) -> None:
        """Keep a value for the idle time."""
        self._redis.set(f"check:{key}", value, ex=idle)

    def take(self, key: str, idle: dt.timedelta) -> bytes | None:
        """Return a value and give it the whole idle time again."""
        value: Any = self._redis.getex(f"check:{key}", ex=idle)
        return bytes(value) if value is not None else None

    def drop(self, key: str) -> None:
        """Forget a value."""
        self._redis.delete(f"check:{key}")


class CheckSessions:
    """Open, load and end sessions after a lookup."""

    def __init__(self, store: Store, idle: dt.timedelta = IDLE) -> None:
        self._store = store
        self._idle = idle

    def open(self, receipt_hash: bytes, private_key: bytes) -> str:
        """Start a session for a tip and return the token for the browser."""
        token = secrets.token_urlsafe(32)
        plain = json.dumps({"hash": receipt_hash.hex(), "key": private_key.hex()}).encode("ascii")
        self._store.put(
            _store_key(token), bytes(SecretBox(_box_key(token)).encrypt(plain)), self._idle
        )
        return token

    def load(self, token: str | None) -> CheckSession | None:
        """Return the session behind a token, or None when it ended or never was."""
        if not token or len(token) > 64:
            return None
        sealed = self._store.take(_store_key(token), self._idle)
        if sealed is None:
            return None
        try:
            data = json.loads(SecretBox(_box_key(token)).decrypt(sealed))
            return CheckSession(bytes.fromhex(data["hash"]), bytes.fromhex(data["key"]))
        except (CryptoError, ValueError, KeyError, TypeError):
            return None  # not a session of this version: the tipster types the code again

    def end(self, token: str | None) -> None:
        """End the session behind a token (the Leave button)."""
        if token and len(token) <= 64:
            self._store.drop(_store_key(token))


def _store_key(token: str) -> str:
    """Name a session in the store by a hash of its token, never the token."""
    return hashlib.sha256(b"check-session id\0" + token.encode("ascii", "replace")).hexdigest()


def _box_key(token: str) -> bytes:
    """Derive the key that encrypts a session's value from its token."""
    return hashlib.sha256(b"check-session key\0" + token.encode("ascii", "replace")).digest()


def make_sessions(storage_url: str, clock: Clock) -> CheckSessions:
    """Keep sessions in Redis when the limits use Redis, else in this process's memory."""
    if storage_url.startswith(("redis://", "rediss://", "unix://")):
        return CheckSessions(RedisStore(storage_url))
    return CheckSessions(MemoryStore(clock))


# The lookup spends from the intake's shared limits (limits.py), bucket "lookup".
Spend = Callable[[str, str], Decision]
