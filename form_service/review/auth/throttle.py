"""Per-account throttling of failed sign-ins, in storage shared by every worker process."""

from __future__ import annotations

import hashlib
import time
from typing import cast

from limits import RateLimitItemPerMinute
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter


class SignInThrottle:
    """Count failed attempts per account name (known or not) in a moving one-minute window."""

    def __init__(self, storage_url: str, attempts_per_minute: int) -> None:
        """Connect to the shared storage (redis://... in production, memory:// in dev)."""
        self.storage = cast(Storage, storage_from_string(storage_url))
        self.limiter = MovingWindowRateLimiter(self.storage)
        self.item = RateLimitItemPerMinute(attempts_per_minute)

    @staticmethod
    def _key(account: str) -> str:
        """Return a storage key for an account name that does not reveal the address."""
        return hashlib.sha256(account.strip().casefold().encode("utf-8")).hexdigest()

    def must_wait(self, account: str) -> bool:
        """Tell whether this account has used up its attempts for the current minute."""
        return not self.limiter.test(self.item, "desk-sign-in", self._key(account))

    def seconds_to_wait(self, account: str) -> int:
        """Return about how many seconds until the next attempt on this account is allowed."""
        reset_at, _ = self.limiter.get_window_stats(self.item, "desk-sign-in", self._key(account))
        # The limits library keeps its windows on the wall clock, so the time left must be
        # measured on that same clock; an injected clock would mix two time lines.
        return max(1, int(reset_at - time.time()) + 1)  # wall clock: the limits library's own

    def failed(self, account: str) -> None:
        """Count one failed attempt against this account."""
        self.limiter.hit(self.item, "desk-sign-in", self._key(account))

    def clear(self, account: str) -> None:
        """Forget the failures of this account after a complete sign-in."""
        self.limiter.clear(self.item, "desk-sign-in", self._key(account))
