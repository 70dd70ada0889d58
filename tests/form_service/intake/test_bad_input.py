"""Bodies no browser of ours sends: each gets a friendly answer with the text kept, never a 500.

Each case here was a bug: a 500, a tip stored from a JSON body, or a form dropped silently
and answered as a CSRF failure with an empty form (formparser.py says why).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from form_service.settings import Settings
from tests.form_service.intake.helpers import (
    TYPED,
    assert_form_given_back,
    form_token,
    multipart,
    stored_tips,
    tip_fields,
)

BOUNDARY = "hostile-boundary-1a2b"


def part(name: str, value: bytes | str, filename: bytes | str | None = None) -> bytes:
    """Encode one multipart part by hand, bytes as given (no encoder fixes them up)."""
    raw_value = value.encode("utf-8") if isinstance(value, str) else value
    header = f'Content-Disposition: form-data; name="{name}"'.encode()
    if filename is not None:
        raw_name = filename.encode("utf-8") if isinstance(filename, str) else filename
        header += b'; filename="' + raw_name + b'"\r\nContent-Type: text/plain'
    return b"--" + BOUNDARY.encode() + b"\r\n" + header + b"\r\n\r\n" + raw_value + b"\r\n"


def typed_parts(token: str) -> list[bytes]:
    """Return the parts of a valid tip carrying the text every failure must give back."""
    return [
        part("csrf_token", token),
        part("topic", "sighting"),
        part("message", TYPED["message"]),
        part("when_where", TYPED["when_where"]),
    ]


def closed(parts: list[bytes]) -> bytes:
    """Join parts into a complete multipart body."""
    return b"".join(parts) + b"--" + BOUNDARY.encode() + b"--\r\n"


def post_raw(client: Any, body: bytes, content_type: str | None = None, **kw: Any) -> Any:
    """Post a raw body to the English form."""
    content_type = content_type or f"multipart/form-data; boundary={BOUNDARY}"
    return client.post("/form/en/", data=body, content_type=content_type, **kw)


@pytest.mark.parametrize("field", ["message", "when_where"])
def test_a_file_sent_under_a_text_fields_name_is_refused_with_the_text_kept(
    client: Any, settings: Settings, field: str
) -> None:
    token = form_token(client)
    parts = [p for p in typed_parts(token) if f'name="{field}"' not in p.decode()]
    parts.append(part(field, "file content", filename="notes.txt"))
    if field == "message":
        parts.append(part("how_known", TYPED["message"]))  # the text the page must give back
    response = post_raw(client, closed(parts))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "A file was sent in this text box." in html
    assert "MARKER-MESSAGE 私は見ました" in html
    assert stored_tips(settings) == []


@pytest.mark.parametrize(
    "body",
    [
        {"topic": "person", "message": "MARKER-JSON"},
        {"topic": "person", "message": 5},
        {"topic": "person", "message": {"nested": 1}},
        {"topic": "person", "message": [1, 2]},
        {"topic": "person", "message": "\ud800"},
    ],
    ids=["text", "number", "object", "list", "lone-surrogate"],
)
def test_a_json_body_is_refused_with_415_even_with_a_valid_token(
    client: Any, settings: Settings, body: dict[str, Any]
) -> None:
    token = form_token(client)
    response = client.post(
        "/form/en/",
        data=json.dumps(body),
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 415
    assert "takes only the form on our page" in response.get_data(as_text=True)
    assert stored_tips(settings) == []


@pytest.mark.parametrize("content_type", ["text/plain", "application/xml", ""])
def test_other_body_types_are_refused_with_415(
    client: Any, settings: Settings, content_type: str
) -> None:
    token = form_token(client)
    response = client.post(
        "/form/en/",
        data=b"topic=person&message=MARKER",
        content_type=content_type,
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 415
    assert stored_tips(settings) == []


def test_a_token_in_a_header_does_not_replace_the_one_in_the_form(
    client: Any, settings: Settings
) -> None:
    token = form_token(client)
    body, content_type = multipart(tip_fields(**TYPED))
    response = client.post(
        "/form/en/", data=body, content_type=content_type, headers={"X-CSRFToken": token}
    )
    assert_form_given_back(response, 400, "Nothing was sent")
    assert stored_tips(settings) == []


def test_more_than_64_parts_is_a_400_that_keeps_the_text(client: Any, settings: Settings) -> None:
    parts = typed_parts(form_token(client)) + [part(f"extra{n}", "x") for n in range(70)]
    response = post_raw(client, closed(parts))
    assert_form_given_back(response, 400, "more parts than this form has")
    assert stored_tips(settings) == []


def test_more_than_64_url_encoded_fields_is_a_400_that_keeps_the_text(
    client: Any, settings: Settings
) -> None:
    fields = {"csrf_token": form_token(client), **tip_fields(**TYPED)}
    fields.update({f"extra{n}": "x" for n in range(70)})
    response = client.post("/form/en/", data=fields)  # the test client url-encodes a dict
    assert_form_given_back(response, 400, "more parts than this form has")
    assert stored_tips(settings) == []


def test_a_shift_jis_file_name_is_a_400_that_keeps_the_text(
    client: Any, settings: Settings
) -> None:
    name = "日本.txt".encode("shift_jis")
    parts = [*typed_parts(form_token(client)), part("attachments", b"hello", filename=name)]
    response = post_raw(client, closed(parts))
    assert_form_given_back(response, 400, "The name of one of your files could not be read")
    assert stored_tips(settings) == []


def test_text_that_is_not_utf8_is_a_400_that_keeps_what_can_be_read(
    client: Any, settings: Settings
) -> None:
    parts = typed_parts(form_token(client))
    parts.append(part("how_known", "見た".encode("shift_jis")))
    response = post_raw(client, closed(parts))
    assert_form_given_back(response, 400, "arrived in a form we could not read")
    assert stored_tips(settings) == []


def test_a_url_encoded_body_with_raw_shift_jis_is_a_400_that_keeps_the_text(
    client: Any, settings: Settings
) -> None:
    token = form_token(client)
    body = (
        f"csrf_token={token}&topic=sighting&message=MARKER-MESSAGE%20"
        "%E7%A7%81%E3%81%AF%E8%A6%8B%E3%81%BE%E3%81%97%E3%81%9F"
        "&when_where=MARKER-WHERE%201978&how_known="
    ).encode() + "見た".encode("shift_jis")
    response = post_raw(client, body, "application/x-www-form-urlencoded")
    assert_form_given_back(response, 400, "arrived in a form we could not read")
    assert stored_tips(settings) == []


def test_a_body_cut_short_is_a_400_that_keeps_the_text_that_arrived(
    client: Any, settings: Settings
) -> None:
    body = b"".join(typed_parts(form_token(client))) + part("how_known", "and then")[:-12]
    response = post_raw(client, body)
    assert_form_given_back(response, 400, "arrived incomplete")
    assert stored_tips(settings) == []


def test_a_multipart_body_without_a_boundary_is_a_400_that_keeps_the_text(
    client: Any, settings: Settings
) -> None:
    response = post_raw(client, closed(typed_parts(form_token(client))), "multipart/form-data")
    assert_form_given_back(response, 400, "arrived incomplete")
    assert stored_tips(settings) == []


@pytest.mark.parametrize(
    "message",
    ["\u200b\u200c\u200d", "\ufeff\u2060", "\u202e\u2066\u2069", " \u3000\u3164\n\t", "\u0301"],
    ids=["zero-width", "bom-word-joiner", "bidi-controls", "blank-and-filler", "lone-mark"],
)
def test_a_message_of_invisible_characters_only_counts_as_empty(
    client: Any, settings: Settings, message: str
) -> None:
    token = form_token(client)
    body, content_type = multipart({"csrf_token": token, **tip_fields(message=message)})
    response = client.post("/form/en/", data=body, content_type=content_type)
    assert response.status_code == 400
    assert "Write your information in the box." in response.get_data(as_text=True)
    assert stored_tips(settings) == []


def test_a_message_with_a_zero_width_joiner_inside_real_text_is_kept(
    client: Any, settings: Settings
) -> None:
    token = form_token(client)
    body, content_type = multipart({"csrf_token": token, **tip_fields(message="👩\u200d👩 見た")})
    assert client.post("/form/en/", data=body, content_type=content_type).status_code == 200
    assert len(stored_tips(settings)) == 1


def test_a_zero_byte_file_is_refused_with_the_text_kept(client: Any, settings: Settings) -> None:
    parts = [*typed_parts(form_token(client)), part("attachments", b"", filename="empty.txt")]
    response = post_raw(client, closed(parts))
    assert_form_given_back(response, 400, "File 1 is empty.")
    assert stored_tips(settings) == []
