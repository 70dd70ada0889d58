"""On PostgreSQL the check pages and the batch work with the intake role's rights only.

The intake's role reads no table (test_privileges.py proves each refusal); it reaches one
tip, named by its receipt hash, through the narrow functions of 0014_intake_functions. These
tests connect with that role's credentials: first the functions alone, then the whole round
trip of the intake app and the batch, with the desk replying as the owner.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from nacl.public import PrivateKey
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from form_service.clock import FixedClock
from form_service.crypto import open_tip
from form_service.intake import spool
from form_service.models import MessageAttachment, Staff, StaffRole, Tip, TipMessage
from form_service.review import replies
from tests.form_service.factories import make_settings
from tests.form_service.intake.helpers import TOKEN_PATTERN, multipart, post_tip, receipt_code
from tests.form_service.test_privileges import TIP, roles  # noqa: F401 - the fixture

HASH, OTHER = b"h" * 32, b"o" * 32


@pytest.fixture
def empty(migrated_postgres: str) -> Iterator[Any]:
    """Yield the owner's engine on a database emptied before and after the test."""
    owner = create_engine(migrated_postgres)

    def truncate() -> None:
        """Delete every row of every table but Alembic's."""
        names = [n for n in inspect(owner).get_table_names() if n != "alembic_version"]
        with owner.begin() as connection:
            connection.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))

    truncate()
    yield owner
    truncate()
    owner.dispose()


def test_the_intake_reads_one_tip_by_its_hash_and_nothing_of_the_desk(
    roles: dict[str, Any],  # noqa: F811 - the fixture imported above
    empty: Any,
) -> None:
    with empty.begin() as connection:
        for tip_id, hashed in ((4242, HASH), (4343, OTHER)):
            connection.execute(text(TIP), {"tip_id": tip_id, "hash": hashed})
        connection.execute(
            text("INSERT INTO tip_reply_keys VALUES (4242, :salt, :key)"),
            {"salt": b"s" * 16, "key": b"k" * 32},
        )
        connection.execute(
            text(
                "INSERT INTO tip_messages (message_id, tip_id, direction, sent_on, sequence, "
                "sealed_key, ciphertext, tipster_ciphertext, seen_by_desk) VALUES "
                "(:id, 4242, 'to_tipster', '2026-05-14', 1, 'DESK-KEY', 'DESK-TEXT', :t, true)"
            ),
            {"id": "a" * 32, "t": b"FOR-THE-TIPSTER"},
        )
    with roles["intake"].connect() as connection:
        call = lambda sql, hashed=HASH: connection.execute(text(sql), {"h": hashed})  # noqa: E731
        assert call("SELECT salt FROM intake_find_tip(:h)").all() == [(b"s" * 16,)]
        assert call("SELECT salt FROM intake_find_tip(:h)", OTHER).all() == [(None,)]
        assert call("SELECT * FROM intake_find_tip(:h)", b"x" * 32).all() == []
        assert call("SELECT * FROM intake_read_tip(:h)").all() == [("new", dt.date(2026, 5, 13))]
        messages = call("SELECT * FROM intake_tip_messages(:h)")
        # The tipster's copy and the day, never the desk's copy or who wrote it.
        assert list(messages.keys()) == [
            "message_id",
            "direction",
            "sent_on",
            "sequence",
            "tipster_ciphertext",
            "deleted_on",
        ]
        assert [row.tipster_ciphertext for row in messages] == [b"FOR-THE-TIPSTER"]
        assert call("SELECT * FROM intake_tip_messages(:h)", OTHER).all() == []


def test_a_compromised_intake_cannot_touch_a_tip_whose_receipt_it_lacks(
    roles: dict[str, Any],  # noqa: F811
    empty: Any,
) -> None:
    with empty.begin() as connection:
        connection.execute(text(TIP), {"tip_id": 4242, "hash": HASH})
    with roles["intake"].begin() as connection:
        connection.execute(
            text(
                "SELECT intake_add_follow_up(:h, :id, '2026-05-13', 'k', 'c', "
                "CAST(ARRAY[] AS bytea[]))"
            ),
            {"h": b"x" * 32, "id": "b" * 32},
        )
    with empty.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM tip_messages")).scalar() == 0


def test_the_round_trip_runs_with_the_intake_role_only(
    roles: dict[str, Any],  # noqa: F811
    empty: Any,
    migrated_postgres: str,
    desk_public_key: str,
    desk_private_key: PrivateKey,
    tmp_path: Path,
) -> None:
    from form_service.intake import create_app

    intake_url = make_url(migrated_postgres).set(username=roles["intake"].url.username)
    settings = make_settings(
        intake_url.render_as_string(hide_password=False), desk_public_key, spool_dir=tmp_path
    )
    app = create_app(settings, FixedClock(dt.datetime(2026, 5, 13, 12, tzinfo=dt.UTC)))
    client = app.test_client()
    batch = lambda: spool.flush(tmp_path, roles["intake"])  # noqa: E731 - as the flusher does
    try:
        code = receipt_code(post_tip(client, "ko", flush=False))
        assert batch().records == 1
        with Session(empty) as db:  # the desk replies (as the owner here)
            staff = Staff(email="d@example.org", role=StaffRole.REVIEWER, password_hash="-")  # noqa: S106
            db.add(staff)
            db.flush()
            tip = db.scalars(select(Tip)).one()
            reply_id = replies.send_reply(
                db, tip, staff, desk_private_key, "MARKER-질문", tip.received_on
            )
            db.commit()

        path = "/form/ko/check/"
        token = TOKEN_PATTERN.search(client.get(path).get_data(as_text=True))
        assert token
        assert client.post(path, data={"csrf_token": token[1], "receipt": code}).status_code == 303
        page = client.get(path).get_data(as_text=True)
        assert "MARKER-질문" in page
        fields = {
            "csrf_token": TOKEN_PATTERN.search(page)[1],  # type: ignore[index]
            "message": "MARKER-MORE",
            "attachments": [(io.BytesIO(b"notes\n"), "notes.txt", "text/plain")],
        }
        body, content_type = multipart(fields)
        assert client.post(path + "more", data=body, content_type=content_type).status_code == 303
        token = TOKEN_PATTERN.search(client.get(path).get_data(as_text=True))
        data = {"csrf_token": token[1], "message_id": reply_id}  # type: ignore[index]
        assert client.post(path + "delete", data=data).status_code == 303
        assert batch().records == 2

        page = client.get(path).get_data(as_text=True)
        assert "MARKER-질문" not in page
        with Session(empty) as db:
            reply, follow_up = sorted(db.scalars(select(TipMessage)), key=lambda m: m.sequence)
            assert reply.message_id == reply_id and reply.tipster_ciphertext is None
            assert open_tip(desk_private_key, follow_up.sealed_key, follow_up.ciphertext) == {
                "message": "MARKER-MORE"
            }
            assert len(db.scalars(select(MessageAttachment)).all()) == 1
    finally:
        app.extensions["form_service"].engine.dispose()
