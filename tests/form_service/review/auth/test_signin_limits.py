"""Sign-in limits: counted before the password check, per account, address and desk.

Parallel attempts come from threads that wait at a barrier, then post together; the clock is
the test's FixedClock, so a delay passes when the test moves the clock, never by sleeping.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from nacl.public import PrivateKey
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from form_service.clock import FixedClock
from form_service.frame import STATE_KEY
from form_service.models import AuditEntry
from form_service.review.auth.throttle import FIRST_DELAY, MAX_DELAY, delay_after
from form_service.settings import ReviewSettings
from tests.form_service.factories import make_staff
from tests.form_service.review.helpers import csrf_token

PARALLEL = 24


@pytest.fixture
def tight_desk(
    review_settings: ReviewSettings, desk_private_key: PrivateKey, clock: FixedClock
) -> Iterator[Callable[..., Flask]]:
    """Return a maker of desks with other sign-in limits (each Argon2 check takes 64 MiB)."""
    from form_service.review import create_app

    apps: list[Flask] = []

    def make(**limits: int) -> Flask:
        settings = dataclasses.replace(review_settings, **limits)
        apps.append(create_app(settings, private_key=desk_private_key, clock=clock))
        return apps[-1]

    yield make
    for app in apps:
        app.extensions[STATE_KEY].engine.dispose()


def client_from(app: Flask, address: str) -> FlaskClient:
    """Return a test client whose requests come from this address."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def post_together(app: Flask, attempts: list[tuple[str, str, str]]) -> list[tuple[int, str]]:
    """Post (address, e-mail, password) sign-ins all at once; return (status, page) each."""
    clients = [client_from(app, a) for a, _, _ in attempts]
    tokens = [csrf_token(client, "/sign-in") for client in clients]
    start = threading.Barrier(len(attempts), timeout=60)
    results: list[tuple[int, str]] = [(0, "")] * len(attempts)

    def attempt(number: int) -> None:
        _, email, password = attempts[number]
        start.wait()
        response = clients[number].post(
            "/sign-in", data={"csrf_token": tokens[number], "email": email, "password": password}
        )
        results[number] = (response.status_code, response.get_data(as_text=True))

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(len(attempts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def checked_passwords(db: Session) -> int:
    """Count the password checks that failed (each one is audited)."""
    return (
        db.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "sign_in.failure", AuditEntry.detail.contains("password"))
        )
        or 0
    )


def post_password(client: FlaskClient, email: str, password: str) -> tuple[int, str]:
    """Post one sign-in; return the status and page."""
    token = csrf_token(client, "/sign-in")
    response = client.post(
        "/sign-in", data={"csrf_token": token, "email": email, "password": password}
    )
    return response.status_code, response.get_data(as_text=True)


def test_parallel_wrong_passwords_are_checked_no_more_than_the_account_allows(
    review_app: Flask, db: Session, desk_private_key: PrivateKey
) -> None:
    account = make_staff(db, desk_private_key)
    results = post_together(
        review_app, [(f"10.0.0.{n}", account.email, "wrong password, again") for n in range(24)]
    )
    assert {status for status, _ in results} == {401}
    waits = [page for _, page in results if "Too many failed attempts on this account" in page]
    assert len(waits) == PARALLEL - 5
    assert checked_passwords(db) == 5


def test_rotating_account_names_cannot_exceed_the_desks_check_budget(
    tight_desk: Callable[..., Flask], db: Session
) -> None:
    desk = tight_desk(sign_in_checks_per_minute=10, sign_in_per_address=1000)
    results = post_together(
        desk, [(f"10.0.1.{n}", f"name{n}@example.org", "guess guess") for n in range(24)]
    )
    assert {status for status, _ in results} == {401}
    assert sum("Too many sign-in attempts right now" in page for _, page in results) == 14
    assert checked_passwords(db) == 10


def test_one_address_is_limited_without_stopping_another(
    tight_desk: Callable[..., Flask], db: Session, desk_private_key: PrivateKey
) -> None:
    desk = tight_desk(sign_in_per_address=6)
    account = make_staff(db, desk_private_key)
    results = post_together(
        desk, [("10.0.2.1", f"x{n}@example.org", "guess guess") for n in range(24)]
    )
    assert sum("Too many sign-in attempts right now" in page for _, page in results) == 18
    assert checked_passwords(db) == 6
    elsewhere = client_from(desk, "10.0.2.2")
    assert post_password(elsewhere, account.email, account.password)[0] == 302


def test_a_stranger_causes_a_short_growing_delay_never_a_long_lock(
    review_app: Flask, db: Session, desk_private_key: PrivateKey, clock: FixedClock
) -> None:
    account = make_staff(db, desk_private_key)
    stranger = client_from(review_app, "10.0.3.1")
    owner = client_from(review_app, "10.0.3.2")
    for _ in range(5):
        assert "Wait" not in post_password(stranger, account.email, "not it at all")[1]
    status, page = post_password(owner, account.email, account.password)
    assert status == 401 and f"Wait {FIRST_DELAY} seconds" in page
    clock.advance(seconds=FIRST_DELAY)
    assert "Wait" not in post_password(stranger, account.email, "still not it")[1]
    assert f"Wait {2 * FIRST_DELAY} seconds" in post_password(owner, account.email, "x" * 16)[1]
    clock.advance(seconds=2 * FIRST_DELAY)
    assert post_password(owner, account.email, account.password)[0] == 302
    assert delay_after(1000, 5) == MAX_DELAY <= 300


def test_wrong_codes_count_after_the_password_and_then_require_it_again(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    account = make_staff(db, desk_private_key)
    assert post_password(review_client, account.email, account.password)[0] == 302
    for _ in range(2):
        token = csrf_token(review_client, "/sign-in/code")
        response = review_client.post("/sign-in/code", data={"csrf_token": token, "code": "000000"})
        assert response.status_code == 401
    token = csrf_token(review_client, "/sign-in/code")
    response = review_client.post("/sign-in/code", data={"csrf_token": token, "code": "000000"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/sign-in")
    assert "Sign in again with your e-mail address and password" in review_client.get(
        "/sign-in"
    ).get_data(as_text=True)
    assert review_client.get("/sign-in/code").status_code == 302
    actions = list(db.scalars(select(AuditEntry.action).order_by(AuditEntry.entry_id)))
    assert actions[-4:] == [
        "sign_in.failure",
        "sign_in.failure",
        "sign_in.failure",
        "sign_in.password_required",
    ]
