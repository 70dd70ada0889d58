"""Move spooled records into the database in batches at fixed times of the day.

Each batch is ONE transaction holding every record spooled since the last one, inserted in
random order: rows, ids, transaction ids and the WAL's commit time then tell only which
batch a record came in, never its order or time within the batch's window
(`FORM_SERVICE_BATCH_MINUTES`). Files are deleted only after the commit, so a crash before
it leaves them for the next flush; a crash after it makes the next flush skip them (each
kind's store inserts nothing twice). Nothing acknowledged to a tipster is ever lost.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from form_service.clock import SYSTEM_CLOCK, Clock
from form_service.intake import records

# Importing a module registers its record kinds; every kind the intake spools is listed here.
from form_service.intake import submit as _tips  # noqa: F401 - registers "tip"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Flushed:
    """What one flush did."""

    records: int


def waiting(spool_dir: Path) -> list[Path]:
    """List the records waiting in the spool (half-written temp files are not records)."""
    if not spool_dir.is_dir():
        return []
    return sorted(path for path in spool_dir.glob(f"*{records.SUFFIX}") if path.is_file())


def flush(
    spool_dir: Path, engine: Engine, shuffle: Callable[[list[Path]], None] | None = None
) -> Flushed:
    """Store every spooled record in one transaction, in random order, then delete the files."""
    paths = waiting(spool_dir)
    if not paths:
        return Flushed(0)
    (shuffle or random.SystemRandom().shuffle)(paths)
    with Session(engine) as session, session.begin():
        for path in paths:
            kind, _, payload = records.read_record(path)
            kind.store(session, payload)
    for path in paths:
        path.unlink(missing_ok=True)
    records.sync_directory(spool_dir)
    return Flushed(len(paths))


def next_batch(now: dt.datetime, minutes: int) -> dt.datetime:
    """Return the next fixed batch time after `now`: every `minutes` from 00:00 UTC."""
    midnight = dt.datetime.combine(now.date(), dt.time(), tzinfo=dt.UTC)
    step = dt.timedelta(minutes=minutes)
    passed = (now - midnight) // step
    return midnight + (passed + 1) * step


def run(
    spool_dir: Path,
    engine: Engine,
    minutes: int,
    clock: Clock = SYSTEM_CLOCK,
    sleep: Callable[[float], None] | None = None,
    rounds: int | None = None,
) -> None:
    """Flush at every batch time, forever (or `rounds` times); a failed flush is retried."""
    import time

    pause = sleep or time.sleep
    done = 0
    while rounds is None or done < rounds:
        due = next_batch(clock.now(), minutes)
        pause(max(0.0, (due - clock.now()).total_seconds()))
        try:
            flushed = flush(spool_dir, engine)
        except Exception as error:
            log.error("flush failed (%s); the records stay spooled", type(error).__name__)
        else:
            log.info("batch stored %d records", flushed.records)
        done += 1
