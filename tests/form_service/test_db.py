"""The schema comes from Alembic, matches the models and keeps no time of day (both databases)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Date, DateTime, Time, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from form_service import migrate
from form_service.db import (
    DatabaseSetupError,
    WriteLockTimeout,
    check_engine,
    make_engine,
    make_write_lock,
)
from form_service.models import Attachment, Base, Tip, TipStatus, TipTopic
from form_service.settings import Settings
from tests.form_service.factories import make_settings

INTAKE_TABLES = {"tips", "attachments"}


def make_tip(session: Session, **overrides: object) -> Tip:
    """Add a tip with placeholder ciphertext."""
    values: dict[str, object] = {
        "received_on": dt.date(2024, 5, 1),
        "language": "en",
        "topic": TipTopic.OTHER,
        "sealed_key": b"k" * 80,
        "ciphertext": b"c" * 40,
        "receipt_hash": bytes(32),
    }
    values.update(overrides)
    tip = Tip(**values)
    session.add(tip)
    return tip


def test_the_first_revision_is_0001_intake(settings: Settings) -> None:
    scripts = ScriptDirectory.from_config(migrate.alembic_config(settings))
    assert scripts.get_base() == "0001_intake"
    assert migrate.current_revisions(settings) == migrate.head_revisions(settings)


def test_the_migrations_match_the_models(settings: Settings) -> None:
    engine = make_engine(settings)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_no_column_holds_a_time_of_day(settings: Settings) -> None:
    for table in INTAKE_TABLES:
        for column in Base.metadata.tables[table].columns:
            assert not isinstance(column.type, DateTime | Time), f"{table}.{column.name}"
    assert isinstance(Tip.__table__.c.received_on.type, Date)
    engine = make_engine(settings)
    try:
        columns = {c["name"] for c in inspect(engine).get_columns("tips")}
    finally:
        engine.dispose()
    assert columns == {
        "tip_id",
        "received_on",
        "language",
        "topic",
        "status",
        "sealed_key",
        "ciphertext",
        "receipt_hash",
    }


def test_deleting_a_tip_deletes_its_attachments(settings: Settings) -> None:
    engine = make_engine(settings)
    try:
        with Session(engine) as session, session.begin():
            tip = make_tip(session)
            tip.attachments.append(Attachment(ciphertext=b"file"))
        with Session(engine) as session, session.begin():
            session.delete(session.scalars(select(Tip)).one())
        with Session(engine) as session:
            assert session.scalars(select(Attachment)).all() == []
            assert session.scalars(select(Tip)).all() == []
    finally:
        engine.dispose()


def test_an_attachment_needs_an_existing_tip(settings: Settings) -> None:
    engine = make_engine(settings)
    try:
        with pytest.raises(IntegrityError), Session(engine) as session, session.begin():
            session.add(Attachment(tip_id=12345, ciphertext=b"orphan"))
    finally:
        engine.dispose()


def test_receipt_hashes_are_unique_and_status_starts_new(settings: Settings) -> None:
    engine = make_engine(settings)
    try:
        with Session(engine) as session, session.begin():
            tip = make_tip(session)
            session.flush()
            assert tip.status is TipStatus.NEW
        with pytest.raises(IntegrityError), Session(engine) as session, session.begin():
            make_tip(session)
    finally:
        engine.dispose()


def test_migrations_go_down_and_up_again(settings: Settings) -> None:
    heads = migrate.head_revisions(settings)
    migrate.downgrade(settings, "base")
    engine = make_engine(settings)
    try:
        assert not INTAKE_TABLES & set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    migrate.upgrade(settings)
    assert migrate.current_revisions(settings) == heads


def test_sqlite_connections_run_with_wal_full_sync_and_foreign_keys(
    tmp_path: Path, desk_public_key: str
) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'x.sqlite3'}", desk_public_key)
    engine = make_engine(settings)
    check_engine(engine)  # raises if a pragma did not take
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    engine.dispose()


def test_the_start_up_check_refuses_a_database_without_wal(desk_public_key: str) -> None:
    # An in-memory SQLite database cannot use WAL: the check must notice.
    engine = make_engine(make_settings("sqlite://", desk_public_key))
    with pytest.raises(DatabaseSetupError, match="journal_mode"):
        check_engine(engine)


def test_the_sqlite_file_is_readable_by_its_owner_only(
    tmp_path: Path, desk_public_key: str
) -> None:
    path = tmp_path / "private" / "tips.sqlite3"
    migrate.upgrade(make_settings(f"sqlite:///{path}", desk_public_key))
    assert path.stat().st_mode & 0o077 == 0


def test_sqlite_writers_take_turns_and_a_stuck_writer_times_out(
    tmp_path: Path, desk_public_key: str
) -> None:
    settings = make_settings(
        f"sqlite:///{tmp_path / 'x.sqlite3'}", desk_public_key, sqlite_busy_timeout_ms=50
    )
    first, second = make_write_lock(settings), make_write_lock(settings)
    with first(), pytest.raises(WriteLockTimeout), second():
        pass  # pragma: no cover - never entered
    with second():
        pass  # free again once the first writer is done


def test_postgresql_needs_no_write_lock(desk_public_key: str) -> None:
    lock = make_write_lock(make_settings("postgresql+psycopg://x@127.0.0.1/none", desk_public_key))
    with lock(), lock():
        pass
