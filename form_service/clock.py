"""The service's one clock: what time it is in UTC, and what day.

Everything that needs the time asks a Clock, so tests can hand in a fixed one instead of
racing the wall clock (TOTP steps, session idle time, retention).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


class Clock:
    """Tell the current moment and day in UTC."""

    def now(self) -> dt.datetime:
        """Return the current moment in UTC, to the second."""
        return dt.datetime.now(dt.UTC).replace(microsecond=0)

    def today(self) -> dt.date:
        """Return today's date in UTC (the only time a tip keeps)."""
        return self.now().date()

    def timestamp(self) -> float:
        """Return the current moment as seconds since the epoch."""
        return dt.datetime.now(dt.UTC).timestamp()


@dataclass
class FixedClock(Clock):
    """A clock that stands still until moved: for tests and reproducible runs."""

    moment: dt.datetime

    def now(self) -> dt.datetime:
        """Return the fixed moment."""
        return self.moment.replace(microsecond=0)

    def timestamp(self) -> float:
        """Return the fixed moment as seconds since the epoch."""
        return self.moment.timestamp()

    def advance(self, **delta: float) -> None:
        """Move the clock forward by a timedelta's keyword arguments (seconds=30, days=1)."""
        self.moment += dt.timedelta(**delta)


SYSTEM_CLOCK = Clock()


def utcnow() -> dt.datetime:
    """Return the system clock's current moment (the default of timestamp columns)."""
    return SYSTEM_CLOCK.now()


def utc_today() -> dt.date:
    """Return the system clock's current day in UTC."""
    return SYSTEM_CLOCK.today()
