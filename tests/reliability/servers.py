"""A real gunicorn intake for the reliability tests, and a tipster that talks to it over HTTP.

The server runs the production settings file (deploy/gunicorn.conf.py) with the settings
given in its environment, as the stack and the containers do.
"""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from werkzeug.test import encode_multipart

from form_service.settings import Settings
from tests.conftest import ROOT

TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
RECEIPT = re.compile(r'class="receipt-code"[^>]*>([0-9 ]+)<')
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"


def free_port() -> int:
    """Return a loopback port nothing listens on (the kernel's choice)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Gunicorn:
    """A running gunicorn master and how to reach it."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path

    def workers(self) -> list[int]:
        """Return the pids of the master's live worker processes."""
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except OSError:
            return []


def settings_environment(settings: Settings) -> dict[str, str]:
    """Write settings back as the FORM_SERVICE_* variables that from_env() reads."""
    env = {}
    for variable in type(settings).variables():
        value = getattr(settings, variable.attribute)
        if value is None:
            continue
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        env[variable.env_name] = text
    return env


def intake_environment(settings_env: dict[str, str], port: int, workers: int) -> dict[str, str]:
    """Return the environment of a gunicorn intake: this one's settings, nothing inherited."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("FORM_SERVICE_")}
    return {
        **inherited,
        **settings_env,
        # SQLite, memory:// counters and http cookies: a test server, which production
        # (the start check in gunicorn's on_starting hook) rightly refuses.
        "FORM_SERVICE_ENV": "development",
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_WORKERS": str(workers),
        "GUNICORN_LOGLEVEL": "warning",
    }


@contextmanager
def gunicorn_intake(
    settings_env: dict[str, str], log: Path, workers: int = 3
) -> Iterator[Gunicorn]:
    """Start a gunicorn intake, wait (bounded) until it serves the form, stop it after."""
    port = free_port()
    with log.open("wb") as output:
        process = subprocess.Popen(
            [
                str(GUNICORN),
                "-c",
                str(ROOT / "deploy" / "gunicorn.conf.py"),
                "form_service.intake:create_app()",
            ],
            env=intake_environment(settings_env, port, workers),
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    server = Gunicorn(process, port, log)
    try:
        wait_until_serving(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


def wait_until_serving(server: Gunicorn, bound: float = 60.0) -> None:
    """Poll the form until it answers 200, at most `bound` seconds."""
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        assert server.process.poll() is None, server.log.read_text(errors="replace")[-2000:]
        try:
            if Tipster(server.port).get_form() is not None:
                return
        except OSError:
            pass
        time.sleep(0.1)  # a poll interval, bounded by the deadline above
    raise AssertionError(f"gunicorn did not serve the form within {bound} s")


@dataclass
class Answer:
    """What the tipster saw: a status and a receipt, or a dropped connection."""

    status: int | None
    receipt: str | None = None


class Tipster:
    """One tipster's browser: a cookie jar of one cookie and a form token."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookie = ""

    def request(self, method: str, body: bytes = b"", content_type: str = "") -> tuple[int, str]:
        """Send one request on a fresh connection and return the status and page."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            headers = {"Cookie": self.cookie} if self.cookie else {}
            if content_type:
                headers["Content-Type"] = content_type
            connection.request(method, "/form/en/", body=body or None, headers=headers)
            response = connection.getresponse()
            page = response.read().decode("utf-8", "replace")
            cookie = response.getheader("Set-Cookie")
            if cookie:
                self.cookie = cookie.split(";", 1)[0]
            return response.status, page
        finally:
            connection.close()

    def get_form(self) -> str | None:
        """Load the form and return its CSRF token."""
        status, page = self.request("GET")
        match = TOKEN.search(page)
        return match.group(1) if status == 200 and match else None

    def send(self, token: str, message: str) -> Answer:
        """Post a tip; a dropped connection (a killed worker) is an answer without a status."""
        boundary, body = encode_multipart(
            {"csrf_token": token, "topic": "sighting", "message": message}
        )
        try:
            status, page = self.request("POST", body, f"multipart/form-data; boundary={boundary}")
        except (OSError, http.client.HTTPException):
            return Answer(None)
        match = RECEIPT.search(page)
        return Answer(status, match.group(1) if match else None)
