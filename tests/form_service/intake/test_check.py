"""The check pages (check_views.py): a tipster comes back with the code, reads, adds, leaves."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from typing import Any

import pytest
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, SealedBox
from sqlalchemy import select
from sqlalchemy.orm import Session

from form_service.clock import FixedClock
from form_service.crypto import open_tip, seal_tip
from form_service.db import make_engine
from form_service.frame import STATE_KEY
from form_service.intake import spool
from form_service.models import MessageAttachment, Tip, TipMessage, TipReplyKey
from form_service.replykeys import derive_reply_private_key, open_for_tipster
from form_service.settings import IntakeSettings
from tests.form_service.intake.helpers import (
    TOKEN_PATTERN,
    desk_reply,
    multipart,
    post_tip,
    receipt_code,
    run_batch,
    stored_tips,
)

CHECK = "/form/en/check/"


def token_of(client: Any, path: str = CHECK) -> str:
    """Load a page and return its first CSRF token."""
    match = TOKEN_PATTERN.search(client.get(path).get_data(as_text=True))
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def full_width(code: str) -> str:
    """Write a code's digits as full-width digits, as a Japanese input method types them."""
    return "".join(chr(0xFF10 + int(char)) if char.isdigit() else char for char in code)


def look_up(client: Any, code: str, lang: str = "en") -> Any:
    """Type a code into the lookup form and post it, after the next batch stored the tips."""
    settings = client.application.extensions[STATE_KEY].settings
    stored_tips(settings)
    path = f"/form/{lang}/check/"
    return client.post(path, data={"csrf_token": token_of(client, path), "receipt": code})


def rows(settings: IntakeSettings, model: Any) -> list[Any]:
    """Return every row of a table (after the next batch stored the spooled records)."""
    stored_tips(settings)
    return unbatched_rows(settings, model)


def unbatched_rows(settings: IntakeSettings, model: Any) -> list[Any]:
    """Return every row of a table as it is before the next batch."""
    engine = make_engine(settings)
    try:
        with Session(engine) as db:
            return list(db.scalars(select(model)))
    finally:
        engine.dispose()


def store_old_tip(settings: IntakeSettings, key: PrivateKey, code: str) -> None:
    """Store a tip as it was sent before reply keys existed (a 20-digit code, no key)."""
    digest = hmac.new(settings.receipt_pepper.encode(), code.replace(" ", "").encode(), "sha256")
    sealed = seal_tip(key.public_key, {"message": "old"}, [])
    engine = make_engine(settings)
    with Session(engine) as db:
        db.add(
            Tip(
                received_on=dt.date(2025, 1, 1),
                language="en",
                topic="other",
                sealed_key=sealed.sealed_key,
                ciphertext=sealed.ciphertext,
                receipt_hash=digest.digest(),
            )
        )
        db.commit()
    engine.dispose()


