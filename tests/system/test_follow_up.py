"""A tipster comes back through nginx and TLS, on the stack's own database roles.

The stack's intake and its batch connect as the intake's role, which may read no table: the
lookup, the replies, the follow-up and the deletion all go through its functions. The desk
writes its reply as the desk's role, with the stack's desk key, as the desk app does.
"""

from __future__ import annotations

import re
import uuid

import pytest

from tests.system.conftest import Client, Stack, csrf_token, run_the_batch
from tools.stack import prepare as stack_setup

pytestmark = pytest.mark.xdist_group("stack")

MARKER = f"follow-up-marker-{uuid.uuid4().hex}"
RECEIPT = re.compile(r'class="receipt-code"[^>]*>([0-9 ]+)<')


def desk_replies(receipt_code: str, text: str) -> str:
    """Write a reply on the tip with this code as the desk does; return the reply's id."""
    import datetime as dt

    from sqlalchemy import select

    from form_service.crypto import receipt_hash
    from form_service.db import make_engine, make_session_factory
    from form_service.deskkey import unlock_private_key
    from form_service.models import Staff, StaffRole, Tip
    from form_service.review import replies
    from form_service.settings import IntakeSettings, ReviewSettings

    pepper = IntakeSettings.from_env(stack_setup.intake_env()).receipt_pepper
    key = unlock_private_key(
        (stack_setup.SECRETS / "desk-key.json").read_bytes(),
        (stack_setup.SECRETS / "desk-passphrase").read_text().strip(),
    )
    engine = make_engine(ReviewSettings.from_env(stack_setup.review_env()))
    try:
        with make_session_factory(engine)() as db:
            staff = Staff(
                email=f"reply.{uuid.uuid4().hex[:12]}@example.org",
                role=StaffRole.REVIEWER,
                password_hash="unusable",  # noqa: S106 - no one signs in as this account
            )
            db.add(staff)
            db.flush()
            hashed = receipt_hash(pepper, receipt_code.replace(" ", ""))
            tip = db.scalars(select(Tip).where(Tip.receipt_hash == hashed)).one()
            today = dt.date.today()  # wall clock: the stack's desk dates replies by it too
            message_id = replies.send_reply(db, tip, staff, key, text, today)
            db.commit()
            return message_id
    finally:
        engine.dispose()


def test_a_tipster_reads_a_reply_adds_more_and_deletes_it_through_nginx(stack: Stack) -> None:
    client = Client(stack.ca)
    form_url, check_url = stack.public + "/form/ko/", stack.public + "/form/ko/check/"
    form = client.get(form_url)
    sent = client.post_form(
        form_url,
        {"csrf_token": csrf_token(form.text), "topic": "other", "message": f"First {MARKER}"},
        referer=form_url,
    )
    assert sent.status == 200, sent.text[:500]
    match = RECEIPT.search(sent.text)
    assert match
    code = match.group(1)

    def look_up() -> int:
        """Type the code into the lookup form; return the status."""
        page = client.get(check_url)
        fields = {"csrf_token": csrf_token(page.text), "receipt": code}
        return client.post_form(check_url, fields, referer=check_url).status

    assert look_up() == 200  # not stored before the batch: the same answer as a wrong code
    run_the_batch()
    reply_id = desk_replies(code, f"Reply {MARKER}")
    assert look_up() == 303
    page = client.get(check_url)
    assert page.status == 200 and f"Reply {MARKER}" in page.text

    more = {"csrf_token": csrf_token(page.text), "message": f"More {MARKER}"}
    assert client.post_form(check_url + "more", more, referer=check_url).status == 303
    page = client.get(check_url)
    delete = {"csrf_token": csrf_token(page.text), "message_id": reply_id}
    assert client.post_form(check_url + "delete", delete, referer=check_url).status == 303
    assert f"Reply {MARKER}" not in client.get(check_url).text  # hidden until the batch
    run_the_batch()
    page = client.get(check_url)
    assert page.status == 200
    assert f"Reply {MARKER}" not in page.text
    assert page.text.count('class="message from-tipster"') == 1  # the follow-up, by its day
