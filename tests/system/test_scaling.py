"""Two intake instances behind one nginx share PostgreSQL and Redis: limits hold across both."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.system.conftest import Client, Response, Stack

pytestmark = pytest.mark.xdist_group("stack")


def hourly_submit_limit() -> int:
    """Return the number of tip posts one address may send per hour (the app's default)."""
    from form_service.settings import IntakeSettings

    default = IntakeSettings.__dataclass_fields__["ratelimit_submit"].default
    match = re.match(r"\s*(\d+)\s+per\s+hour", str(default))
    assert match, default
    return int(match.group(1))


def post_tip(client: Client, url: str, headers: dict[str, str] | None = None) -> Response:
    """Post a tip without a CSRF token: the limiter counts it before the token is checked."""
    body = b"topic=other&message=limit+probe"
    return client.request(
        "POST",
        url,
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})},
    )


def test_two_instances_share_one_rate_limit(stack: Stack) -> None:
    assert len(stack.intake) == 2
    limit = hourly_submit_limit()
    client = Client(stack.ca)
    # Acting as the one trusted proxy in front of both instances (as nginx does), for one
    # client address: with per-process counters each of the four workers would allow `limit`.
    address = f"198.51.100.{uuid.uuid4().int % 250 + 1}"
    statuses = [
        post_tip(client, f"{stack.intake[n % 2]}/form/en/", {"X-Forwarded-For": address}).status
        for n in range(limit + 2)
    ]
    assert 429 not in statuses[:limit], statuses
    assert statuses[limit:] == [429, 429], statuses


def test_a_client_cannot_escape_the_limit_by_forging_its_address(stack: Stack) -> None:
    limit = hourly_submit_limit()
    # Its own loopback address, so no other test's posts count against it.
    client = Client(stack.ca, source_address=f"127.0.1.{uuid.uuid4().int % 250 + 1}")
    responses = [
        post_tip(client, stack.public + "/form/en/", {"X-Forwarded-For": f"203.0.113.{n}"})
        for n in range(limit + 1)
    ]
    statuses = [response.status for response in responses]
    assert 429 not in statuses[:limit], statuses
    assert statuses[limit] == 429, statuses
    # The refusal is the app's own page, through nginx with every header.
    assert responses[limit].header("Content-Security-Policy")


def test_both_instances_serve_the_form_from_the_shared_database(stack: Stack) -> None:
    for base in stack.intake:
        response = Client(stack.ca).get(f"{base}/form/en/")
        assert response.status == 200, base
