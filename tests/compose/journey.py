"""What a tipster and a staff member do on a Compose stack, shared by the tests of every stack
(the CI stack, one restored from a backup, one upgraded from an older schema)."""

from __future__ import annotations

import re
import secrets
import time
import uuid
from typing import Any

import pyotp
from werkzeug.test import encode_multipart

from form_service.review.auth import totp
from tests.system.conftest import Client, Response, csrf_token
from tools.docker import compose_stack
from tools.docker.compose_stack import Stack

TOTP_SECRET = re.compile(r'id="totp-secret">([A-Z2-7 ]+)<')
TIP_LINK = re.compile(r'href="(/staff/tips/[^"/]+)"')


def form_post(client: Client, url: str, fields: dict[str, Any]) -> Response:
    """POST fields (and files) as multipart/form-data, with the Referer a browser sends."""
    boundary, body = encode_multipart(fields)
    return client.request(
        "POST",
        url,
        body=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}", "Referer": url},
    )


def add_admin(stack: Stack, email: str, password: str) -> str:
    """Create a desk account with the image's own command, the password on standard input."""
    return compose_stack.compose(
        stack,
        "run",
        "--rm",
        "--no-deps",
        "-T",
        "review",
        "form-service",
        "staff",
        "add",
        email,
        "--role",
        "admin",
        stdin=password + "\n",
    )


def last_step(stack: Stack, email: str) -> int | None:
    """Return the last TOTP step the desk accepted from this account (from its database)."""
    # psql quotes the value itself (:'email'); variables reach only SQL read from stdin.
    output = compose_stack.compose(
        stack,
        *("exec", "-T", "db", "psql", "-U", "formservice", "-d", "formservice", "-At"),
        *("-v", f"email={email}"),
        stdin="SELECT totp_last_step FROM staff WHERE email = :'email';\n",
    ).strip()
    return int(output) if output else None


def unused_code(secret: str, used: int | None) -> str:
    """Return a code the desk accepts now and for at least the next 30 s, never one used.

    The desk accepts the steps now-1, now and now+1 and nothing at or before the last one
    used. The code for `now` (or for the step after the last used one) stays valid for at
    least a whole step, so no request races a boundary; if the next unused step lies beyond
    now+1, wait (bounded) until the clock reaches it. The containers share this clock.
    """
    deadline = time.monotonic() + 2 * totp.STEP_SECONDS
    while True:
        now = totp.current_step(time.time())  # wall clock: the containers keep the real time
        step = now if used is None else max(now, used + 1)
        if step <= now + 1:
            return pyotp.TOTP(secret).at(step * totp.STEP_SECONDS)
        assert time.monotonic() < deadline, "the clock did not reach an unused TOTP step"
        time.sleep(0.5)


def sign_in_with_password(client: Client, stack: Stack, email: str, password: str) -> Response:
    """Post the e-mail address and password; return the redirect to the second factor."""
    url = f"{stack.desk}/staff/sign-in"
    page = client.get(url)
    fields = {"csrf_token": csrf_token(page.text), "email": email, "password": password}
    return client.post_form(url, fields, referer=url)


def post_code(client: Client, url: str, code: str) -> Response:
    """Post a TOTP code on an enrolment or code page."""
    page = client.get(url)
    return client.post_form(url, {"csrf_token": csrf_token(page.text), "code": code}, referer=url)


def send_tip(stack: Stack, message: str) -> Response:
    """Send a text-only tip through nginx; return the receipt page."""
    client = Client(stack.certificate)
    url = f"{stack.public}/form/en/"
    form = client.get(url)
    fields = {"csrf_token": csrf_token(form.text), "topic": "sighting", "message": message}
    return form_post(client, url, fields)


def flush_spool(stack: Stack) -> None:
    """Run the spool's batch now, so that the tips sent so far are in the database.

    Tips wait in the spool until the daily batch (nothing may date them finer than that);
    a test that wants to read them on the desk, or back them up, runs the batch first.
    """
    compose_stack.compose(stack, "exec", "-T", "spool", "form-service", "spool", "flush")


def give_enrolment_code(client: Client, stack: Stack, added: str) -> None:
    """Post the one-time enrolment code that `staff add` printed on the enrolment page."""
    code = re.search(r"Enrolment code \(.*\): (\S+)", added)
    assert code, added
    enrol_url = f"{stack.desk}/staff/sign-in/enrol"
    page = client.get(enrol_url)
    fields = {"csrf_token": csrf_token(page.text), "enrolment_code": code.group(1)}
    client.post_form(enrol_url, fields, referer=enrol_url)


def signed_in_desk(stack: Stack) -> Client:
    """Add an admin with the image's command, enrol TOTP and return the signed-in client."""
    email = f"compose.{uuid.uuid4().hex[:12]}@example.org"
    password = secrets.token_urlsafe(18)
    added = add_admin(stack, email, password)
    client = Client(stack.certificate)
    sign_in_with_password(client, stack, email, password)
    give_enrolment_code(client, stack, added)
    enrol_url = f"{stack.desk}/staff/sign-in/enrol"
    match = TOTP_SECRET.search(client.get(enrol_url).text)
    assert match, "the enrolment page shows no secret"
    secret = match.group(1).replace(" ", "")
    enrolled = post_code(client, enrol_url, unused_code(secret, last_step(stack, email)))
    assert (enrolled.status, enrolled.header("Location")) == (302, "/staff/")
    return client


def tips_found(client: Client, stack: Stack, search: str) -> list[str]:
    """Return the desk's page of every tip the inbox search finds."""
    inbox = client.get(f"{stack.desk}/staff/?search={search}")
    assert inbox.status == 200, inbox.text[:500]
    links = dict.fromkeys(TIP_LINK.findall(inbox.text))
    return [client.get(stack.desk + link).text for link in links]
