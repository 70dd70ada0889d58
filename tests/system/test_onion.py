"""The onion listener: the site and the form over plain HTTP, as Tor's daemon reaches nginx.

The stack renders the same server block the `web` image writes when NGINX_ONION_LISTEN is
set (a loopback port here, a unix socket in Compose). Tor itself is checked in
tests/compose/test_onion.py.
"""

from __future__ import annotations

import re
import uuid

import pytest

from tests.system.conftest import Client, Stack, access_log_lines, csrf_token, run_the_batch
from tests.system.test_nginx import FORM_LIMIT, assert_security_headers, send

pytestmark = pytest.mark.xdist_group("stack")

RECEIPT = re.compile(r'class="receipt-code"[^>]*>([0-9 ]+)<')
# (path, method, declared body length, expected status): pages, errors and limits.
CASES = [
    ("/en/", "GET", 0, 200),
    ("/ja/", "GET", 0, 200),
    ("/en/no-such-page/", "GET", 0, 404),
    ("/theme/css/site.css", "GET", 0, 200),
    ("/form/en/", "GET", 0, 200),
    ("/form/ja/check/", "GET", 0, 200),
    ("/form/en/", "POST", FORM_LIMIT + 1, 413),
    ("/en/", "POST", 100_000, 413),
]


@pytest.fixture
def onion(stack: Stack) -> str:
    """Return the stack's onion listener (plain HTTP); it is on unless turned off."""
    assert stack.onion, "the stack runs without its onion listener (STACK_ONION_LISTEN='')"
    assert stack.onion.startswith("http://")
    return stack.onion


@pytest.mark.parametrize(("path", "method", "length", "status"), CASES)
def test_the_site_and_the_form_answer_with_every_header_but_hsts(
    stack: Stack, onion: str, path: str, method: str, length: int, status: int
) -> None:
    response = send(stack, "onion", path, method, length)
    assert response.status == status
    assert_security_headers(response, hsts=False)
    # It points from the HTTPS origin to the onion address, never from the onion itself.
    assert response.header("Onion-Location") is None


def test_pages_link_within_the_onion_address(stack: Stack, onion: str) -> None:
    client = Client(stack.ca)
    # The form posts to a root-relative address, so a tip never leaves the onion service.
    actions = re.findall(r'<form[^>]* action="([^"]*)"', client.get(onion + "/form/en/").text)
    assert actions and all(action.startswith("/") for action in actions), actions
    # Links are root-relative too (only canonical and hreflang name the public origin).
    for path in ("/en/", "/form/en/"):
        links = re.findall(r'<a[^>]* href="([^"]*)"', client.get(onion + path).text)
        assert links and not [link for link in links if link.startswith(stack.public)], path


def test_the_desk_is_not_served_on_the_onion_listener(stack: Stack, onion: str) -> None:
    client = Client(stack.ca)
    for path in ("/staff/", "/staff/sign-in", "/staff/static/x", "//staff/"):
        assert client.get(onion + path).status == 404, path


def test_a_tip_sent_over_the_onion_listener_is_stored_and_found_by_its_receipt(
    stack: Stack, onion: str
) -> None:
    client = Client(stack.ca)
    form_url = onion + "/form/en/"
    token = csrf_token(client.get(form_url).text)
    fields = {"csrf_token": token, "topic": "sighting", "message": f"onion {uuid.uuid4().hex}"}
    received = client.post_form(form_url, fields, referer=form_url)
    assert received.status == 200, received.text[:800]
    assert received.header("Strict-Transport-Security") is None
    match = RECEIPT.search(received.text)
    assert match, received.text[:800]
    run_the_batch()
    check_url = onion + "/form/en/check/"
    token = csrf_token(client.get(check_url).text)
    found = client.post_form(
        check_url, {"csrf_token": token, "receipt": match.group(1)}, referer=check_url
    )
    assert found.status == 303, found.text[:800]
    assert found.header("Location") == "/form/en/check/"
    tip = client.get(check_url)
    assert tip.status == 200
    assert "<h1>Your tip</h1>" in tip.text, tip.text[:800]


def test_the_form_leaves_no_access_log_line_and_static_pages_do(stack: Stack, onion: str) -> None:
    client = Client(stack.ca)
    probe = f"onion-probe-{uuid.uuid4().hex}"
    token = csrf_token(client.get(onion + "/form/en/").text)
    fields = {"csrf_token": token, "topic": "other", "message": probe}
    assert client.post_form(onion + "/form/en/", fields, referer=onion + "/form/en/").status == 200
    client.request(
        "POST",
        onion + "/form/en/check/",
        body=b"receipt=0000",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert send(stack, "onion", "/form/en/", "POST", FORM_LIMIT + 1).status == 413
    # A static address after them, to know the log was written up to here.
    marker = f"/en/{probe}/"
    assert client.get(onion + marker).status == 404
    port = onion.rsplit(":", 1)[1]
    lines = [line for line in access_log_lines(stack, marker) if f" {port} " in line]
    assert any(marker in line for line in lines), "the onion listener logs static requests"
    for line in lines:
        assert "form" not in line.lower() and "check" not in line, line
        assert "_errors" not in line, line
