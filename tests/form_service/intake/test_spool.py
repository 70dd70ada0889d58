"""The spool: tips wait as sealed files and reach the database in one batch, never twice."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy.exc import OperationalError

from form_service.cli import cli
from form_service.db import make_engine
from form_service.frame import STATE_KEY
from form_service.intake import spool
from form_service.settings import IntakeSettings
from tests.form_service.intake.helpers import (
    TOKEN_PATTERN,
    TYPED,
    multipart,
    post_tip,
    receipt_code,
    stored_tips,
    tip_fields,
)

NONCE_PATTERN = r'name="nonce" type="hidden" value="([0-9a-f]{32})"'


def test_a_tip_waits_in_the_spool_and_the_database_holds_nothing_yet(
    client: Any, settings: IntakeSettings
) -> None:
    assert post_tip(client, flush=False, **TYPED).status_code == 200
    [record] = spool.waiting(settings.spool_path)
    assert b"MARKER" not in record.read_bytes()
    assert record.stat().st_mode & 0o777 == 0o600
    engine = make_engine(settings)
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT count(*) FROM tips").scalar() == 0
    finally:
        engine.dispose()
    [tip] = stored_tips(settings)
    assert spool.waiting(settings.spool_path) == []
    assert tip.received_on == dt.date(2026, 5, 13)


def test_the_same_form_posted_twice_is_one_tip_with_one_receipt(
    client: Any, settings: IntakeSettings
) -> None:
    import re

    html = client.get("/form/en/").get_data(as_text=True)
    token = TOKEN_PATTERN.search(html)
    nonce = re.search(NONCE_PATTERN, html)
    assert token and nonce
    body, content_type = multipart(
        {"csrf_token": token.group(1), "nonce": nonce.group(1), **tip_fields(**TYPED)}
    )
    first = client.post("/form/en/", data=body, content_type=content_type)
    # Again while it waits in the spool, then again after it was stored.
    second = client.post("/form/en/", data=body, content_type=content_type)
    assert len(stored_tips(settings)) == 1
    third = client.post("/form/en/", data=body, content_type=content_type)
    codes = {receipt_code(response) for response in (first, second, third)}
    assert len(codes) == 1
    assert len(stored_tips(settings)) == 1
    # A form shown anew is another tip.
    assert receipt_code(post_tip(client, flush=False, **TYPED)) not in codes
    assert len(stored_tips(settings)) == 2


def test_a_failed_flush_keeps_every_record_for_the_next(
    client: Any, settings: IntakeSettings
) -> None:
    for _ in range(3):
        assert post_tip(client, flush=False, **TYPED).status_code == 200
    unreachable = make_engine(
        IntakeSettings(**{**vars(settings), "database_url": "postgresql+psycopg://x@127.0.0.1:9/x"})
    )
    try:
        spool.flush(settings.spool_path, unreachable)
    except OperationalError:
        pass
    else:
        raise AssertionError("the flush should have failed")
    finally:
        unreachable.dispose()
    assert len(spool.waiting(settings.spool_path)) == 3
    assert len(stored_tips(settings)) == 3


def test_a_flush_run_again_after_its_commit_stores_nothing_twice(
    client: Any, settings: IntakeSettings, tmp_path: Path
) -> None:
    for _ in range(3):
        assert post_tip(client, flush=False, **TYPED).status_code == 200
    # As if the flusher died after the commit but before deleting the files.
    copies = tmp_path / "copies"
    shutil.copytree(settings.spool_path, copies)
    assert len(stored_tips(settings)) == 3
    for path in copies.iterdir():
        shutil.copy(path, settings.spool_path / path.name)
    assert len(stored_tips(settings)) == 3
    assert spool.waiting(settings.spool_path) == []


def test_tip_ids_are_random_not_a_sequence(client: Any, settings: IntakeSettings) -> None:
    for _ in range(6):
        assert post_tip(client, flush=False, **TYPED).status_code == 200
    ids = [tip.tip_id for tip in stored_tips(settings)]
    assert len(set(ids)) == 6
    assert max(ids) - min(ids) > 1000


def test_batches_fall_at_fixed_times_of_the_day() -> None:
    now = dt.datetime(2026, 3, 1, 10, 17, 5, tzinfo=dt.UTC)
    assert spool.next_batch(now, 1440) == dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    assert spool.next_batch(now, 60) == dt.datetime(2026, 3, 1, 11, tzinfo=dt.UTC)
    assert spool.next_batch(now, 1) == dt.datetime(2026, 3, 1, 10, 18, tzinfo=dt.UTC)
    exact = dt.datetime(2026, 3, 1, 11, tzinfo=dt.UTC)
    assert spool.next_batch(exact, 60) == dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)


def test_the_flusher_command_stores_the_spool(
    client: Any, settings: IntakeSettings, monkeypatch: Any
) -> None:
    assert post_tip(client, flush=False, **TYPED).status_code == 200
    monkeypatch.setenv("FORM_SERVICE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("FORM_SERVICE_SPOOL_DIR", str(settings.spool_path))
    runner = CliRunner()
    assert "1 records wait" in runner.invoke(cli, ["spool", "status"]).output
    result = runner.invoke(cli, ["spool", "flush"])
    assert result.exit_code == 0, result.output
    assert "Stored 1 spooled records." in result.output
    assert len(stored_tips(settings)) == 1
    assert client.application.extensions[STATE_KEY].settings.spool_path == settings.spool_path
