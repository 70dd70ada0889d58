"""Two intake instances behind one nginx share PostgreSQL and Redis: limits hold across both."""

from __future__ import annotations

import re
import uuid
from urllib.parse import urlencode

import pytest

from tests.system.conftest import Client, Response, Stack, csrf_token

pytestmark = pytest.mark.xdist_group("stack")


def hourly_session_limit() -> int:
    """Return the number of tips one form session may send per hour (the app's default)."""
    from form_service.settings import IntakeSettings

    default = IntakeSettings.__dataclass_fields__["ratelimit_session"].default
    match = re.match(r"\s*(\d+)\s+per\s+hour", str(default))
    assert match, default
    return int(match.group(1))


def post_tip(client: Client, base: str, headers: dict[str, str] | None = None) -> Response:
    """Fetch the form from one instance and post a valid tip to it with its token."""
    token = csrf_token(client.get(f"{base}/form/en/").text)
    body = urlencode({"csrf_token": token, "topic": "other", "message": "limit probe"}).encode()
    return client.request(
        "POST",
        f"{base}/form/en/",
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})},
    )


def test_two_instances_share_one_session_limit(stack: Stack) -> None:
    assert len(stack.intake) == 2
    limit = hourly_session_limit()
    # One browser (one session cookie) alternating between the instances: with per-process
    # counters each of the four workers would allow `limit`.
    client = Client(stack.ca)
    statuses = [post_tip(client, stack.intake[n % 2]).status for n in range(limit + 1)]
    assert statuses == [200] * limit + [429], statuses


def test_junk_from_one_address_does_not_block_a_tipster_behind_it(stack: Stack) -> None:
    # Every client of an onion service arrives from the same address: a flood of posts
    # without a valid token from it costs nothing, and the next tipster gets through nginx.
    address = f"127.0.1.{uuid.uuid4().int % 250 + 1}"
    flood = Client(stack.ca, source_address=address)
    for _ in range(50):
        response = flood.request(
            "POST",
            stack.public + "/form/en/",
            body=b"topic=other&message=junk",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert response.status == 400
    tipster = Client(stack.ca, source_address=address)
    response = post_tip(tipster, stack.public)
    assert response.status == 200
    # The answer is the app's own page, through nginx with every header.
    assert response.header("Content-Security-Policy")


def test_both_instances_serve_the_form_from_the_shared_database(stack: Stack) -> None:
    for base in stack.intake:
        response = Client(stack.ca).get(f"{base}/form/en/")
        assert response.status == 200, base
