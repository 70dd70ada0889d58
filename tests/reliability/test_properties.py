"""Generated submissions: never a 5xx; accepted tips round-trip, refused ones store nothing.

Hypothesis builds each submission: a topic (real or not), text from all of Unicode (NUL,
controls, bidi and zero-width characters, CR/LF, astral planes), sometimes raw bytes that
are not UTF-8, sometimes extra, duplicate or file-typed parts. Every answer must be one of
200/400/413/415/429. A 200 must store exactly one tip whose decrypted fields equal what was
sent after the one documented normalisation (CR LF and lone CR become LF); a refusal must
store nothing and give back each text field that could be read.

Deterministic: derandomize=True (the examples follow from the test's name), no example
database, no deadline. RELIABILITY_EXAMPLES raises the count (`make soak`).
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape
from nacl.public import PrivateKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from form_service.frame import STATE_KEY
from form_service.intake.forms import TEXT_FIELDS, normalize_newlines
from form_service.models import Tip
from form_service.settings import IntakeSettings
from tests.form_service.factories import make_settings
from tests.form_service.intake.helpers import TOKEN_PATTERN, opened_fields, run_batch

# The tip ids already stored in this test's database, to tell which tip a post added.
SEEN_IDS: set[int] = set()

EXAMPLES = int(os.environ.get("RELIABILITY_EXAMPLES", "1000"))
ALLOWED = {200, 400, 413, 415, 429}
TOPICS = st.sampled_from(["person", "sighting", "document", "other", "", "PERSON", "x" * 300])
# All of Unicode but lone surrogates (which no UTF-8 body can carry; raw bytes cover them).
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=300)
SPECIAL = st.sampled_from(
    ["\x00", "\r\n", "\r", "\u202e", "\u200b", "\ufeff", "<script>", "{{ 7*7 }}", "'; --"]
)
FIELD_TEXT = st.one_of(TEXT, st.lists(st.one_of(TEXT, SPECIAL), max_size=6).map("".join))
RAW = st.binary(max_size=64)  # often not UTF-8


@st.composite
def submissions(draw: Any) -> dict[str, Any]:
    """Draw one submission: the fields, and how the body is built from them."""
    fields = {name: draw(FIELD_TEXT) for name in TEXT_FIELDS if draw(st.booleans())}
    fields["message"] = draw(FIELD_TEXT)
    return {
        "topic": draw(TOPICS),
        "fields": fields,
        "raw": draw(st.one_of(st.none(), RAW)),  # a how_known part of raw bytes
        "extra": draw(st.sampled_from([None, "status", "tip_id", "duplicate", "file"])),
        "encoding": draw(st.sampled_from(["multipart", "urlencoded"])),
    }


def body_of(token: str, case: dict[str, Any]) -> tuple[bytes, str]:
    """Encode a drawn submission as a browser (or something posing as one) would."""
    items: list[tuple[str, Any]] = [("csrf_token", token), ("topic", case["topic"])]
    items += list(case["fields"].items())
    extra = case["extra"]
    if extra in {"status", "tip_id"}:
        items.append((extra, "closed" if extra == "status" else "1"))
    if extra == "duplicate":
        items.append(("message", "DUPLICATE-SECOND"))
    if case["encoding"] == "urlencoded" and extra != "file" and case["raw"] is None:
        from urllib.parse import urlencode

        return urlencode(items).encode("utf-8"), "application/x-www-form-urlencoded"
    boundary = "prop-boundary-7f3e"
    parts = [text_part(boundary, name, str(value).encode("utf-8")) for name, value in items]
    if case["raw"] is not None:
        parts.append(text_part(boundary, "how_known", case["raw"]))
    if extra == "file":
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="when_where"; '
            f'filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nfile\r\n'.encode()
        )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def text_part(boundary: str, name: str, value: bytes) -> bytes:
    """Encode one text part with its bytes as given."""
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
    return head.encode() + value + b"\r\n"


def expected_fields(case: dict[str, Any]) -> dict[str, str]:
    """Return the fields a stored tip must hold for this submission."""
    sent = dict(case["fields"])
    if case["raw"] is not None and "how_known" not in sent:
        sent["how_known"] = case["raw"].decode("utf-8")
    return {name: normalize_newlines(sent.get(name, "")) for name in TEXT_FIELDS}


def check_submission(client: Any, token: str, case: dict[str, Any], counted: list[int]) -> None:
    """Post one submission and check the answer against what is stored."""
    before = counted[0]
    body, content_type = body_of(token, case)
    response = client.post("/form/en/", data=body, content_type=content_type)
    assert response.status_code in ALLOWED, response.status_code
    page = response.get_data(as_text=True)
    # Tips wait in the spool until the batch; run it, as the flusher would, before counting.
    run_batch(client.application)
    engine = client.application.extensions[STATE_KEY].engine
    with Session(engine) as session:
        stored = session.scalar(select(func.count()).select_from(Tip))
        # Ids are random: the newest tip is the one whose id was not seen before.
        ids = set(session.scalars(select(Tip.tip_id)))
        fresh = ids - SEEN_IDS
        SEEN_IDS.update(ids)
        newest = session.get(Tip, fresh.pop()) if len(fresh) == 1 else None
    if response.status_code == 200:
        assert stored == before + 1
        counted[0] += 1
        assert newest is not None
        opened = opened_fields(client.application.config["RELIABILITY_KEY"], newest)
        assert opened == expected_fields(case)
        return
    assert stored == before
    for name, value in case["fields"].items():
        if name == "message" and case["extra"] == "duplicate":
            continue
        text = normalize_newlines(value).lstrip("\n")
        if text and "\x00" not in text:
            assert str(escape(text)) in page, name


def run_property(
    db_url: str, desk_public_key: str, desk_private_key: PrivateKey, tmp_path: Any
) -> None:
    """Run the generated submissions against one database."""
    from form_service.intake import create_app

    app_settings: IntakeSettings = make_settings(
        db_url,
        desk_public_key,
        instance_dir=tmp_path / "instance",
        ratelimit_session="1000000 per hour",
        ratelimit_global="1000000 per hour",
    )
    app = create_app(app_settings)
    app.config.update(RELIABILITY_KEY=desk_private_key)
    client = app.test_client()
    page = client.get("/form/en/").get_data(as_text=True)
    match = TOKEN_PATTERN.search(page)
    assert match
    token, counted = match.group(1), [0]
    SEEN_IDS.clear()

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(submissions())
    def each(case: dict[str, Any]) -> None:
        check_submission(client, token, case, counted)

    try:
        each()
    finally:
        app.extensions[STATE_KEY].engine.dispose()


def test_generated_submissions_never_fail_and_round_trip(
    db_url: str, desk_public_key: str, desk_private_key: PrivateKey, tmp_path: Any
) -> None:
    run_property(db_url, desk_public_key, desk_private_key, tmp_path)
