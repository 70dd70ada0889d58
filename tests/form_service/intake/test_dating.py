"""Nothing dates a tip finer than its batch: not the logs, rows, ids, transactions or WAL.

Tips are sent at known moments of one day (the app's injected clock moves between them).
The test then plays the attacker who has the database and its WAL, the spool and the logs,
and tries to recover those moments, or just their order; every source must tell no more
than the batch (FORM_SERVICE_BATCH_MINUTES) and the day.
"""

from __future__ import annotations

import datetime as dt
import glob
import logging
import re
import subprocess
from typing import Any

import pytest
from nacl.public import PrivateKey
from sqlalchemy import create_engine, text

from form_service.clock import FixedClock
from form_service.crypto import open_tip
from form_service.db import make_engine
from form_service.intake import spool
from form_service.settings import IntakeSettings
from tests.conftest import require
from tests.form_service.intake.helpers import post_tip, stored_tips

COUNT = 12
DAY = dt.date(2026, 5, 13)
TIME_OF_DAY = re.compile(r"(?<![\d.])\d{1,2}:\d{2}(?!\d)")


def send_at_known_moments(client: Any, clock: FixedClock) -> list[dt.datetime]:
    """Send COUNT tips, each at its own moment of the day; return the moments."""
    moments = []
    for number in range(COUNT):
        clock.moment = dt.datetime.combine(DAY, dt.time(1 + number, 7 * number % 60), dt.UTC)
        moments.append(clock.moment)
        response = post_tip(client, flush=False, message=f"tip number {number:02d}")
        assert response.status_code == 200
    return moments


def order_sent(tips: list[Any], key: PrivateKey) -> list[int]:
    """Return the sending order of tips as the desk can read it from their text."""
    return [int(open_tip(key, t.sealed_key, t.ciphertext)["message"].split()[-1]) for t in tips]


def test_no_log_line_and_no_spool_file_dates_a_tip(
    client: Any, settings: IntakeSettings, clock: FixedClock, caplog: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    send_at_known_moments(client, clock)
    day_start = dt.datetime.combine(DAY, dt.time(), dt.UTC).timestamp()
    files = spool.waiting(settings.spool_path)
    assert len(files) == COUNT
    # Every file carries the start of the day as its time, whenever it came.
    assert {path.stat().st_mtime for path in files} == {day_start}
    assert settings.spool_path.stat().st_mtime == day_start
    for record in caplog.records:
        assert not TIME_OF_DAY.search(record.getMessage()), record.getMessage()


def test_rows_ids_and_order_tell_nothing_finer_than_the_batch(
    client: Any, settings: IntakeSettings, clock: FixedClock, desk_private_key: PrivateKey
) -> None:
    send_at_known_moments(client, clock)
    tips = stored_tips(settings)
    assert len(tips) == COUNT
    assert {tip.received_on for tip in tips} == {DAY}
    truth = list(range(COUNT))
    # By id (the helper lists tips by tip_id), and by the database's own physical order.
    assert order_sent(tips, desk_private_key) != truth
    engine = make_engine(settings)
    try:
        with engine.connect() as connection:
            physical = "ctid" if engine.dialect.name == "postgresql" else "rowid"
            query = text(f"SELECT tip_id FROM tips ORDER BY {physical}")  # noqa: S608 - fixed
            ids = connection.execute(query).scalars()
            by_id = {tip.tip_id: tip for tip in tips}
            assert order_sent([by_id[i] for i in ids], desk_private_key) != truth
            if engine.dialect.name == "postgresql":
                # One transaction for the whole batch: its id orders nothing.
                xids = connection.execute(text("SELECT DISTINCT xmin::text FROM tips")).all()
                assert len(xids) == 1
    finally:
        engine.dispose()


def pg_waldump() -> str:
    """Return the path of pg_waldump, or fail/skip."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_waldump"))
    if not found:
        require("pg_waldump", "PostgreSQL's pg_waldump is not installed")
    return found[-1]


# The WAL is PostgreSQL's: this test runs on that database only, never collected for SQLite.
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_the_wal_has_nothing_at_sending_time_and_one_commit_per_batch(
    client: Any,
    settings: IntakeSettings,
    clock: FixedClock,
    db_url: str,
    request: pytest.FixtureRequest,
) -> None:
    waldump = pg_waldump()
    admin = create_engine(db_url)
    try:
        with admin.connect() as connection:
            data_dir = connection.execute(text("SHOW data_directory")).scalar_one()
            database_oid = connection.execute(
                text("SELECT oid FROM pg_database WHERE datname = current_database()")
            ).scalar_one()
            tips_file = connection.execute(text("SELECT pg_relation_filenode('tips')")).scalar_one()
            before = connection.execute(text("SELECT pg_current_wal_lsn()::text")).scalar_one()
        send_at_known_moments(client, clock)
        with admin.connect() as connection:
            sent = connection.execute(text("SELECT pg_current_wal_lsn()::text")).scalar_one()
        assert len(stored_tips(settings)) == COUNT
        with admin.connect() as connection:
            after = connection.execute(text("SELECT pg_current_wal_lsn()::text")).scalar_one()
    finally:
        admin.dispose()

    def dump(start: str, end: str) -> list[str]:
        """Return the WAL records between two positions, as pg_waldump prints them."""
        result = subprocess.run(
            [waldump, "-p", f"{data_dir}/pg_wal", "-s", start, "-e", end],
            capture_output=True,
            text=True,
            check=False,
        )
        return result.stdout.splitlines()

    ours = f"/{database_oid}/"
    # While the tips were sent, no transaction wrote to this database and nothing touched
    # the tips (reads may leave page pruning of the catalog, which carries no transaction).
    during = [line for line in dump(before, sent) if ours in line]
    assert not [line for line in during if not re.search(r"tx:\s*0,", line)], during
    assert not [line for line in during if f"{ours}{tips_file} " in line], during
    # The flush: every tip row in ONE transaction, committed once (one timestamp for all).
    records = dump(sent, after)
    inserts = [line for line in records if f"{ours}{tips_file} " in line and "INSERT" in line]
    assert len(inserts) >= COUNT
    xids = {re.search(r"tx:\s*(\d+)", line).group(1) for line in inserts}  # type: ignore[union-attr]
    assert len(xids) == 1
    [xid] = xids
    commits = [line for line in records if re.search(rf"tx:\s*{xid},", line) and "COMMIT" in line]
    assert len(commits) == 1
