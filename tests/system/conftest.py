"""The local production stack (python -m tools.stack), started once per test run, and a client.

The stack listens on fixed loopback ports, so every xdist worker of a run shares one stack
(see the `stack` fixture); the modules still carry xdist_group("stack") for when xdist can
honour it.
"""

from __future__ import annotations

import fcntl
import http.client
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import POSTGRES_HOST, POSTGRES_PORT, REDIS_HOST, REDIS_PORT, port_open, require

ROOT = Path(__file__).resolve().parents[2]
STACK_DIR = ROOT / "var" / "stack"
PYTHON = sys.executable


@dataclass(frozen=True)
class Stack:
    """What the running stack exposes: URLs, the CA to trust, its log folders."""

    public: str
    http: str
    desk: str
    # The plain-HTTP onion listener, where Tor's daemon would connect (None when turned off).
    onion: str | None
    intake: list[str]
    review: str
    ca: Path
    logs: list[Path]


def check_parts() -> None:
    """Fail (CI) or skip unless nginx, openssl, PostgreSQL and Redis are all here."""
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        require("nginx", "the system package is not installed (apt-get install nginx)")
    if shutil.which("openssl") is None:
        require("openssl", "the command line tool makes the stack's certificates")
    if not port_open(POSTGRES_HOST, POSTGRES_PORT):
        require("PostgreSQL", f"nothing listens on {POSTGRES_HOST}:{POSTGRES_PORT}")
    if not port_open(REDIS_HOST, REDIS_PORT):
        require("Redis", f"nothing listens on {REDIS_HOST}:{REDIS_PORT}")


def start_stack() -> None:
    """Start the stack fresh, with the test routes (it builds the site for its own origin)."""
    subprocess.run([PYTHON, "-m", "tools.stack", "stop"], cwd=ROOT, check=True)
    started = subprocess.run(
        [PYTHON, "-m", "tools.stack", "start", "--fresh", "--test-routes"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert started.returncode == 0, started.stdout + started.stderr


@contextmanager
def stack_lock() -> Iterator[dict[str, Any]]:
    """Hold the lock that xdist workers share, and yield their bookkeeping to update."""
    STACK_DIR.mkdir(parents=True, exist_ok=True)
    with (STACK_DIR / ".pytest.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        users = STACK_DIR / ".pytest-users.json"
        state = json.loads(users.read_text()) if users.exists() else {}
        yield state
        users.write_text(json.dumps(state))


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Start the local stack once per test run, shared by every xdist worker, and stop it.

    The stack listens on fixed ports, so the workers of one run share one stack (a lock and
    a count of users in stack/); the last worker to finish stops it. (xdist_group cannot
    keep these tests on one worker: pytest 9 ignores the node id xdist 3.8 rewrites.)
    """
    check_parts()
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"solo-{os.getpid()}"
    with stack_lock() as state:
        if state.get("run") != run or state.get("users", 0) <= 0:
            start_stack()
            state.clear()
            state.update(run=run, users=0)
        state["users"] += 1
    stack_state = json.loads((STACK_DIR / "stack.json").read_text())
    try:
        yield Stack(
            public=stack_state["public"],
            http=stack_state["http"],
            desk=stack_state["desk"],
            onion=stack_state["onion"],
            intake=stack_state["intake"],
            review=stack_state["review"],
            ca=Path(stack_state["ca"]),
            logs=[Path(folder) for folder in stack_state["logs"]],
        )
    finally:
        with stack_lock() as state:
            state["users"] = state.get("users", 1) - 1
            if state["users"] <= 0:
                subprocess.run([PYTHON, "-m", "tools.stack", "stop"], cwd=ROOT, check=True)
                state.clear()


@dataclass
class Response:
    """One HTTP response: status, headers (lower-case names, all values) and body."""

    status: int
    headers: dict[str, list[str]]
    body: bytes

    def header(self, name: str) -> str | None:
        """Return the only value of a header, or None; fail if it is repeated."""
        values = self.headers.get(name.lower(), [])
        assert len(values) <= 1, f"{name} sent {len(values)} times: {values}"
        return values[0] if values else None

    @property
    def text(self) -> str:
        """Return the body decoded as UTF-8."""
        return self.body.decode("utf-8", errors="replace")


class Client:
    """A minimal HTTPS client that trusts the stack's CA and keeps cookies per host."""

    def __init__(self, ca: Path, source_address: str | None = None, timeout: float = 30) -> None:
        self.context = ssl.create_default_context(cafile=str(ca))
        self.source = (source_address, 0) if source_address else None
        self.timeout = timeout
        self.cookies: dict[str, str] = {}

    def request(
        self,
        method: str,
        url: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """Send one request (no redirects followed) and return the response."""
        parts = urlsplit(url)
        connection: http.client.HTTPConnection
        if parts.scheme == "https":
            connection = http.client.HTTPSConnection(
                parts.netloc, context=self.context, timeout=self.timeout, source_address=self.source
            )
        else:
            connection = http.client.HTTPConnection(
                parts.netloc, timeout=self.timeout, source_address=self.source
            )
        sent = dict(headers or {})
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        try:
            connection.request(method, path or "/", body=body, headers=sent)
            raw = connection.getresponse()
            headers_out: dict[str, list[str]] = {}
            for name, value in raw.getheaders():
                headers_out.setdefault(name.lower(), []).append(value)
            response = Response(raw.status, headers_out, raw.read())
        finally:
            connection.close()
        for cookie in response.headers.get("set-cookie", []):
            name, _, rest = cookie.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response

    def get(self, url: str, **headers: str) -> Response:
        """GET a URL."""
        return self.request("GET", url, headers=headers)

    def post_form(self, url: str, fields: dict[str, str], referer: str) -> Response:
        """POST url-encoded fields with the same-origin Referer a browser would send."""
        from urllib.parse import urlencode

        return self.request(
            "POST",
            url,
            body=urlencode(fields).encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded", "Referer": referer},
        )


def csrf_token(html: str) -> str:
    """Return the CSRF token of the first form in a page."""
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert match, "no csrf_token field in the page"
    return match.group(1)


@pytest.fixture
def client(stack: Stack) -> Client:
    """Return a fresh HTTPS client trusting the stack's CA."""
    return Client(stack.ca)


def log_files(stack: Stack) -> list[Path]:
    """Return every log file nginx and gunicorn wrote in the stack."""
    return sorted(path for folder in stack.logs for path in folder.glob("*.log"))


def read_logs(stack: Stack) -> dict[Path, str]:
    """Return the text of every log file of the stack."""
    return {path: path.read_text(errors="replace") for path in log_files(stack)}


def access_log_lines(stack: Stack, marker: str, within: float = 10) -> list[str]:
    """Return nginx's access-log lines once one holds marker (or after `within` seconds)."""
    deadline = time.monotonic() + within
    while True:
        text = "".join(t for p, t in read_logs(stack).items() if p.name == "access.log")
        if marker in text or time.monotonic() > deadline:
            return text.splitlines()
        time.sleep(0.1)


def headers_of(response: Response) -> dict[str, Any]:
    """Return a response's headers as a plain dict, for assertion messages."""
    return {name: values for name, values in response.headers.items()}


def run_the_batch() -> None:
    """Store the spooled tips now, as the stack's flusher does at each batch time."""
    from form_service.db import make_engine
    from form_service.intake import spool
    from form_service.settings import IntakeSettings
    from tools.stack import prepare as stack_setup

    settings = IntakeSettings.from_env(stack_setup.intake_env())
    engine = make_engine(settings)
    try:
        spool.flush(settings.spool_path, engine)
    finally:
        engine.dispose()