def test_the_round_trip_reply_follow_up_file_and_deletion(
    client: Any, settings: IntakeSettings, desk_private_key: PrivateKey
) -> None:
    code = receipt_code(post_tip(client))
    desk_reply(settings, desk_private_key, "MARKER-REPLY: which year?", dt.date(2026, 12, 2))

    response = look_up(client, full_width(code).replace(" ", "-"))
    assert response.status_code == 303
    page = client.get(CHECK).get_data(as_text=True)
    assert "MARKER-REPLY: which year?" in page
    assert "Received" in page and "Leave" in page

    data = {"csrf_token": TOKEN_PATTERN.search(page).group(1), "message": "MARKER-MORE 1984"}  # type: ignore[union-attr]
    data["attachments"] = [(__import__("io").BytesIO(b"notes\n"), "notes.txt", "text/plain")]
    body, content_type = multipart(data)
    sent = client.post(CHECK + "more", data=body, content_type=content_type)
    assert sent.status_code == 303
    # Before the batch: spooled, not stored, and the tipster is told when it will show.
    page = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "It will be listed below after our next batch" in page
    assert "Your message, sent on" not in page
    assert [m.direction for m in unbatched_rows(settings, TipMessage)] == ["to_tipster"]
    assert len(spool.waiting(settings.spool_path)) == 1
    run_batch(client.application)
    page = client.get(CHECK).get_data(as_text=True)
    assert "Your message, sent on" in page
    assert "MARKER-MORE" not in page  # sealed to the desk: the intake cannot show it back

    [follow_up] = [m for m in rows(settings, TipMessage) if m.direction == "to_desk"]
    assert open_tip(desk_private_key, follow_up.sealed_key, follow_up.ciphertext) == {
        "message": "MARKER-MORE 1984"
    }
    assert len(rows(settings, MessageAttachment)) == 1

    [reply] = [m for m in rows(settings, TipMessage) if m.direction == "to_tipster"]
    token = TOKEN_PATTERN.search(page).group(1)  # type: ignore[union-attr]
    deleted = client.post(
        CHECK + "delete", data={"csrf_token": token, "message_id": reply.message_id}
    )
    assert deleted.status_code == 303
    # Before the batch: the text is hidden at once, and still stored until the batch.
    page = client.get(deleted.headers["Location"]).get_data(as_text=True)
    assert "MARKER-REPLY" not in page
    assert "It will be erased from our server at our next batch." in page
    [reply] = [m for m in unbatched_rows(settings, TipMessage) if m.direction == "to_tipster"]
    assert reply.tipster_ciphertext is not None
    run_batch(client.application)
    page = client.get(CHECK).get_data(as_text=True)
    assert "MARKER-REPLY" not in page and "You deleted this reply." in page
    assert "It will be erased" not in page
    [reply] = [m for m in rows(settings, TipMessage) if m.direction == "to_tipster"]
    assert reply.tipster_ciphertext is None and reply.deleted_on == dt.date(2026, 5, 13)


def test_an_old_twenty_digit_receipt_opens_its_tip_and_gets_a_reply_key(
    client: Any, settings: IntakeSettings, desk_private_key: PrivateKey
) -> None:
    code = "1234 5678 9012 3456 7890"
    store_old_tip(settings, desk_private_key, code)
    assert rows(settings, TipReplyKey) == []
    assert look_up(client, code).status_code == 303
    assert len(rows(settings, TipReplyKey)) == 1
    desk_reply(settings, desk_private_key, "MARKER-LATE-REPLY", dt.date(2026, 12, 3))
    assert "MARKER-LATE-REPLY" in client.get(CHECK).get_data(as_text=True)


@pytest.mark.parametrize(
    "typed",
    [
        "letters abcde",
        "     ",
        "FULL-WIDTH",  # full-width digits of a code that was never issued
        "1" * 10_000,
        "12345\x0067890",
        "",
        "SWAP",  # a valid code with one digit changed
    ],
)
def test_wrong_and_malformed_codes_get_the_same_friendly_answer(
    client: Any, settings: IntakeSettings, typed: str
) -> None:
    code = receipt_code(post_tip(client))
    if typed == "FULL-WIDTH":
        typed = full_width("98765 43210 98765 43210 98760")
    if typed == "SWAP":
        last = code[-1]
        typed = code[:-1] + str((int(last) + 1) % 10)
    unknown = look_up(client, "98765 43210 98765 43210 98765")
    response = look_up(client, typed)
    assert response.status_code == unknown.status_code == 200
    strip = re.compile(r'value="[^"]*"')  # only the fresh CSRF token differs
    assert strip.sub("", response.get_data(as_text=True)) == strip.sub(
        "", unknown.get_data(as_text=True)
    )
    assert "We could not open a tip with this code" in response.get_data(as_text=True)
    assert "check_session" not in response.headers.get("Set-Cookie", "")


