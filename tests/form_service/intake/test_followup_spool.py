"""What a tipster sends after the tip is spooled too: strict records, stored by the batch only.

A follow-up, a first reply key and a reply's deletion each wait in the spool as a record of
its own kind (followup.py); nothing reaches the database before the batch, a failed batch
keeps every record, a batch run twice stores nothing twice, and a file that is not a record
of a known kind and version is set aside, never stored and never in the way of the rest.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from nacl.public import PrivateKey
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from form_service.db import make_engine
from form_service.intake import records, spool
from form_service.models import MessageAttachment, TipMessage, TipReplyKey
from form_service.settings import IntakeSettings
from tests.form_service.intake.helpers import (
    TOKEN_PATTERN,
    TYPED,
    desk_reply,
    multipart,
    post_tip,
    receipt_code,
    run_batch,
    stored_tips,
)
from tests.form_service.intake.test_check import (
    CHECK,
    look_up,
    store_old_tip,
    token_of,
    unbatched_rows,
)


def follow_up(client: Any, message: str = "MARKER-MORE", files: int = 1) -> Any:
    """Send more information from the open check session, with a small text file or none."""
    data: dict[str, Any] = {"csrf_token": token_of(client), "message": message}
    if files:
        data["attachments"] = [(io.BytesIO(b"notes\n"), "notes.txt", "text/plain")]
    body, content_type = multipart(data)
    return client.post(CHECK + "more", data=body, content_type=content_type)


def count(settings: IntakeSettings, model: Any) -> int:
    """Count a table's rows as they are now (no batch runs)."""
    return len(unbatched_rows(settings, model))


def test_a_follow_up_waits_in_the_spool_until_the_batch(
    client: Any, settings: IntakeSettings
) -> None:
    look_up(client, receipt_code(post_tip(client)))
    assert follow_up(client).status_code == 303
    [record] = spool.waiting(settings.spool_path)
    assert b"MARKER-MORE" not in record.read_bytes()
    assert json.loads(record.read_text())["kind"] == "follow_up"
    assert json.loads(record.read_text())["version"] == records.VERSION
    assert count(settings, TipMessage) == 0
    run_batch(client.application)
    assert count(settings, TipMessage) == 1
    assert count(settings, MessageAttachment) == 1
    assert spool.waiting(settings.spool_path) == []


def test_a_failed_batch_keeps_a_follow_up_and_a_second_run_stores_it_once(
    client: Any, settings: IntakeSettings, tmp_path: Path
) -> None:
    look_up(client, receipt_code(post_tip(client)))
    assert follow_up(client).status_code == 303
    unreachable = make_engine(
        IntakeSettings(**{**vars(settings), "database_url": "postgresql+psycopg://x@127.0.0.1:9/x"})
    )
    try:
        with pytest.raises(OperationalError):
            spool.flush(settings.spool_path, unreachable)
    finally:
        unreachable.dispose()
    assert len(spool.waiting(settings.spool_path)) == 1
    copies = tmp_path / "copies"
    shutil.copytree(settings.spool_path, copies)
    run_batch(client.application)
    # As if the flusher died after its commit, before deleting the file.
    for path in copies.iterdir():
        shutil.copy(path, settings.spool_path / path.name)
    run_batch(client.application)
    assert count(settings, TipMessage) == 1
    assert count(settings, MessageAttachment) == 1


def test_a_follow_up_on_a_tip_deleted_before_the_batch_holds_nothing_up(
    client: Any, settings: IntakeSettings
) -> None:
    look_up(client, receipt_code(post_tip(client)))
    assert follow_up(client).status_code == 303
    engine = make_engine(settings)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM tips"))
    engine.dispose()
    post_tip(client, flush=False, **TYPED)  # another tip in the same batch
    engine = client.application.extensions["form_service"].engine
    assert spool.flush(settings.spool_path, engine).records == 2
    assert len(stored_tips(settings)) == 1
    assert count(settings, TipMessage) == 0
    assert spool.waiting(settings.spool_path) == []


def test_a_deletion_asked_twice_is_one_record_and_erases_once(
    client: Any, settings: IntakeSettings, desk_private_key: PrivateKey
) -> None:
    code = receipt_code(post_tip(client))
    message_id = desk_reply(settings, desk_private_key, "MARKER-REPLY", dt.date(2026, 5, 14))
    look_up(client, code)
    for _ in range(2):
        data = {"csrf_token": token_of(client), "message_id": message_id}
        assert client.post(CHECK + "delete", data=data).status_code == 303
    assert len(spool.waiting(settings.spool_path)) == 1
    [reply] = unbatched_rows(settings, TipMessage)
    assert reply.tipster_ciphertext is not None
    run_batch(client.application)
    [reply] = unbatched_rows(settings, TipMessage)
    assert reply.tipster_ciphertext is None
    assert reply.deleted_on == dt.date(2026, 5, 13)


@pytest.mark.parametrize("message_id", ["", "x" * 32, "0" * 31, "0" * 33, "../" * 11])
def test_deleting_something_that_is_no_reply_id_spools_nothing(
    client: Any, settings: IntakeSettings, message_id: str
) -> None:
    look_up(client, receipt_code(post_tip(client)))
    data = {"csrf_token": token_of(client), "message_id": message_id}
    response = client.post(CHECK + "delete", data=data)
    assert response.status_code == 503
    assert "There is a problem" in response.get_data(as_text=True)
    assert spool.waiting(settings.spool_path) == []


