"""Faults injected into the real parts: each gives the friendly page with the text, never a 500.

- PostgreSQL: the batch's connection is killed (pg_terminate_backend) just before it stores
  the tip; the tipster had their answer already, the record stays in the spool, and the next
  batch stores it on a fresh connection (no restart).
- SQLite on a small tmpfs: the file system full, then read-only; both recover in place.
- Redis away: rate limits fail open (docs/reliability.md says why); the tip is stored.
Nothing half-written: after each fault the database holds exactly the tips acknowledged.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.exc import OperationalError

from form_service import migrate
from form_service.db import make_engine
from form_service.frame import STATE_KEY
from form_service.intake import create_app, spool
from form_service.models import Tip
from form_service.settings import IntakeSettings
from tests.conftest import POSTGRES_HOST, POSTGRES_PORT, require
from tests.form_service.factories import make_settings
from tests.form_service.intake.helpers import TYPED, assert_form_given_back, post_tip, stored_tips
from tests.reliability.servers import free_port

LONG_TEXT = "MARKER-MESSAGE 私は見ました " + "長い文章。" * 3000


def count_stored(settings: IntakeSettings) -> int:
    """Count the stored tips without running a batch."""
    engine = make_engine(settings)
    try:
        with engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(Tip)).scalar_one()
    finally:
        engine.dispose()


def test_a_postgresql_connection_killed_in_the_batch_keeps_the_spool_and_the_next_stores_it(
    migrated_postgres: str, desk_public_key: str, tmp_path: Path
) -> None:
    import psycopg

    settings = make_settings(migrated_postgres, desk_public_key, instance_dir=tmp_path)
    before = len(stored_tips(settings))
    # The request only spools: the tipster's answer never waits on the database.
    client = create_app(settings).test_client()
    assert post_tip(client, flush=False, **TYPED).status_code == 200
    spooled = spool.waiting(settings.spool_path)
    assert len(spooled) == 1

    engine = make_engine(settings)
    killed: list[int] = []

    def kill_before_insert(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # On PostgreSQL the batch stores a tip through the intake's function (privileges.py).
        if "intake_store_tip(" in statement and not killed:
            pid = conn.connection.dbapi_connection.info.backend_pid
            admin = f"host={POSTGRES_HOST} port={POSTGRES_PORT} user=postgres dbname=test"
            with psycopg.connect(admin, autocommit=True) as other:
                other.execute("SELECT pg_terminate_backend(%s)", (pid,))
            killed.append(pid)

    event.listen(engine, "before_cursor_execute", kill_before_insert)
    try:
        with pytest.raises(OperationalError):
            spool.flush(settings.spool_path, engine)
        # Nothing half-written, and the record waits for the next batch.
        assert killed and count_stored(settings) == before
        assert spool.waiting(settings.spool_path) == spooled
        # The same engine recovers: the pool replaces the dead connection.
        assert spool.flush(settings.spool_path, engine).records == 1
    finally:
        engine.dispose()
    assert spool.waiting(settings.spool_path) == []
    assert count_stored(settings) == before + 1


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """Mount a 3 MB tmpfs for one test (root only) and unmount it after."""
    mount_point = tmp_path / "small-disk"
    mount_point.mkdir()
    if (
        os.geteuid() != 0
        or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount_point)],
            capture_output=True,
            check=False,
        ).returncode
    ):
        require("a tmpfs mount", "mounting a small file system needs root")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def sqlite_on(folder: Path, desk_public_key: str) -> IntakeSettings:
    """Return settings whose SQLite database (and instance folder) live in `folder`."""
    url = f"sqlite:///{folder / 'form_service.sqlite3'}"
    settings = make_settings(url, desk_public_key, instance_dir=folder)
    migrate.upgrade(settings)
    return settings


def fill(folder: Path) -> Path:
    """Fill a file system up to the last byte with one file; return it."""
    filler = folder / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(descriptor, b"\0" * 4096)
    except OSError:
        pass  # ENOSPC: the file system is full
    finally:
        os.close(descriptor)
    return filler


def test_a_full_disk_gives_503_with_the_text_kept_then_recovers(
    small_disk: Path, desk_public_key: str
) -> None:
    settings = sqlite_on(small_disk, desk_public_key)
    app = create_app(settings)
    client = app.test_client()
    filler = fill(small_disk)
    try:
        response = post_tip(client, message=LONG_TEXT, when_where=TYPED["when_where"])
        assert_form_given_back(response, 503, "Our service has a problem")
    finally:
        filler.unlink()
    assert stored_tips(settings) == []
    assert post_tip(client, **TYPED).status_code == 200
    assert len(stored_tips(settings)) == 1
    app.extensions[STATE_KEY].engine.dispose()


def test_a_read_only_database_gives_503_with_the_text_kept_then_recovers(
    small_disk: Path, desk_public_key: str
) -> None:
    settings = sqlite_on(small_disk, desk_public_key)
    app = create_app(settings)
    client = app.test_client()
    remount = ["mount", "-o", "remount,ro", str(small_disk)]
    subprocess.run(remount, check=True)
    try:
        assert_form_given_back(post_tip(client, **TYPED), 503, "Our service has a problem")
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    assert stored_tips(settings) == []
    assert post_tip(client, **TYPED).status_code == 200
    assert len(stored_tips(settings)) == 1
    app.extensions[STATE_KEY].engine.dispose()


def test_with_redis_away_rate_limits_fail_open_and_the_tip_is_stored(
    db_url: str, desk_public_key: str, tmp_path: Path
) -> None:
    gone = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    settings = make_settings(
        db_url, desk_public_key, instance_dir=tmp_path / "instance", ratelimit_storage_url=gone
    )
    app = create_app(settings)
    client = app.test_client()
    for _ in range(3):
        assert post_tip(client, **TYPED).status_code == 200
    assert len(stored_tips(settings)) == 3
    app.extensions[STATE_KEY].engine.dispose()
