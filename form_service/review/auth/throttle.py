"""Throttling of desk sign-ins, counted in storage shared by every worker process.

Every attempt is counted atomically BEFORE the slow Argon2 check, so parallel requests
cannot all slip under a limit. Three limits apply to the password step:

- per address: at most `per_address` attempts a minute from one client address;
- per desk: at most `argon2_per_minute` password checks a minute in all, so rotating account
  names cannot make the desk spend Argon2's memory without bound;
- per account: `per_account` attempts a minute; after that many failures in a row, one
  attempt per growing delay (15, 30, 60 ... seconds, at most MAX_DELAY). A stranger who does not
  know the password can only slow the account down for minutes, never lock it for an hour.

TOTP failures count only after a correct password (the code page needs the half session);
they feed the same per-account failures, and CODES_PER_PASSWORD wrong codes end the half
session, so the password is needed again. Times come from the injected clock; the storage
only keeps counters (Redis in production; memory:// is per process, for development).
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from form_service.clock import Clock

WINDOW = 60
FIRST_DELAY = 15
MAX_DELAY = 300
CODES_PER_PASSWORD = 3
# Failures are forgotten a day after the last one (or at once after a complete sign-in).
FAILURE_MEMORY = 24 * 3600


class Counters(Protocol):
    """The one atomic operation the throttle needs, plus reading and forgetting."""

    def hit(self, key: str, ttl: int) -> int:
        """Add one to a counter (created with a lifetime) and return its new value."""

    def get(self, key: str) -> int:
        """Return a counter's value (0 if absent)."""

    def put(self, key: str, value: int, ttl: int) -> None:
        """Set a counter to a value (a moment, in seconds) for ttl seconds."""

    def forget(self, key: str) -> None:
        """Delete a counter."""


class MemoryCounters:
    """Counters in this process only (development and tests)."""

    def __init__(self) -> None:
        """Start empty."""
        self._values: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, ttl: int) -> int:
        """Add one under the lock; an expired counter starts again from zero."""
        # Expiry is housekeeping only (the keys carry their window), so the wall clock is fine.
        now = time.monotonic()
        with self._lock:
            value, expires = self._values.get(key, (0, now + ttl))
            if expires <= now:
                value, expires = 0, now + ttl
            self._values[key] = (value + 1, expires)
            return value + 1

    def get(self, key: str) -> int:
        """Return the value, 0 if absent or expired."""
        with self._lock:
            value, expires = self._values.get(key, (0, 0.0))
            return value if expires > time.monotonic() else 0

    def put(self, key: str, value: int, ttl: int) -> None:
        """Set the value for ttl seconds."""
        with self._lock:
            self._values[key] = (value, time.monotonic() + ttl)

    def forget(self, key: str) -> None:
        """Delete the counter."""
        with self._lock:
            self._values.pop(key, None)


class RedisCounters:
    """Counters in Redis: INCR and EXPIRE in one transaction, shared by every worker."""

    def __init__(self, url: str) -> None:
        """Connect lazily to the Redis server at url."""
        import redis

        self._redis = redis.Redis.from_url(url)

    def hit(self, key: str, ttl: int) -> int:
        """Add one atomically and keep the counter for ttl seconds."""
        pipe = self._redis.pipeline(transaction=True)
        pipe.incr(key)
        pipe.expire(key, ttl, nx=True)
        value, _ = pipe.execute()
        return int(value)

    def get(self, key: str) -> int:
        """Return the value, 0 if absent."""
        value = self._redis.get(key)
        return int(value) if value is not None else 0  # type: ignore[arg-type]

    def put(self, key: str, value: int, ttl: int) -> None:
        """Set the value for ttl seconds."""
        self._redis.set(key, value, ex=ttl)

    def forget(self, key: str) -> None:
        """Delete the counter."""
        self._redis.delete(key)


