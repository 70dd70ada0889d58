"""Sign-in throttling holds across two real desk processes sharing Redis.

Each process is desk_server.py, beside this file.
"""

from __future__ import annotations

import base64
import http.cookiejar
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from nacl.public import PrivateKey
from sqlalchemy.orm import Session

from form_service.settings import PROJECT_DIR, ReviewSettings
from tests.form_service.factories import make_staff

SERVER = Path(__file__).with_name("desk_server.py")


class Browser:
    """A minimal cookie-keeping HTTP client for one desk process."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
            NoRedirect(),
        )

    def sign_in(self, email: str, password: str) -> tuple[int, str]:
        """Post the sign-in form with a fresh CSRF token; return status and page."""
        page = self.opener.open(self.base + "/sign-in", timeout=10).read().decode()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        body = urllib.parse.urlencode(
            {"csrf_token": token, "email": email, "password": password}
        ).encode()
        try:
            response = self.opener.open(self.base + "/sign-in", data=body, timeout=10)
            return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """Report redirects instead of following them."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


@pytest.fixture
def two_desks(
    review_settings: ReviewSettings, desk_private_key: PrivateKey, redis_url: str
) -> Iterator[list[Browser]]:
    """Start two desk processes on the same database and Redis; stop them afterwards."""
    env = {
        "PATH": "/usr/bin:/bin",
        "DESK_TEST_DB_URL": review_settings.database_url,
        "DESK_TEST_PRIVATE_KEY": base64.b64encode(bytes(desk_private_key)).decode(),
        "DESK_TEST_RATELIMIT_URL": redis_url,
        "PYTHONPATH": str(PROJECT_DIR),
    }
    processes = [
        subprocess.Popen([sys.executable, str(SERVER)], stdout=subprocess.PIPE, env=env, text=True)
        for _ in range(2)
    ]
    try:
        ports = [int(process.stdout.readline()) for process in processes]  # type: ignore[union-attr]
        yield [Browser(port) for port in ports]
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=10)
            if process.stdout is not None:
                process.stdout.close()


@pytest.mark.redis
def test_five_failures_spread_over_two_processes_lock_the_account_in_both(
    two_desks: list[Browser], db: Session, desk_private_key: PrivateKey
) -> None:
    account = make_staff(db, desk_private_key, f"{uuid.uuid4().hex[:10]}@example.org")
    bystander = make_staff(db, desk_private_key, f"{uuid.uuid4().hex[:10]}@example.org")
    first, second = two_desks
    for desk in (first, second, first, second, first):
        status, page = desk.sign_in(account.email, "not the right password")
        assert status == 401 and "Too many" not in page
    for desk in (first, second):
        status, page = desk.sign_in(account.email, account.password)
        assert status == 401
        assert "Too many failed attempts on this account" in page
    assert second.sign_in(bystander.email, bystander.password)[0] == 302
