"""Search texts held in memory: opened once, bounded, forgotten when idle or erased."""

from __future__ import annotations

import datetime as dt
from typing import Any

from nacl.public import PrivateKey
from sqlalchemy import delete
from sqlalchemy.orm import Session

from form_service.clock import FixedClock
from form_service.models import Tip
from form_service.review.search import SearchTexts
from form_service.review.tipview import opener
from tests.form_service.factories import make_tip

START = dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC)


class CountingOpener:
    """Open tips with the desk key and count how many times each was opened."""

    def __init__(self, key: PrivateKey) -> None:
        self.open = opener(key)
        self.opened: list[int] = []

    def __call__(self, tip: Tip) -> dict[str, Any]:
        self.opened.append(tip.tip_id)
        return self.open(tip)


def texts_for(key: PrivateKey, clock: FixedClock, max_bytes: int = 2**20) -> tuple[Any, Any]:
    """Build a cache over a counting opener; return both."""
    counting = CountingOpener(key)
    return SearchTexts(counting, clock, max_bytes=max_bytes, idle_seconds=600), counting


def test_a_second_search_opens_no_tip_again(db: Session, desk_private_key: PrivateKey) -> None:
    hit = make_tip(db, desk_private_key, fields={"message": "A white van near Niigata"})
    miss = make_tip(db, desk_private_key, fields={"message": "nothing relevant"})
    texts, counting = texts_for(desk_private_key, FixedClock(START))
    ids = [hit.tip_id, miss.tip_id]
    assert texts.matching(db, ids, "niigata") == [hit.tip_id]
    assert texts.matching(db, ids, "relevant") == [miss.tip_id]
    assert sorted(counting.opened) == sorted(ids)
    assert len(texts) == 2


def test_texts_beyond_the_memory_budget_are_opened_each_time(
    db: Session, desk_private_key: PrivateKey
) -> None:
    tip = make_tip(db, desk_private_key, fields={"message": "Niigata"})
    texts, counting = texts_for(desk_private_key, FixedClock(START), max_bytes=0)
    assert texts.matching(db, [tip.tip_id], "niigata") == [tip.tip_id]
    assert texts.matching(db, [tip.tip_id], "niigata") == [tip.tip_id]
    assert counting.opened == [tip.tip_id, tip.tip_id]
    assert len(texts) == 0


def test_texts_are_forgotten_after_the_idle_period(
    db: Session, desk_private_key: PrivateKey
) -> None:
    tip = make_tip(db, desk_private_key, fields={"message": "Niigata"})
    clock = FixedClock(START)
    texts, counting = texts_for(desk_private_key, clock)
    texts.matching(db, [tip.tip_id], "niigata")
    clock.advance(seconds=601)
    texts.matching(db, [tip.tip_id], "niigata")
    assert counting.opened == [tip.tip_id, tip.tip_id]


def test_an_erased_tip_loses_its_text_at_the_next_search(
    review_client: Any, db: Session, desk_private_key: PrivateKey
) -> None:
    from form_service.review.inbox import InboxFilter, search_page

    kept = make_tip(db, desk_private_key, fields={"message": "Niigata harbour"})
    erased = make_tip(db, desk_private_key, fields={"message": "Niigata beach"})
    texts, _ = texts_for(desk_private_key, FixedClock(START))
    assert search_page(db, InboxFilter(search="niigata"), 1, texts).total == 2
    db.execute(delete(Tip).where(Tip.tip_id == erased.tip_id))
    db.commit()
    assert search_page(db, InboxFilter(search="harbour"), 1, texts).total == 1
    assert len(texts) == 1
    assert texts.matching(db, [kept.tip_id], "harbour") == [kept.tip_id]