def counters_from_url(url: str) -> Counters:
    """Return the counters for a storage URL: memory:// or redis://..."""
    scheme = urlsplit(url).scheme
    if scheme == "memory":
        return MemoryCounters()
    if scheme in {"redis", "rediss", "unix"}:
        return RedisCounters(url)
    raise ValueError(f"unsupported throttle storage {scheme!r}")


@dataclass(frozen=True)
class Refusal:
    """Why an attempt was refused without any check, and how long to wait."""

    reason: str  # "account", "address" or "desk"
    seconds: int


def _digest(kind: str, value: str) -> str:
    """Return a storage key that does not reveal the account name or address."""
    return f"desk-sign-in:{kind}:" + hashlib.sha256(value.encode("utf-8")).hexdigest()[:32]


def delay_after(failures: int, free: int) -> int:
    """Return how long an account waits after `failures` failures in a row (0 while free)."""
    if failures < free:
        return 0
    return int(min(MAX_DELAY, FIRST_DELAY * 2 ** min(failures - free, 10)))


class SignInThrottle:
    """Admit or refuse sign-in attempts before any password is checked."""

    def __init__(
        self,
        storage_url: str,
        per_account: int,
        clock: Clock,
        per_address: int = 20,
        argon2_per_minute: int = 60,
    ) -> None:
        """Use the shared storage; limits per minute; times from the clock."""
        self.counters = counters_from_url(storage_url)
        self.per_account, self.per_address = per_account, per_address
        self.argon2_per_minute = argon2_per_minute
        self.clock = clock

    def _window(self) -> tuple[int, int]:
        """Return the current minute's number and the seconds left in it."""
        now = int(self.clock.timestamp())
        return now // WINDOW, WINDOW - now % WINDOW

    def admit_password(self, account: str, address: str) -> Refusal | None:
        """Count one password attempt; return a Refusal if it must not be checked."""
        refusal = self._admit_account(account)
        if refusal is not None:
            return refusal
        window, left = self._window()
        if self.counters.hit(f"{_digest('address', address)}:{window}", WINDOW) > self.per_address:
            return Refusal("address", left)
        if self.counters.hit(f"desk-sign-in:argon2:{window}", WINDOW) > self.argon2_per_minute:
            return Refusal("desk", left)
        return None

    def admit_code(self, account: str) -> Refusal | None:
        """Count one TOTP or enrolment-code attempt against the account's delay."""
        return self._admit_account(account)

    def _admit_account(self, account: str) -> Refusal | None:
        """Apply the account's per-minute allowance, or its growing delay after failures."""
        key = _digest("account", account)
        failures = self.counters.get(f"{key}:failures")
        window, left = self._window()
        if failures < self.per_account:
            if self.counters.hit(f"{key}:{window}", WINDOW) > self.per_account:
                return Refusal("account", left)
            return None
        last = self.counters.get(f"{key}:last")
        wait = last + delay_after(failures, self.per_account) - int(self.clock.timestamp())
        if wait > 0:
            return Refusal("account", wait)
        # One attempt per delay: of parallel requests, only the first to count this gate passes.
        if self.counters.hit(f"{key}:gate:{failures}:{last}", MAX_DELAY + WINDOW) > 1:
            return Refusal("account", 1)
        return None

    def failed(self, account: str) -> int:
        """Record one failure on the account (password or code); return the failures in a row."""
        key = _digest("account", account)
        failures = self.counters.hit(f"{key}:failures", FAILURE_MEMORY)
        self.counters.put(f"{key}:last", int(self.clock.timestamp()), FAILURE_MEMORY)
        return failures

    def code_failed(self, half_session: str) -> bool:
        """Count a wrong code in one half session; tell whether the password is needed again."""
        key = _digest("codes", half_session)
        return self.counters.hit(key, FAILURE_MEMORY) >= CODES_PER_PASSWORD

    def clear(self, account: str) -> None:
        """Forget the account's failures after a complete sign-in."""
        key = _digest("account", account)
        self.counters.forget(f"{key}:failures")
        self.counters.forget(f"{key}:last")