def test_an_old_tip_looked_up_twice_before_the_batch_gets_one_reply_key_both_open(
    intake_app: Any, settings: IntakeSettings, desk_private_key: PrivateKey
) -> None:
    code = "1234 5678 9012 3456 7890"
    store_old_tip(settings, desk_private_key, code)
    first, second = intake_app.test_client(), intake_app.test_client()
    for client in (first, second):
        path = "/form/en/check/"
        data = {"csrf_token": token_of(client, path), "receipt": code}
        assert client.post(path, data=data).status_code == 303
    assert len(spool.waiting(settings.spool_path)) == 1
    assert count(settings, TipReplyKey) == 0
    run_batch(intake_app)
    assert count(settings, TipReplyKey) == 1
    desk_reply(settings, desk_private_key, "MARKER-LATE-REPLY", dt.date(2026, 5, 14))
    for client in (first, second):  # both sessions derived the key that was stored
        assert "MARKER-LATE-REPLY" in client.get(CHECK).get_data(as_text=True)


def bad_records(valid: dict[str, Any]) -> dict[str, Any]:
    """Return, by name, files the flusher must refuse (each a change of a valid record)."""
    payload = valid["payload"]
    some = next(iter(payload))
    return {
        "unknown kind": {**valid, "kind": "staff"},
        "other version": {**valid, "version": 2},
        "version as text": {**valid, "version": "1"},
        "extra key": {**valid, "staff": "admin"},
        "no payload": {k: v for k, v in valid.items() if k != "payload"},
        "payload field missing": {**valid, "payload": {k: payload[k] for k in list(payload)[1:]}},
        "payload field extra": {**valid, "payload": {**payload, "tip_id": 1}},
        "payload not an object": {**valid, "payload": [payload[some]]},
        "not an object": [valid],
        "not JSON": "{",
    }


@pytest.mark.parametrize("problem", sorted(bad_records({"payload": {"a": 1}})))
def test_a_file_that_is_not_a_known_record_is_set_aside_and_the_rest_is_stored(
    client: Any, settings: IntakeSettings, problem: str
) -> None:
    assert post_tip(client, flush=False, **TYPED).status_code == 200
    [valid_path] = spool.waiting(settings.spool_path)
    bad = bad_records(json.loads(valid_path.read_text()))[problem]
    bad_path = settings.spool_path / f"{'e' * 32}.json"
    if isinstance(bad, dict) and "record_id" in bad:
        bad["record_id"] = "e" * 32
    bad_path.write_text(bad if isinstance(bad, str) else json.dumps(bad))
    assert post_tip(client, flush=False, **TYPED).status_code == 200
    flushed = spool.flush(settings.spool_path, client.application.extensions["form_service"].engine)
    assert (flushed.records, flushed.refused) == (2, 1)
    assert len(stored_tips(settings)) == 2
    assert spool.waiting(settings.spool_path) == []
    assert [path.name for path in spool.refused(settings.spool_path)] == [bad_path.name]


def test_a_record_whose_id_is_not_its_file_name_is_refused(
    client: Any, settings: IntakeSettings
) -> None:
    assert post_tip(client, flush=False, **TYPED).status_code == 200
    [path] = spool.waiting(settings.spool_path)
    path.rename(settings.spool_path / f"{'f' * 32}.json")
    flushed = spool.flush(settings.spool_path, client.application.extensions["form_service"].engine)
    assert (flushed.records, flushed.refused) == (0, 1)
    assert stored_tips(settings) == []


def test_a_tip_spooled_before_records_had_a_version_is_still_stored(
    client: Any, settings: IntakeSettings
) -> None:
    assert post_tip(client, flush=False, **TYPED).status_code == 200
    [path] = spool.waiting(settings.spool_path)
    record = json.loads(path.read_text())
    del record["version"]
    path.write_text(json.dumps(record))
    assert len(stored_tips(settings)) == 1


def test_the_intake_cannot_spool_an_unknown_kind_or_other_fields(tmp_path: Path) -> None:
    with pytest.raises(KeyError):
        records.spool_put(tmp_path, "staff", "a" * 32, {}, 0.0)
    with pytest.raises(KeyError):
        records.spool_put(tmp_path, "reply_key", "a" * 32, {"receipt_hash": ""}, 0.0)
    assert list(tmp_path.iterdir()) == []


def test_the_session_cookie_carries_neither_the_code_nor_its_hash(
    client: Any, settings: IntakeSettings
) -> None:
    code = receipt_code(post_tip(client))
    look_up(client, code)
    page = client.get(CHECK).get_data(as_text=True)
    assert TOKEN_PATTERN.search(page)
    digits = code.replace(" ", "")
    hashed = hmac.new(settings.receipt_pepper.encode(), digits.encode(), hashlib.sha256).digest()
    # The session names the tip by its receipt hash; neither the code nor the hash is sent.
    cookie = client.get_cookie("check_session", path="/form/")
    assert cookie is not None
    assert hashed.hex() not in cookie.value and digits not in cookie.value