def test_a_lookup_does_the_same_database_work_for_a_hit_a_miss_and_garbage(
    client: Any, settings: IntakeSettings, intake_app: Any
) -> None:
    from sqlalchemy import event

    code = receipt_code(post_tip(client))
    engine = intake_app.extensions["form_service"].engine
    statements: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    counts = []
    for typed in (code, "00000 00000 00000 00000 00001", "not a code"):
        token = token_of(client, "/form/ja/check/")
        statements.clear()
        client.post("/form/ja/check/", data={"csrf_token": token, "receipt": typed})
        counts.append(list(statements))
    event.remove(engine, "before_cursor_execute", note)
    assert counts[0] == counts[1] == counts[2]
    assert len(counts[0]) == 1


def test_the_code_is_never_in_a_url_a_cookie_or_a_stored_row(
    client: Any, settings: IntakeSettings, desk_private_key: PrivateKey
) -> None:
    code = receipt_code(post_tip(client))
    digits = code.replace(" ", "")
    response = look_up(client, code)
    assert digits not in response.headers["Location"]
    assert digits not in response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in response.headers["Set-Cookie"]
    assert "SameSite=Strict" in response.headers["Set-Cookie"]
    page = client.get(CHECK)
    assert page.headers["Cache-Control"] == "no-store"
    assert digits not in page.get_data(as_text=True)
    for model in (Tip, TipReplyKey, TipMessage):
        for row in rows(settings, model):
            for value in vars(row).values():
                if isinstance(value, bytes | str):
                    blob = value if isinstance(value, bytes) else value.encode()
                    assert digits.encode() not in blob
                    assert hashlib.sha256(digits.encode()).digest() not in blob


def test_leave_ends_the_session_on_the_server(client: Any) -> None:
    code = receipt_code(post_tip(client))
    look_up(client, code)
    cookie = client.get_cookie("check_session", path="/form/")
    assert cookie is not None
    token = token_of(client)
    left = client.post(CHECK + "leave", data={"csrf_token": token})
    assert "You have left" in left.get_data(as_text=True)
    # A copy of the old cookie opens nothing any more.
    client.set_cookie("check_session", cookie.value, path="/form/")
    assert "Your receipt code" in client.get(CHECK).get_data(as_text=True)


def test_a_session_ends_after_fifteen_idle_minutes(settings: IntakeSettings) -> None:
    from form_service.intake import create_app

    clock = FixedClock(dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC))
    app = create_app(settings, clock=clock)
    client = app.test_client()
    code = receipt_code(post_tip(client))
    look_up(client, code)
    clock.advance(minutes=14)
    assert "Leave" in client.get(CHECK).get_data(as_text=True)
    clock.advance(minutes=14)  # 14 idle minutes again: still open
    assert "Leave" in client.get(CHECK).get_data(as_text=True)
    clock.advance(minutes=15)
    page = client.get(CHECK).get_data(as_text=True)
    assert "Your visit ended" not in page or "Leave" not in page
    assert "Your receipt code" in page
    app.extensions["form_service"].engine.dispose()


def test_the_lookup_limit_stops_one_session_and_not_another_at_the_same_address(
    client: Any, intake_app: Any
) -> None:
    for _ in range(10):
        assert look_up(client, "11111 11111 11111 11111 11111").status_code == 200
    refused = look_up(client, "11111 11111 11111 11111 11111")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    other = intake_app.test_client()  # same address, its own session
    assert look_up(other, "11111 11111 11111 11111 11111").status_code == 200


def test_a_follow_up_without_a_session_goes_back_to_the_lookup(client: Any) -> None:
    token = token_of(client)
    response = client.post(CHECK + "more", data={"csrf_token": token, "message": "x"})
    assert response.status_code == 303
    assert "Your visit ended" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_a_lookup_without_its_token_is_a_friendly_page(client: Any) -> None:
    response = client.post(CHECK, data={"receipt": secrets.token_hex(4)})
    assert response.status_code == 400
    assert "Type your code again" in response.get_data(as_text=True)


