"""Logs carry no time of day and no public form path (form_service/logs.py)."""

from __future__ import annotations

import http.client
import io
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from form_service.logs import HIDDEN_PATH, plain_handler

PROJECT_DIR = Path(__file__).resolve().parents[2]
# "10:42", "10:42:07", "2026-03-01" (but not the port in "127.0.0.1:55363").
TIME_OF_DAY = re.compile(r"(?<![\d.])\d{1,2}:\d{2}(?!\d)|\d{4}-\d{2}-\d{2}")


@pytest.mark.parametrize(
    "path",
    ["/form/en/", "//form/ja/", "/form%2Fen/", "/check/en/12345", "/FORM/en/?x=1", "/check"],
)
def test_a_message_naming_a_public_path_loses_the_path(path: str) -> None:
    stream = io.StringIO()
    logger = logging.getLogger(f"test-logs-{path}")
    logger.addHandler(plain_handler(stream))
    logger.propagate = False
    logger.error("Error handling request POST %s", path)
    line = stream.getvalue()
    assert line == f"ERROR {logger.name}: Error handling request POST {HIDDEN_PATH}\n"


def test_other_paths_are_kept() -> None:
    stream = io.StringIO()
    logger = logging.getLogger("test-logs-other")
    logger.addHandler(plain_handler(stream))
    logger.propagate = False
    logger.warning("missing /en/about/ and /formation/")
    assert "/en/about/" in stream.getvalue() and "/formation/" in stream.getvalue()


def free_port() -> int:
    """Return a free loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_gunicorn_logs_a_failing_form_post_without_time_or_path(tmp_path: Path) -> None:
    port = free_port()
    output = tmp_path / "gunicorn.log"
    env = {**os.environ, "GUNICORN_WORKERS": "1", "GUNICORN_BIND": f"127.0.0.1:{port}"}
    with output.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "deploy/gunicorn.conf.py",
                "tests.form_service.failing_wsgi:app",
            ],
            cwd=PROJECT_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert time.monotonic() < deadline, output.read_text()
                time.sleep(0.1)
        for method, path in [("POST", "/form/en/"), ("GET", "/check/en/"), ("GET", "/en/")]:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            connection.request(method, path, body=b"topic=x" if method == "POST" else None)
            assert connection.getresponse().status == 500
            connection.close()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    text = output.read_text()
    # The errors were logged, with their tracebacks, but nothing says when or on which form.
    assert text.count("Error handling request") == 3, text
    assert "MARKER-FAILURE" in text and "/en/" in text
    assert not re.search(r"/(?:form|check)(?:[/%\s]|$)", text), text
    for line in text.splitlines():
        assert not TIME_OF_DAY.search(line), line
