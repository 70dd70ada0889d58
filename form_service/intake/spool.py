"""Move spooled records into the database in batches at fixed times of the day.

Each batch is ONE transaction holding every record spooled since the last one, inserted in
random order: rows, ids, transaction ids and the WAL's commit time then tell only which
batch a record came in, never its order or time within the batch's window
(`FORM_SERVICE_BATCH_MINUTES`). Files are deleted only after the commit, so a crash before
it leaves them for the next flush; a crash after it makes the next flush skip them (each
kind's store inserts nothing twice). Nothing acknowledged to a tipster is ever lost: a file
that is not a record this code can store (records.RecordRefused: another version, an unknown
kind) is moved aside into `refused/`, kept for the operator, and does not hold up the rest.
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

# Importing a module registers its record kinds; every kind the intake spools is listed here.
from form_service.intake import followup as _followups  # noqa: F401 - the follow-up kinds
from form_service.intake import records
from form_service.intake import submit as _tips  # noqa: F401 - registers "tip"

log = logging.getLogger(__name__)
# Where files that are not storable records are kept (inside the spool, same mode).
REFUSED = "refused"


@dataclass(frozen=True)
class Flushed:
    """What one flush did: records stored, files set aside as refused."""

    records: int
    refused: int = 0


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
    accepted = []
    for path in paths:
        try:
            kind, _, payload = records.read_record(path)
        except records.RecordRefused as error:
            set_aside(spool_dir, path, str(error))
            continue
        accepted.append((path, kind, payload))
    if accepted:
        with Session(engine) as session, session.begin():
            for _, kind, payload in accepted:
                kind.store(session, payload)
        for path, _, _ in accepted:
            path.unlink(missing_ok=True)
        records.sync_directory(spool_dir)
    return Flushed(len(accepted), len(paths) - len(accepted))


def set_aside(spool_dir: Path, path: Path, reason: str) -> None:
    """Move a file the flusher cannot store into refused/, durably, and say so in the log."""
    folder = spool_dir / REFUSED
    folder.mkdir(mode=0o700, exist_ok=True)
    path.replace(folder / path.name)
    records.sync_directory(folder)
    records.sync_directory(spool_dir)
    log.error("spooled file %s refused (%s); kept in %s", path.name, reason, folder)


def refused(spool_dir: Path) -> list[Path]:
    """List the files set aside as refused, for the operator."""
    folder = spool_dir / REFUSED
    return sorted(path for path in folder.iterdir() if path.is_file()) if folder.is_dir() else []


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
