"""XSS payloads sent through the public form stay inert on every desk page that shows them.

A behaviour suite across both apps and every desk page, so it keeps a behaviour name; the
escaping itself is tested in test_text.py.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest
from flask.testing import FlaskClient
from nacl.public import PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from form_service.models import StaffRole, Tip
from tests.form_service.factories import make_staff
from tests.form_service.intake.helpers import post_tip
from tests.form_service.review.helpers import csrf_token, sign_in

PAYLOADS = [
    "<script>alert('xss')</script>",
    "<img src=x onerror=alert(1)>",
    '<a href="javascript:alert(1)">click me</a>',
    "javascript:alert(document.domain)",
    "{{ config }} {{ 7*7 }} {% for x in range(3) %}{% endfor %} ${7*7} #{7*7}",
    '"><svg/onload=alert(1)>',
    "<iframe src=//evil.example></iframe>",
    "<style>body{display:none}</style>",
    "</textarea><script>alert(2)</script>",
    "\u202egnp.exe",
]
FORBIDDEN_TAGS = {"script", "iframe", "style", "img", "object", "embed", "a"}


class Markup(HTMLParser):
    """Collect what a browser would build from a page: elements, attributes, text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {name: value or "" for name, value in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> Markup:
    """Parse a desk page."""
    parser = Markup()
    parser.feed(html)
    return parser


def assert_no_active_markup(html: str) -> None:
    """Check the page has no script, handler, javascript: link or hidden reordering."""
    page = parse(html)
    main = html.split('<main id="main"', 1)[1].split("</main>", 1)[0]
    main_tags = {tag for tag, _ in parse(main).elements}
    assert not main_tags & (FORBIDDEN_TAGS - {"a"}), main_tags
    for tag, attributes in page.elements:
        assert tag not in {"script", "iframe", "style", "img", "object", "embed"}, tag
        for name, value in attributes.items():
            assert not name.startswith("on"), (tag, name)
            assert not value.strip().lower().startswith("javascript:"), (tag, name, value)
    assert "\u202e" not in html


def assert_inert(html: str) -> None:
    """Check that no payload survived as markup and template syntax was not evaluated."""
    assert_no_active_markup(html)
    text = "".join(parse(html).text)
    assert "<script>alert('xss')</script>" in text or "<script>x</script>" in text
    assert "{{ 7*7 }}" in text
    assert "SECRET_KEY" not in html and "&lt;Config" not in html


@pytest.mark.parametrize("payload", PAYLOADS)
def test_each_payload_from_the_public_form_is_inert_on_the_tip_page(
    client: Any, review_client: FlaskClient, db: Session, desk_private_key: PrivateKey, payload: str
) -> None:
    response = post_tip(
        client,
        message=payload + " <script>x</script> {{ 7*7 }}",
        when_where=payload,
        how_known=payload,
        contact=payload,
    )
    assert response.status_code == 200
    tip_id = db.scalar(select(Tip.tip_id))
    sign_in(review_client, db, make_staff(db, desk_private_key))
    assert_inert(review_client.get(f"/tips/{tip_id}").get_data(as_text=True))


def test_payloads_stay_inert_in_labels_notes_search_and_the_audit_log(
    client: Any, review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    everything = "\n".join(PAYLOADS)
    assert post_tip(client, message=everything).status_code == 200
    tip_id = db.scalar(select(Tip.tip_id))
    sign_in(
        review_client, db, make_staff(db, desk_private_key, "admin@example.org", StaffRole.ADMIN)
    )
    url = f"/tips/{tip_id}"
    token = csrf_token(review_client, url)
    for payload in PAYLOADS[:3] + PAYLOADS[5:7]:
        review_client.post(f"{url}/labels", data={"csrf_token": token, "label": payload[:64]})
    review_client.post(f"{url}/notes", data={"csrf_token": token, "note_text": everything})
    review_client.post(
        f"{url}/status", data={"csrf_token": token, "status": "closed", "reason": PAYLOADS[0]}
    )
    pages = {
        "tip": review_client.get(url).get_data(as_text=True),
        "inbox": review_client.get("/?search=script").get_data(as_text=True),
        "label filter": review_client.get("/", query_string={"label": PAYLOADS[0]}).get_data(
            as_text=True
        ),
        "audit": review_client.get("/audit").get_data(as_text=True),
        "dashboard": review_client.get("/dashboard").get_data(as_text=True),
    }
    assert_inert(pages["tip"])
    assert str(tip_id) in pages["inbox"]
    for name in ("inbox", "label filter", "audit", "dashboard"):
        assert_no_active_markup(pages[name])