def test_the_confirmation_page_keeps_the_code_safe_from_the_first_link(client: Any) -> None:
    html = post_tip(client, "ja").get_data(as_text=True)
    code = re.search(r'class="receipt-code"[^>]*>([0-9 ]+)<', html).group(1)  # type: ignore[union-attr]
    assert re.fullmatch(r"\d{5}( \d{5}){4}", code)
    first_link = re.search(r'<a [^>]*href="([^"]+)"', html).group(1)  # type: ignore[union-attr]
    assert first_link.startswith("#"), "the first link must stay on the page"
    assert html.index("receipt-code") < html.index('href="/form/ja/check/"')
    assert "書き留め" in html and "印刷" in html


@pytest.mark.parametrize("lang", ["ja", "ko", "zh-hans"])
def test_the_check_pages_are_translated(client: Any, lang: str) -> None:
    words = {"ja": "受付番号", "ko": "접수 번호", "zh-hans": "回执代码"}
    code = receipt_code(post_tip(client, lang))
    assert words[lang] in client.get(f"/form/{lang}/check/").get_data(as_text=True)
    look_up(client, code, lang)
    page = client.get(f"/form/{lang}/check/").get_data(as_text=True)
    assert "Leave" not in page and "Status" not in page


def test_a_reply_cannot_be_read_from_everything_stored_without_the_code(
    client: Any, settings: IntakeSettings, desk_private_key: PrivateKey
) -> None:
    code = receipt_code(post_tip(client))
    desk_reply(settings, desk_private_key, "MARKER-SECRET-REPLY", dt.date(2026, 12, 2))
    engine = make_engine(settings)
    stored: list[bytes] = []
    with engine.connect() as connection:
        for table in Tip.metadata.sorted_tables:
            for row in connection.execute(table.select()):
                stored += [v if isinstance(v, bytes) else str(v).encode() for v in row]
    engine.dispose()
    files = [p for p in settings.instance_dir.rglob("*") if p.is_file()]
    stored += [path.read_bytes() for path in files]
    digits = code.replace(" ", "").encode()
    assert not any(b"MARKER-SECRET-REPLY" in blob or digits in blob for blob in stored)

    [reply] = rows(settings, TipMessage)
    [reply_key] = rows(settings, TipReplyKey)
    # Neither the desk's key nor a code one digit away opens the tipster's copy...
    with pytest.raises(CryptoError):
        SealedBox(desk_private_key).decrypt(reply.tipster_ciphertext)
    near = code[:-1] + str((int(code[-1]) + 1) % 10)
    with pytest.raises(CryptoError):
        open_for_tipster(derive_reply_private_key(near, reply_key.salt), reply.tipster_ciphertext)
    # ...only the code does.
    key = derive_reply_private_key(code, reply_key.salt)
    assert open_for_tipster(key, reply.tipster_ciphertext) == "MARKER-SECRET-REPLY"


BATCH_WORDS = {
    # (the lookup page, the confirmation page)
    "en": ("appears here only after the day", "from tomorrow, after the day"),
    "ja": ("その日の一括保存の後にはじめて", "明日から確認できます"),
    "ko": ("그날의 일괄 저장이 끝난 뒤에야", "내일부터 확인하실 수 있습니다"),
    "zh-hans": ("要在当天的批量保存之后才能", "您从明天起即可在那里查看"),
}


@pytest.mark.parametrize("lang", sorted(BATCH_WORDS))
def test_the_pages_say_a_tip_opens_only_after_the_days_batch(client: Any, lang: str) -> None:
    lookup_words, confirmation_words = BATCH_WORDS[lang]
    assert confirmation_words in post_tip(client, lang, flush=False).get_data(as_text=True)
    assert lookup_words in client.get(f"/form/{lang}/check/").get_data(as_text=True)


def test_a_tip_looked_up_before_the_batch_is_not_found_yet_and_the_page_says_why(
    client: Any,
) -> None:
    code = receipt_code(post_tip(client, flush=False))
    data = {"csrf_token": token_of(client), "receipt": code}
    before = client.post(CHECK, data=data).get_data(as_text=True)
    assert "We could not open a tip with this code" in before
    assert "appears here only after the day" in before
    run_batch(client.application)
    data = {"csrf_token": token_of(client), "receipt": code}
    assert client.post(CHECK, data=data).status_code == 303
