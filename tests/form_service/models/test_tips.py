"""Tips and their attachments in the database: cascade, unique receipts, defaults, only the day."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Date, DateTime, Time, inspect, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from form_service.db import make_engine
from form_service.models import Attachment, Base, Tip, TipStatus, TipTopic
from form_service.settings import Settings

INTAKE_TABLES = {"tips", "attachments"}


def make_tip(session: Session, **overrides: object) -> Tip:
    """Add a tip with placeholder ciphertext (nothing sealed, unlike factories.make_tip)."""
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
