"""Helpers of the intake tests that use the form as a browser does: post, read, check."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from nacl.public import PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from form_service.crypto import open_tip
from form_service.db import make_engine
from form_service.frame import STATE_KEY
from form_service.intake import spool
from form_service.models import Staff, StaffRole, Tip
from form_service.review import replies
from form_service.settings import Settings

TOKEN_PATTERN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
RECEIPT_PATTERN = re.compile(r'class="receipt-code"[^>]*>([0-9 ]+)<')
# Text a tipster typed, which every failure must give back (assert_form_given_back).
TYPED = {"message": "MARKER-MESSAGE 私は見ました", "when_where": "MARKER-WHERE 1978"}


def form_token(client: Any, lang: str = "en") -> str:
    """Fetch the form as a browser would and return its CSRF token."""
    response = client.get(f"/form/{lang}/")
    assert response.status_code == 200
    match = TOKEN_PATTERN.search(response.get_data(as_text=True))
    assert match, "the form carries no CSRF token"
    return match.group(1)


def tip_fields(**overrides: Any) -> dict[str, Any]:
    """Return the fields of a valid tip, with overrides."""
    fields: dict[str, Any] = {"topic": "sighting", "message": "I saw her in 1983."}
    fields.update(overrides)
    return fields


def multipart(fields: dict[str, Any]) -> tuple[bytes, str]:
    """Encode fields as a browser does: in memory, text first, files last."""
    ordered = {k: v for k, v in fields.items() if k != "attachments"}
    if "attachments" in fields:
        ordered["attachments"] = [
            FileStorage(stream, filename=name, content_type=content_type)
            for stream, name, content_type in fields["attachments"]
        ]
    boundary, body = encode_multipart(ordered)
    return body, f"multipart/form-data; boundary={boundary}"


def post_tip(
    client: Any, lang: str = "en", *, token: str | None = None, flush: bool = True, **fields: Any
) -> Any:
    """Fetch a token, then post a tip as multipart/form-data, as the browser does.

    A tip that was taken is stored at once, as if the next batch ran right after it
    (`flush=False` leaves it in the spool, for the tests of the spool itself).
    """
    data = {"csrf_token": form_token(client, lang) if token is None else token}
    data.update(tip_fields(**fields))
    body, content_type = multipart(data)
    response = client.post(f"/form/{lang}/", data=body, content_type=content_type)
    if flush and response.status_code == 200:
        run_batch(client.application)
    return response


def run_batch(app: Any) -> None:
    """Store what the app spooled, as the flusher does at the next batch time."""
    state = app.extensions[STATE_KEY]
    spool.flush(state.settings.spool_path, state.engine)


def receipt_code(response: Any) -> str:
    """Return the receipt code shown on a confirmation page."""
    match = RECEIPT_PATTERN.search(response.get_data(as_text=True))
    assert match, "no receipt code on the page"
    return match.group(1)


def stored_tips(settings: Settings) -> list[Tip]:
    """Run the batch flush (as the next batch would), then return every stored tip."""
    engine = make_engine(settings)
    try:
        spool.flush(settings.spool_path, engine)
        with Session(engine) as session:
            tips = list(session.scalars(select(Tip).order_by(Tip.tip_id)))
            for tip in tips:
                _ = tip.attachments
            return tips
    finally:
        engine.dispose()


def opened_fields(private_key: PrivateKey, tip: Tip) -> dict[str, Any]:
    """Decrypt a stored tip's text as the desk would."""
    return open_tip(private_key, tip.sealed_key, tip.ciphertext)


def assert_form_given_back(response: Any, status: int, notice: str) -> str:
    """Check a re-shown form: status, notice, the typed text and a fresh token."""
    html = response.get_data(as_text=True)
    assert response.status_code == status
    assert response.headers["Cache-Control"] == "no-store"
    assert 'class="error-summary"' in html
    assert notice in html
    assert "MARKER-MESSAGE 私は見ました" in html and "MARKER-WHERE 1978" in html
    assert TOKEN_PATTERN.search(html)
    return html


def desk_reply(settings: Settings, key: PrivateKey, text: str, day: dt.date) -> str:
    """Write a reply on the only tip as the desk does, through replies.send_reply."""
    stored_tips(settings)
    engine = make_engine(settings)
    try:
        with Session(engine) as db:
            staff = db.scalar(select(Staff)) or Staff(
                email="desk@example.org",
                role=StaffRole.REVIEWER,
                password_hash="unusable",  # noqa: S106 - no one signs in as this account
            )
            db.add(staff)
            db.flush()
            tip = db.scalars(select(Tip)).one()
            message_id = replies.send_reply(db, tip, staff, key, text, day)
            db.commit()
            return message_id
    finally:
        engine.dispose()
