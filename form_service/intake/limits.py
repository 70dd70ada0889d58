"""Abuse limits that cannot lock out a tipster: per form session, plus one global ceiling.

Behind an onion service or a shared exit every tipster has the same address, so nothing here
is keyed by address. The views spend from a bucket only for a post that passed the CSRF check
and validation (a flood of junk costs nothing and blocks no one). Each bucket has limits per
key (the form session: a keyed hash of the session's CSRF secret, never the secret itself)
and an overall ceiling shared by everyone, which keeps a flood of well-formed posts from
burying the desk. Counts live in fixed windows in memory (one process) or Redis (every
worker and instance); when Redis is down, posts are allowed rather than refused.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from form_service.clock import SYSTEM_CLOCK, Clock
from form_service.settings import IntakeSettings, Rate, parse_rates

log = logging.getLogger(__name__)
KEY_PREFIX = "intake-limit"


@dataclass(frozen=True)
class Decision:
    """Whether a post may go ahead and, if not, how many seconds to wait."""

    allowed: bool
    retry_after: int = 0


@dataclass(frozen=True)
class Bucket:
    """The limits of one kind of post: per key, and over everyone together."""

    per_key: Sequence[Rate]
    overall: Sequence[Rate]


class Counter(Protocol):
    """Storage of window counts."""

    def add(self, key: str, expiry: int) -> int:
        """Add one to a count that expires after `expiry` seconds; return the new count."""

    def take_back(self, key: str) -> None:
        """Remove one from a count (a refused post does not count)."""


class MemoryCounter:
    """Counts in this process only (development, tests)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._counts: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def add(self, key: str, expiry: int) -> int:
        """Add one to a count, forgetting counts whose window has passed."""
        now = self._clock.timestamp()
        with self._lock:
            self._counts = {k: v for k, v in self._counts.items() if v[1] > now}
            count, expires = self._counts.get(key, (0, now + expiry))
            self._counts[key] = (count + 1, expires)
            return count + 1

    def take_back(self, key: str) -> None:
        """Remove one from a count."""
        with self._lock:
            if key in self._counts:
                count, expires = self._counts[key]
                self._counts[key] = (count - 1, expires)


class RedisCounter:
    """Counts in Redis, shared by every worker and instance."""

    def __init__(self, url: str) -> None:
        import redis

        self._redis: Any = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)

    def add(self, key: str, expiry: int) -> int:
        """Add one to a count atomically and let Redis expire it with its window."""
        pipeline = self._redis.pipeline()
        pipeline.incr(key)
        pipeline.expire(key, expiry, nx=True)
        count, _ = pipeline.execute()
        return int(count)

    def take_back(self, key: str) -> None:
        """Remove one from a count atomically."""
        self._redis.decr(key)


class Limits:
    """Spend posts from named buckets."""

    def __init__(
        self, buckets: Mapping[str, Bucket], counter: Counter, clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self.buckets = dict(buckets)
        self._counter = counter
        self._clock = clock

    def spend(self, bucket: str, key: str) -> Decision:
        """Count one post against `key` and then everyone; refuse it over either limit.

        The overall ceiling is spent only by posts within their own key's limit, so one
        session hammering after its own refusal cannot use up everyone's allowance.
        """
        limits = self.buckets[bucket]
        spent: list[str] = []
        try:
            decision = self._spend_rates(f"{bucket}:key:{key}", limits.per_key, spent)
            if decision.allowed:
                decision = self._spend_rates(f"{bucket}:all", limits.overall, spent)
            if not decision.allowed:
                # A refused post counts nowhere: a tipster refused once is not refused longer.
                for counted in spent:
                    self._counter.take_back(counted)
        except Exception as error:
            log.warning(
                "limit storage unavailable (%s); the post was allowed", type(error).__name__
            )
            return Decision(allowed=True)
        return decision

    def _spend_rates(self, scope: str, rates: Sequence[Rate], spent: list[str]) -> Decision:
        """Count one post in the current window of each rate; refuse when one is full."""
        now = self._clock.timestamp()
        waits = []
        for rate in rates:
            window = int(now // rate.seconds)
            key = f"{KEY_PREFIX}:{scope}:{rate.seconds}:{window}"
            spent.append(key)
            if self._counter.add(key, rate.seconds) > rate.count:
                waits.append(int((window + 1) * rate.seconds - now) + 1)
        return Decision(allowed=True) if not waits else Decision(False, max(waits))


def session_key(secret: str, session_secret: str) -> str:
    """Turn a form session's own secret into an opaque key (storage never holds the secret)."""
    digest = hmac.new(secret.encode(), b"limit " + session_secret.encode(), hashlib.sha256)
    return digest.hexdigest()[:32]


def make_limits(settings: IntakeSettings, clock: Clock = SYSTEM_CLOCK) -> Limits:
    """Build the intake's limits: memory by default, Redis when configured."""
    counter: Counter
    if settings.ratelimit_storage_url.startswith(("redis://", "rediss://", "unix://")):
        counter = RedisCounter(settings.ratelimit_storage_url)
    else:
        counter = MemoryCounter(clock)
    buckets = {
        "submit": Bucket(
            per_key=parse_rates(settings.ratelimit_session),
            overall=parse_rates(settings.ratelimit_global),
        ),
        # Receipt look-ups (the follow-up pages): per check session, and everyone together.
        "lookup": Bucket(per_key=(Rate(10, 900),), overall=(Rate(5000, 900),)),
    }
    return Limits(buckets, counter, clock)
