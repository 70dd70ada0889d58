"""The retry question: the same form sent twice is one tip, and the tipster sees one receipt.

A worker that dies after the commit and before the answer leaves the tipster with a dropped
connection and no receipt; the browser (or the tipster) sends the very same form again. That
second post must find the first one's record and show the same receipt, never store a
second copy: two copies would double-count a report and tell the desk less than one. The
mechanism is the intake's: a random nonce in each form, from which the spooled record's id
and the receipt are derived (form_service/intake/submit.py).
"""

from __future__ import annotations

import re
from typing import Any

from werkzeug.test import encode_multipart

from form_service.settings import Settings
from tests.form_service.intake.helpers import receipt_code, stored_tips

HIDDEN = re.compile(r'<input[^>]*type="hidden"[^>]*>')
NAME = re.compile(r'name="([^"]+)"')
VALUE = re.compile(r'value="([^"]*)"')


def hidden_fields(page: str) -> dict[str, str]:
    """Return every hidden input of the tip form (the CSRF token and any per-form value)."""
    fields = {}
    for tag in HIDDEN.findall(page):
        name, value = NAME.search(tag), VALUE.search(tag)
        if name:
            fields[name.group(1)] = value.group(1) if value else ""
    return fields


def test_the_same_form_sent_twice_is_stored_once_with_the_same_receipt(
    client: Any, settings: Settings
) -> None:
    page = client.get("/form/en/").get_data(as_text=True)
    fields = {**hidden_fields(page), "topic": "sighting", "message": "RETRY-MARKER once"}
    boundary, body = encode_multipart(fields)
    content_type = f"multipart/form-data; boundary={boundary}"
    first = client.post("/form/en/", data=body, content_type=content_type)
    again = client.post("/form/en/", data=body, content_type=content_type)
    assert first.status_code == again.status_code == 200
    assert receipt_code(first) == receipt_code(again)
    assert len(stored_tips(settings)) == 1
