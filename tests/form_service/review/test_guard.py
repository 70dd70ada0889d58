"""Deny by default: every desk route needs a complete sign-in, admin routes need the role.

The routes are walked from url_map, here also for the CSRF check every post must pass
(CSRFProtect is installed after the guard, in create_app); the sign-in's own use of
`next` is in views/test_auth.py.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from nacl.public import PrivateKey
from sqlalchemy.orm import Session

from form_service.models import StaffRole
from form_service.review.guard import ADMIN_ENDPOINTS, PUBLIC_ENDPOINTS, safe_next
from tests.form_service.factories import make_staff, make_tip
from tests.form_service.review.helpers import csrf_token, sign_in


def _sample(match: re.Match[str]) -> str:
    """Give a URL variable a sample value: a number for ids and integers, else a language."""
    return "1" if match.group(1) or "id" in match.group(2) else "en"


def concrete_routes(app: Flask) -> list[tuple[str, str, str]]:
    """Return (endpoint, method, path) for every rule, with sample values for variables."""
    routes = []
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<((?:int|row_id):)?(\w+)>", _sample, rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            routes.append((rule.endpoint, method, path))
    return routes


def test_the_allow_list_is_short_and_explicit() -> None:
    # The invitation page checks its one-time code itself (views/test_accounts.py).
    assert {"review.sign_in", "review.set_language", "review.accept_invitation"} == PUBLIC_ENDPOINTS


def test_every_other_route_redirects_a_visitor_to_sign_in(
    review_app: Flask, review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    make_tip(db, desk_private_key)
    checked = 0
    for endpoint, method, path in concrete_routes(review_app):
        if endpoint in PUBLIC_ENDPOINTS:
            continue
        response = review_client.open(path, method=method)
        assert response.status_code == 302, (endpoint, method, response.status_code)
        assert response.headers["Location"].startswith("/sign-in"), endpoint
        checked += 1
    assert checked >= 12


def test_half_signed_in_staff_reach_only_the_second_factor_pages(
    review_app: Flask, review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    account = make_staff(db, desk_private_key)
    make_tip(db, desk_private_key)
    token = csrf_token(review_client, "/sign-in")
    review_client.post(
        "/sign-in", data={"csrf_token": token, "email": account.email, "password": account.password}
    )
    for endpoint, method, path in concrete_routes(review_app):
        if endpoint in PUBLIC_ENDPOINTS or endpoint.endswith("second_factor") or method == "POST":
            continue
        response = review_client.open(path, method=method)
        assert response.status_code == 302, endpoint
        assert response.headers["Location"].startswith("/sign-in"), endpoint


def test_a_reviewer_gets_403_on_every_admin_route(
    review_app: Flask, review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    sign_in(review_client, db, make_staff(db, desk_private_key, role=StaffRole.REVIEWER))
    admin_routes = [r for r in concrete_routes(review_app) if r[0] in ADMIN_ENDPOINTS]
    assert {r[0] for r in admin_routes} == ADMIN_ENDPOINTS
    for endpoint, method, path in admin_routes:
        assert review_client.open(path, method=method).status_code == 403, endpoint


def test_an_admin_reaches_the_admin_pages(
    review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    sign_in(
        review_client, db, make_staff(db, desk_private_key, "admin@example.org", StaffRole.ADMIN)
    )
    assert review_client.get("/audit").status_code == 200
    assert review_client.get("/export").status_code == 405  # POST only


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "/\\evil.example",
        "https://evil.example/",
        "http:/evil",
        "javascript:x",
        "/%0d%0aSet-Cookie:x",
        "evil.example",
        "///evil",
        "/ok//evil",
        "",
    ],
)
def test_next_never_leaves_the_desk(target: str) -> None:
    assert safe_next(target) is None


def test_next_inside_the_desk_is_kept() -> None:
    assert safe_next("/tips/4?x=1") == "/tips/4?x=1"


def test_every_state_changing_route_needs_a_csrf_token(
    review_app: Flask, review_client: FlaskClient, db: Session, desk_private_key: PrivateKey
) -> None:
    account = make_staff(db, desk_private_key, "admin@example.org", StaffRole.ADMIN)
    response = review_client.post(
        "/sign-in", data={"email": account.email, "password": account.password}
    )
    assert response.status_code == 400
    assert "Form expired" in response.get_data(as_text=True)
    sign_in(review_client, db, account)
    make_tip(db, desk_private_key)
    posts = [(e, path) for e, method, path in concrete_routes(review_app) if method == "POST"]
    assert len(posts) >= 9
    for endpoint, path in posts:
        response = review_client.post(path, data={"status": "closed", "label": "x"})
        assert response.status_code == 400, endpoint
    assert review_client.get("/").status_code == 200  # still signed in: nothing was done
