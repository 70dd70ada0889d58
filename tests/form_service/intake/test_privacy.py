"""Nothing identifying is kept: no text in clear, no IP, no user agent, no referrer, no time.

The real servers run as they would (gunicorn at its production log level, and the
development server), the service's own log at DEBUG, behind a simulated proxy
(X-Forwarded-For trusted). A tipster posts marker text
with marker headers; then every file the service wrote and everything it printed is
searched for the markers. A behaviour suite across the intake, its servers and their
logs, so it keeps a behaviour name.
"""

from __future__ import annotations

import http.client
import io
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, inspect, text

from form_service import migrate
from form_service.settings import PROJECT_DIR
from tests.form_service.factories import jpeg_with_gps, make_settings
from tests.form_service.intake.helpers import TOKEN_PATTERN, multipart

BIN = Path(sys.executable).parent
MARKERS = {
    "text": "MARKERTEXT-7f3a9c",
    "user_agent": "MarkerAgent/5.0 (MARKERUA-91b2)",
    "address": "203.0.113.77",
    "referrer": "https://referrer.example/MARKERREF-44d1",
}


@dataclass
class Server:
    """A running service and the folders it may write to."""

    process: subprocess.Popen[bytes]
    port: int
    watched: list[Path]
    output: Path
    database_url: str


def free_port() -> int:
    """Return a free TCP port on the loopback interface."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_listening(server: Server) -> None:
    """Wait for the server to accept connections (bounded)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise AssertionError("the server exited: " + server.output.read_text(errors="replace"))
        try:
            socket.create_connection(("127.0.0.1", server.port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the server did not start")


@pytest.fixture(params=["gunicorn-sqlite", "gunicorn-postgresql", "devserver-sqlite"])
def server(
    request: pytest.FixtureRequest, tmp_path: Path, desk_public_key: str
) -> Iterator[Server]:
    """Start a real server with its instance folder, temp folder and output under tmp_path."""
    kind, database = request.param.split("-")
    instance, scratch, output = tmp_path / "instance", tmp_path / "tmp", tmp_path / "output.log"
    instance.mkdir()
    scratch.mkdir()
    url = f"sqlite:///{instance / 'form_service.sqlite3'}"
    if database == "postgresql":
        url = request.getfixturevalue("migrated_postgres")
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "TMPDIR": str(scratch),
        "HOME": str(scratch),
        "PORT": str(port),
        "FORM_SERVICE_INSTANCE_DIR": str(instance),
        "FORM_SERVICE_LOG_LEVEL": "DEBUG",
        "FORM_SERVICE_PROXY_FIX_X_FOR": "1",
        "FORM_SERVICE_RATELIMIT_GLOBAL": "2 per hour",
        "SITE_OUTPUT_DIR": str(tmp_path / "site"),
    }
    if kind == "gunicorn":
        # Production-like: every secret from the environment, the schema migrated first.
        settings = make_settings(url, desk_public_key, instance_dir=instance)
        migrate.upgrade(settings)
        env.update(
            FORM_SERVICE_SECRET_KEY=settings.secret_key,
            FORM_SERVICE_RECEIPT_PEPPER=settings.receipt_pepper,
            FORM_SERVICE_DESK_PUBLIC_KEY=desk_public_key,
            FORM_SERVICE_DATABASE_URL=url,
            FORM_SERVICE_COOKIE_SECURE="false",
        )
    if kind == "gunicorn":
        command = [
            str(BIN / "gunicorn"),
            "--workers=1",
            "--worker-class=sync",
            f"--bind=127.0.0.1:{port}",
            "--log-level=info",
            f"--worker-tmp-dir={scratch}",
            "form_service.intake:create_app()",
        ]
    else:
        command = [sys.executable, "-m", "tools.devserver"]
        env["PYTHONPATH"] = str(PROJECT_DIR)  # tools/ ships in no package
    with output.open("wb") as sink:
        process = subprocess.Popen(
            command, env=env, stdout=sink, stderr=subprocess.STDOUT, cwd=tmp_path
        )
    running = Server(process, port, [instance, scratch], output, url)
    try:
        wait_until_listening(running)
        yield running
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def request(
    port: int, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], str]:
    """Send one request carrying the marker headers; return status, headers and text."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(
            method,
            path,
            body=body or None,
            headers={
                "User-Agent": MARKERS["user_agent"],
                "X-Forwarded-For": MARKERS["address"],
                "Referer": MARKERS["referrer"],
                **(headers or {}),
            },
        )
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        connection.close()


def send_tips(port: int) -> list[int]:
    """Post tips as a browser would: fetch the form, then post with its cookie and token."""
    statuses = []
    for attempt in range(4):
        status, headers, html = request(port, "GET", "/form/en/")
        assert status == 200
        cookie = headers["Set-Cookie"].split(";", 1)[0]
        token = TOKEN_PATTERN.search(html)
        assert token is not None
        fields: dict[str, Any] = {
            "csrf_token": token.group(1),
            "topic": "person" if attempt != 1 else "",  # the second post fails validation
            "message": f"{MARKERS['text']} message",
            "when_where": f"{MARKERS['text']} where",
            "contact": f"{MARKERS['text']}@example.org",
            "attachments": [
                (io.BytesIO(jpeg_with_gps()), f"{MARKERS['text']}.jpg", "image/jpeg"),
                # Over 500 kB: Werkzeug would have spooled this to a temporary file.
                (io.BytesIO(f"{MARKERS['text']}\n".encode() * 40_000), "a.txt", "text/plain"),
            ],
        }
        body, content_type = multipart(fields)
        status, _, _ = request(
            port, "POST", "/form/en/", body, {"Cookie": cookie, "Content-Type": content_type}
        )
        statuses.append(status)
    return statuses


def database_dump(url: str) -> bytes:
    """Return every row of every table as bytes, for searching."""
    engine = create_engine(url)
    try:
        chunks = []
        with engine.connect() as connection:
            for table in inspect(engine).get_table_names():
                query = text(f'SELECT * FROM "{table}"')  # noqa: S608 - names from the schema
                for row in connection.execute(query):
                    for value in row:
                        chunks.append(value if isinstance(value, bytes) else str(value).encode())
        return b"\n".join(chunks)
    finally:
        engine.dispose()


def test_no_marker_reaches_a_file_a_log_or_the_database(server: Server) -> None:
    statuses = send_tips(server.port)
    # Two tips stored; a validation error (which costs no limit) and the global ceiling gave
    # the form back.
    assert statuses == [200, 400, 200, 429]
    server.process.send_signal(signal.SIGTERM)
    server.process.wait(timeout=20)

    files = [p for folder in server.watched for p in folder.rglob("*") if p.is_file()]
    files.append(server.output)
    assert any(p.name.startswith("form_service.sqlite3") for p in files) or not (
        server.database_url.startswith("sqlite")
    )
    haystacks = {str(path): path.read_bytes() for path in files}
    haystacks["database rows"] = database_dump(server.database_url)
    for name, marker in MARKERS.items():
        for where, content in haystacks.items():
            assert marker.encode() not in content, f"the {name} marker is in {where}"
    # No log line records a request, so no log dates a submission.
    assert b"POST" not in haystacks[str(server.output)]
    assert b"/form/en/" not in haystacks[str(server.output)]
    # The stored tips hold their day, never a time of day.
    dump = haystacks["database rows"].decode(errors="replace")
    assert not re.search(r"\d{2}:\d{2}:\d{2}", dump)
