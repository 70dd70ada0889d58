"""The inbox and the tip page: filters, search, inert text, workflow, notes, downloads."""

from __future__ import annotations

import datetime as dt
import re

from flask.testing import FlaskClient
from nacl.public import PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from form_service.crypto import PlainAttachment
from form_service.models import AuditEntry, StaffRole, Tip, TipNote, TipStatus, TipTopic
from tests.form_service.factories import FIXED_MOMENT, make_staff, make_tip
from tests.form_service.review.helpers import csrf_token, sign_in

TODAY = FIXED_MOMENT.date()


def tip_numbers(page: str) -> list[int]:
    """Return the tip numbers listed in an inbox page, in order."""
    return [int(n) for n in re.findall(r'<th scope="row"><a href="/tips/(\d+)">', page)]


def signed_in(
    client: FlaskClient, db: Session, key: PrivateKey, role: StaffRole = StaffRole.REVIEWER
) -> None:
    """Sign in a fresh staff member of the given role."""
    sign_in(client, db, make_staff(db, key, f"{role}@example.org", role))


def test_inbox_lists_newest_first_fifty_a_page_with_counts(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    # Ids are random, so the order is checked against the days the tips were received.
    ids = [
        make_tip(
            db,
            desk_private_key,
            received_on=TODAY - dt.timedelta(days=day),
            status=TipStatus.CLOSED if day % 11 == 0 else TipStatus.NEW,
        ).tip_id
        for day in range(55)
    ]
    signed_in(review_client, db, desk_private_key)
    page = review_client.get("/").get_data(as_text=True)
    numbers = tip_numbers(page)
    assert len(numbers) == 50
    assert numbers[:3] == ids[:3]  # the first was received today, the next ones a day apart
    assert "55 tips" in page
    assert "New: <strong>50</strong>" in page
    assert "Closed: <strong>5</strong>" in page
    second = tip_numbers(review_client.get("/?page=2").get_data(as_text=True))
    assert second == ids[50:]


def test_inbox_filters_by_every_clear_column_label_and_assignee(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    old = make_tip(
        db,
        desk_private_key,
        received_on=TODAY - dt.timedelta(days=40),
        language="ja",
        topic=TipTopic.PERSON,
    )
    new = make_tip(db, desk_private_key, status=TipStatus.TRIAGED, topic=TipTopic.DOCUMENT)
    signed_in(review_client, db, desk_private_key)
    token = csrf_token(review_client, f"/tips/{new.tip_id}")
    review_client.post(f"/tips/{new.tip_id}/labels", data={"csrf_token": token, "label": "urgent"})
    review_client.post(f"/tips/{new.tip_id}/assignee", data={"csrf_token": token, "assignee": "1"})
    cases = {
        "status=triaged": [new.tip_id],
        "status=new": [old.tip_id],
        "topic=person": [old.tip_id],
        "language=ja": [old.tip_id],
        f"received_from={TODAY - dt.timedelta(days=1)}": [new.tip_id],
        f"received_to={TODAY - dt.timedelta(days=1)}": [old.tip_id],
        "label=urgent": [new.tip_id],
        "assignee=1": [new.tip_id],
        "assignee=0": [old.tip_id],
        "": [new.tip_id, old.tip_id],
    }
    for query, expected in cases.items():
        assert tip_numbers(review_client.get(f"/?{query}").get_data(as_text=True)) == expected, (
            query
        )


def test_search_finds_text_inside_encrypted_tips_despite_hidden_characters(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    hit = make_tip(db, desk_private_key, fields={"message": "A white VAN near Niigata port"})
    make_tip(db, desk_private_key, fields={"message": "nothing relevant"})
    disguised = make_tip(db, desk_private_key, fields={"message": "NII\u200bGATA"})
    signed_in(review_client, db, desk_private_key)
    assert tip_numbers(review_client.get("/?search=niigata").get_data(as_text=True)) == [hit.tip_id]
    assert tip_numbers(review_client.get("/?search=white+van").get_data(as_text=True)) == [
        hit.tip_id
    ]
    found = review_client.get("/?search=%5BU%2B200B%5D").get_data(as_text=True)
    assert tip_numbers(found) == [disguised.tip_id]
    assert db.scalar(select(Tip.ciphertext).where(Tip.tip_id == hit.tip_id)).find(b"Niigata") == -1  # type: ignore[union-attr]


XSS = [
    "<script>alert('x')</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">click</a>',
    "javascript:alert(document.cookie)",
    "{{ 7 * 7 }} {% raw %}x{% endraw %} ${7*7}",
    '"><svg onload=alert(1)>',
    "https://evil.example/phish and someone@example.org",
    "invoice\u202egpj.exe and zero\u200bwidth\u2066isolate",
]


def test_tip_page_shows_every_field_inert(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    tip = make_tip(
        db,
        desk_private_key,
        fields={
            "message": "\n".join(XSS),
            "when_where": XSS[1],
            "how_known": XSS[4],
            "contact": XSS[6],
        },
    )
    signed_in(review_client, db, desk_private_key)
    page = review_client.get(f"/tips/{tip.tip_id}").get_data(as_text=True)
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert 'href="javascript:' not in page
    assert "<svg onload" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page
    # Random tokens and the random tip id may hold "49"; the evaluated template would put it
    # in the text.
    text = re.sub(r'(value|content)="[^"]*"', "", page).replace(str(tip.tip_id), "")
    assert "{{ 7 * 7 }}" in page and "49" not in text
    assert 'href="https://evil.example' not in page and 'href="mailto:' not in page
    assert "https://evil.example/phish" in page
    assert "\u202e" not in page and "\u200b" not in page and "\u2066" not in page
    assert "[U+202E]" in page and "[U+200B]" in page and "[U+2066]" in page


def test_every_tip_view_is_audited_without_content(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    tip = make_tip(db, desk_private_key, fields={"message": "secret sighting details"})
    signed_in(review_client, db, desk_private_key)
    review_client.get(f"/tips/{tip.tip_id}")
    review_client.get(f"/tips/{tip.tip_id}")
    views = db.scalars(select(AuditEntry).where(AuditEntry.action == "tip.view")).all()
    assert [v.tip_id for v in views] == [tip.tip_id, tip.tip_id]
    assert all("secret" not in v.detail for v in views)


def test_attachments_download_only_as_attachments_with_safe_names(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    evil = PlainAttachment(
        b"<html><script>alert(1)</script></html>", "text/plain", '../../"evil".html'
    )
    tip = make_tip(db, desk_private_key, files=[evil])
    other = make_tip(db, desk_private_key)
    signed_in(review_client, db, desk_private_key)
    page = review_client.get(f"/tips/{tip.tip_id}").get_data(as_text=True)
    assert "../../&#34;evil&#34;.html" in page
    attachment_id = tip.attachments[0].attachment_id
    response = review_client.get(f"/tips/{tip.tip_id}/attachments/{attachment_id}")
    assert response.status_code == 200
    assert response.data == evil.data
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="tip-{tip.tip_id}-attachment-{attachment_id}.txt"'
    )
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    assert review_client.get(f"/tips/{other.tip_id}/attachments/{attachment_id}").status_code == 404
    downloads = db.scalars(select(AuditEntry).where(AuditEntry.action == "attachment.download"))
    assert [d.tip_id for d in downloads] == [tip.tip_id]


def test_a_tip_is_worked_from_new_to_closed_with_history(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    tip = make_tip(db, desk_private_key)
    signed_in(review_client, db, desk_private_key)
    url = f"/tips/{tip.tip_id}"
    token = csrf_token(review_client, url)
    for status in ("triaged", "in_progress", "forwarded"):
        review_client.post(f"{url}/status", data={"csrf_token": token, "status": status})
    refused = review_client.post(
        f"{url}/status", data={"csrf_token": token, "status": "closed"}, follow_redirects=True
    ).get_data(as_text=True)
    assert "Give a reason for closing the tip." in refused
    db.expire_all()
    assert db.get(Tip, tip.tip_id).status == TipStatus.FORWARDED  # type: ignore[union-attr]
    review_client.post(
        f"{url}/status",
        data={"csrf_token": token, "status": "closed", "reason": "Passed to the police"},
    )
    review_client.post(f"{url}/assignee", data={"csrf_token": token, "assignee": "1"})
    review_client.post(f"{url}/labels", data={"csrf_token": token, "label": "<b>hot</b>"})
    review_client.post(f"{url}/notes", data={"csrf_token": token, "note_text": "Called back <i>"})
    page = review_client.get(url).get_data(as_text=True)
    for text in (
        "New → Triaged",
        "Triaged → In progress",
        "In progress → Forwarded",
        "Forwarded → Closed",
        "reviewer@example.org",
        "&lt;b&gt;hot&lt;/b&gt;",
        "Called back &lt;i&gt;",
        "Passed to the police",
    ):
        assert text in page, text
    note = db.scalar(select(TipNote))
    assert note is not None and b"Called back" not in note.ciphertext
    db.expire_all()
    assert db.get(Tip, tip.tip_id).status == TipStatus.CLOSED  # type: ignore[union-attr]
    actions = set(db.scalars(select(AuditEntry.action).where(AuditEntry.tip_id == tip.tip_id)))
    assert {"tip.status", "tip.assign", "tip.label", "tip.note", "tip.view"} <= actions
    details = " ".join(db.scalars(select(AuditEntry.detail)))
    assert "Called back" not in details and "police" not in details and "hot" not in details


def test_labels_can_be_removed(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    tip = make_tip(db, desk_private_key)
    signed_in(review_client, db, desk_private_key)
    url = f"/tips/{tip.tip_id}"
    token = csrf_token(review_client, url)
    review_client.post(f"{url}/labels", data={"csrf_token": token, "label": "check"})
    review_client.post(f"{url}/labels/remove", data={"csrf_token": token, "label": "check"})
    assert tip_numbers(review_client.get("/?label=check").get_data(as_text=True)) == []


def test_unknown_tips_are_404(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    signed_in(review_client, db, desk_private_key)
    assert review_client.get("/tips/999").status_code == 404
