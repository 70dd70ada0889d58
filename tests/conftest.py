"""Test support shared by the whole project: real parts (PostgreSQL, Redis, Chromium) and judges.

A test that needs a part which is missing fails under CI=true and skips with a reason
otherwise (see `require`). The judges (axe-core, the Nu HTML Checker) come from npm
into node_modules/ and run offline.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tools.docker.compose_stack import host_network_lock

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
AXE_JS = NODE_MODULES / "axe-core" / "axe.min.js"
VNU_JAR = NODE_MODULES / "vnu-jar" / "build" / "dist" / "vnu.jar"
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
POSTGRES_HOST, POSTGRES_PORT = "127.0.0.1", 5432
REDIS_HOST, REDIS_PORT = "127.0.0.1", 6379

# Flags that keep Chromium offline and quiet on a closed network: without the background-
# networking flags it keeps trying (and failing) to reach Google's hosts while a test runs.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# axe-core rule tags for WCAG 2.0, 2.1 and 2.2 at levels A and AA.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def in_ci() -> bool:
    """Tell whether this run is CI, where every test must run."""
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(part: str, reason: str) -> None:
    """Fail under CI, skip elsewhere, because `part` is missing for the stated reason."""
    message = f"{part} is needed: {reason}"
    if in_ci():
        pytest.fail(f"{message} (CI=true: every part must be present)")
    pytest.skip(message)


def port_open(host: str, port: int) -> bool:
    """Tell whether something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """Return the folder where tests leave screenshots and reports (kept after the run)."""
    path = ROOT / "artifacts"
    path.mkdir(exist_ok=True)
    return path


# --- PostgreSQL and Redis ---------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """Create a throwaway PostgreSQL database for this session and yield its URL."""
    if not port_open(POSTGRES_HOST, POSTGRES_PORT):
        require("PostgreSQL", f"nothing listens on {POSTGRES_HOST}:{POSTGRES_PORT}")
    import psycopg

    name = f"test_{uuid.uuid4().hex[:12]}"
    admin = f"host={POSTGRES_HOST} port={POSTGRES_PORT} user=postgres dbname=test"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@{POSTGRES_HOST}:{POSTGRES_PORT}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def redis_url() -> str:
    """Return the URL of the local Redis server, or fail/skip when it is down."""
    if not port_open(REDIS_HOST, REDIS_PORT):
        require("Redis", f"nothing listens on {REDIS_HOST}:{REDIS_PORT}")
    return f"redis://{REDIS_HOST}:{REDIS_PORT}/0"


# --- Chromium through Playwright ------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Launch the system Chromium once per session through Playwright."""
    if not CHROMIUM.exists():
        require("Chromium", f"{CHROMIUM} not found (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    """Return the axe-core script from node_modules."""
    if not AXE_JS.exists():
        require("axe-core", f"{AXE_JS} not found (npm ci)")
    return AXE_JS.read_text(encoding="utf-8")


def run_axe(page: Any, axe_source: str) -> list[dict[str, Any]]:
    """Run axe-core in the page and return its violations (WCAG 2.2 A/AA and best practice)."""
    # add_script_tag is refused under our strict CSP (no inline or injected scripts), while
    # evaluating the source through the DevTools protocol is not subject to it.
    page.evaluate(axe_source)
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS
    )
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "targets": [node["target"] for node in violation["nodes"]][:5],
        }
        for violation in result["violations"]
    ]


@pytest.fixture(scope="session")
def axe_violations(axe_source: str) -> Any:
    """Return a function that runs axe-core in a Playwright page and lists violations."""

    def check(page: Any) -> list[dict[str, Any]]:
        return run_axe(page, axe_source)

    return check


# --- The Nu HTML Checker ----------------------------------------------------------------


def run_vnu(files: list[Path], *options: str) -> list[dict[str, Any]]:
    """Validate files (HTML by default; pass "--css" or "--svg") and return the errors."""
    java = shutil.which("java")
    if java is None or not VNU_JAR.exists():
        require("Nu HTML Checker", "java and node_modules/vnu-jar are needed (npm ci)")
    if not files:
        return []
    completed = subprocess.run(
        [str(java), "-jar", str(VNU_JAR), "--format", "json", "--stdout", "--exit-zero-always"]
        + list(options)
        + [str(path) for path in files],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    messages = json.loads(completed.stdout)["messages"]
    return [
        {"file": m.get("url", ""), "line": m.get("lastLine"), "message": m["message"]}
        for m in messages
        if m["type"] == "error" or m.get("subType") == "fatal"
    ]


@pytest.fixture(scope="session")
def vnu_errors() -> Any:
    """Return a function that validates HTML files and lists the checker's errors."""
    return run_vnu


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    """Hold the host-network lock shared around a Chromium test, setup to teardown.

    Docker commands that add or remove interfaces hold it exclusively (HOST_NETWORK_LOCK in
    tools/docker/compose_stack.py says why), so they never run while Chromium loads a page.
    """
    if "browser" not in getattr(item, "fixturenames", ()):
        yield
        return
    with host_network_lock(shared=True):
        yield
