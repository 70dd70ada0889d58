"""Search texts of tips, decrypted once per desk process and held in its memory only.

Searching used to open every candidate on every search (an X25519 step, a decryption, JSON
and Unicode folding per tip: about 70 µs each, 0.7 s over 10,000 tips). This cache keeps the
folded text of each tip it has opened, so a later search only compares strings.

Why this is safe enough for tipsters: the desk process already holds the private key that
opens every tip, so whoever can read its memory can read every tip with or without this
cache. What must never happen is plaintext reaching disk, a database or another process:
the texts live in this object only (no file, no column, no index on disk), the cache is
bounded in size, dropped after an idle period, and an erased or purged tip's text is dropped
at the next search at the latest. The deployment keeps swap off or encrypted on the desk host
and core dumps disabled, as it already must for the key itself (docs/deployment.md).
"""

from __future__ import annotations

import sys
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from form_service.clock import Clock
from form_service.models import Tip
from form_service.review.text import reveal_hidden

LOAD_BATCH = 500


def searchable(text: str) -> str:
    """Fold text for matching: NFKC, case-folded, hidden characters spelled out."""
    return reveal_hidden(unicodedata.normalize("NFKC", text)).casefold()


def fields_text(fields: dict[str, Any]) -> str:
    """Join every text value of a decrypted tip into one searchable string."""
    return "\n".join(str(value) for value in fields.values() if isinstance(value, str | int))


class SearchTexts:
    """The folded texts of the tips this process has opened, bounded and forgotten when idle."""

    def __init__(
        self,
        open_fields: Callable[[Tip], dict[str, Any]],
        clock: Clock,
        max_bytes: int,
        idle_seconds: float,
    ) -> None:
        """Hold nothing yet; `max_bytes` bounds the memory held (0 turns the cache off)."""
        self._open_fields = open_fields
        self._clock = clock
        self._max_bytes = max_bytes
        self._idle_seconds = idle_seconds
        self._texts: dict[int, str] = {}
        self._bytes = 0
        self._last_used = clock.now()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """Return how many tips' texts are held."""
        return len(self._texts)

    def matching(self, db: Session, tip_ids: list[int], needle: str) -> list[int]:
        """Return, in the given order, the tips whose folded text contains `needle`."""
        with self._lock:
            self._expire_if_idle()
            held = {tip_id: self._texts.get(tip_id) for tip_id in tip_ids}
        missing = [tip_id for tip_id, text in held.items() if text is None]
        found = {tip_id for tip_id, text in self._open_missing(db, missing) if needle in text}
        found.update(tip_id for tip_id, text in held.items() if text and needle in text)
        return [tip_id for tip_id in tip_ids if tip_id in found]

    def forget_all_but(self, live_ids: Iterable[int]) -> None:
        """Drop the texts of tips that no longer exist (erased, purged)."""
        live = set(live_ids)
        with self._lock:
            for tip_id in [tip_id for tip_id in self._texts if tip_id not in live]:
                self._bytes -= sys.getsizeof(self._texts.pop(tip_id))

    def clear(self) -> None:
        """Forget every text."""
        with self._lock:
            self._texts.clear()
            self._bytes = 0

    def _expire_if_idle(self) -> None:
        """Forget everything when nobody searched for the idle period (lock held)."""
        now = self._clock.now()
        if (now - self._last_used).total_seconds() > self._idle_seconds:
            self._texts.clear()
            self._bytes = 0
        self._last_used = now

    def _open_missing(self, db: Session, tip_ids: list[int]) -> Iterator[tuple[int, str]]:
        """Load and decrypt tips in batches, keeping their texts while the budget allows."""
        for start in range(0, len(tip_ids), LOAD_BATCH):
            chunk = tip_ids[start : start + LOAD_BATCH]
            tips = list(db.scalars(select(Tip).where(Tip.tip_id.in_(chunk))))
            for tip in tips:
                text = searchable(fields_text(self._open_fields(tip)))
                size = sys.getsizeof(text)
                with self._lock:
                    if self._bytes + size <= self._max_bytes:
                        self._texts[tip.tip_id] = text
                        self._bytes += size
                yield tip.tip_id, text
                db.expunge(tip)  # Keep the identity map, and so memory, bounded by one batch.
