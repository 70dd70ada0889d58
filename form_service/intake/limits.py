"""Rate limits keyed by a keyed hash of the client address, so storage never holds an IP."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from flask import Flask, request
from flask_limiter import Limiter

from form_service.clock import SYSTEM_CLOCK, Clock
from form_service.settings import IntakeSettings


class AddressHasher:
    """Turn a client address into an opaque key that changes every UTC day.

    The day's key is derived from the secret key so every worker (and Redis, when
    used) agrees on it; neither Redis nor memory ever holds the address itself.
    """

    def __init__(self, secret: str, clock: Clock = SYSTEM_CLOCK) -> None:
        self._secret = secret.encode("utf-8")
        self._clock = clock
        self._day: dt.date | None = None
        self._day_key = b""

    def __call__(self, address: str | None) -> str:
        """Return the opaque rate-limit key of an address for today."""
        today = self._clock.today()
        if today != self._day:
            label = b"rate-limit " + today.isoformat().encode("ascii")
            self._day_key = hmac.new(self._secret, label, hashlib.sha256).digest()
            self._day = today
        digest = hmac.new(self._day_key, (address or "").encode("utf-8"), hashlib.sha256)
        return digest.hexdigest()[:32]


def make_limiter(app: Flask, settings: IntakeSettings, clock: Clock = SYSTEM_CLOCK) -> Limiter:
    """Create the app's limiter: memory by default, Redis when configured."""
    hasher = AddressHasher(settings.secret_key, clock)
    limiter = Limiter(
        key_func=lambda: hasher(request.remote_addr),
        app=app,
        storage_uri=settings.ratelimit_storage_url,
        strategy="fixed-window",
        # A tipster must still get through when the limit store is down.
        swallow_errors=True,
        headers_enabled=False,
        key_prefix="intake",
    )
    # Only posts are limited; showing the form must not cost a look-up in the store.
    limiter.request_filter(lambda: request.method != "POST")
    return limiter
