"""The desk's side of a conversation: unread follow-ups, replies, templates, deletions seen."""

from __future__ import annotations

import io
import re
from typing import Any

from flask.testing import FlaskClient
from nacl.public import PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from form_service.models import AuditEntry, ReplyTemplate, StaffRole, Tip, TipMessage
from tests.form_service.factories import make_staff, make_tip
from tests.form_service.intake.helpers import (
    TOKEN_PATTERN,
    multipart,
    post_tip,
    receipt_code,
    run_batch,
)
from tests.form_service.review.helpers import csrf_token, sign_in

CHECK = "/form/ko/check/"


def tipster_token(client: Any) -> str:
    """Return the CSRF token of the tipster's check page."""
    match = TOKEN_PATTERN.search(client.get(CHECK).get_data(as_text=True))
    assert match
    return match.group(1)


def test_the_whole_conversation_from_both_sides(
    client: Any, review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    # The tipster sends a tip, comes back, adds text and a file.
    code = receipt_code(post_tip(client, "ko"))
    client.post(CHECK, data={"csrf_token": tipster_token(client), "receipt": code})
    fields = {
        "csrf_token": tipster_token(client),
        "message": "MARKER-FOLLOW-UP 1985",
        "attachments": [(io.BytesIO(b"more notes\n"), "notes.txt", "text/plain")],
    }
    body, content_type = multipart(fields)
    assert client.post(CHECK + "more", data=body, content_type=content_type).status_code == 303
    run_batch(client.application)  # the follow-up was spooled: the next batch stores it

    # The desk sees the tip marked, counted, and filterable (the dashboard is for admins).
    sign_in(review_client, db, make_staff(db, desk_private_key, "a@example.org", StaffRole.ADMIN))
    make_tip(db, desk_private_key)  # another tip, without follow-ups
    tip_id = db.scalars(select(Tip.tip_id).where(Tip.language == "ko")).one()
    inbox = review_client.get("/").get_data(as_text=True)
    assert "new follow-up" in inbox and "1 tip has a new follow-up." in inbox
    only = review_client.get("/?unread=y").get_data(as_text=True)
    assert re.findall(r'<th scope="row"><a href="/tips/(\d+)">', only) == [str(tip_id)]
    assert "1 tip has follow-ups the desk has not read." in review_client.get(
        "/dashboard"
    ).get_data(as_text=True)

    # The tip page shows the follow-up and its file, and reading it clears the marker.
    page = review_client.get(f"/tips/{tip_id}").get_data(as_text=True)
    assert "MARKER-FOLLOW-UP 1985" in page and "text/plain, 11 bytes" in page
    [message_id] = re.findall(r"/messages/([0-9a-f]{32})/files/1", page)
    download = review_client.get(f"/tips/{tip_id}/messages/{message_id}/files/1")
    assert download.data == b"more notes\n"
    assert "attachment" in download.headers["Content-Disposition"]
    assert "new follow-up" not in review_client.get("/").get_data(as_text=True)

    # The desk replies; the audit log records that, never the text.
    token = csrf_token(review_client, f"/tips/{tip_id}")
    sent = review_client.post(
        f"/tips/{tip_id}/replies", data={"csrf_token": token, "reply_text": "MARKER-REPLY 질문"}
    )
    assert sent.status_code == 302
    entries = list(db.scalars(select(AuditEntry).where(AuditEntry.action == "reply.send")))
    assert len(entries) == 1 and "MARKER-REPLY" not in entries[0].detail

    # The tipster reads the reply, then deletes it; the desk sees that they did.
    assert "MARKER-REPLY 질문" in client.get(CHECK).get_data(as_text=True)
    db.expire_all()
    reply = db.scalars(select(TipMessage).where(TipMessage.direction == "to_tipster")).one()
    client.post(
        CHECK + "delete", data={"csrf_token": tipster_token(client), "message_id": reply.message_id}
    )
    assert "MARKER-REPLY" not in client.get(CHECK).get_data(as_text=True)
    run_batch(client.application)  # the deletion too
    page = review_client.get(f"/tips/{tip_id}").get_data(as_text=True)
    assert "The tipster deleted their copy on" in page
    assert "MARKER-REPLY 질문" in page  # the desk's own copy stays


def test_a_tip_without_a_reply_key_cannot_be_replied_to_yet(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    sign_in(review_client, db, make_staff(db, desk_private_key))
    tip = make_tip(db, desk_private_key)
    page = review_client.get(f"/tips/{tip.tip_id}").get_data(as_text=True)
    assert "A reply becomes possible once the tipster checks on it" in page
    token = csrf_token(review_client, f"/tips/{tip.tip_id}")
    response = review_client.post(
        f"/tips/{tip.tip_id}/replies",
        data={"csrf_token": token, "reply_text": "hello"},
        follow_redirects=True,
    )
    assert "has not come back with the code yet" in response.get_data(as_text=True)
    assert db.scalars(select(TipMessage)).all() == []


def test_admins_manage_templates_and_reviewers_use_them(
    client: Any, review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    admin = make_staff(db, desk_private_key, "admin@example.org", StaffRole.ADMIN)
    sign_in(review_client, db, admin)
    token = csrf_token(review_client, "/reply-templates")
    review_client.post(
        "/reply-templates",
        data={"csrf_token": token, "language": "ko", "title": "Ask when", "body": "언제였습니까?"},
    )
    [template] = db.scalars(select(ReplyTemplate)).all()
    assert template.language == "ko"
    receipt_code(post_tip(client, "ko"))
    tip_id = db.scalars(select(Tip.tip_id)).one()
    page = review_client.get(f"/tips/{tip_id}?template={template.template_id}")
    assert "언제였습니까?</textarea>" in page.get_data(as_text=True)
    token = csrf_token(review_client, "/reply-templates")
    review_client.post(
        f"/reply-templates/{template.template_id}/delete", data={"csrf_token": token}
    )
    assert db.scalars(select(ReplyTemplate)).all() == []
    actions = set(db.scalars(select(AuditEntry.action)))
    assert {"reply_template.add", "reply_template.delete"} <= actions
