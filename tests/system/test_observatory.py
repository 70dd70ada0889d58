"""The MDN HTTP Observatory grades the site, the form and the desk A+ through the stack's nginx."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import NODE_MODULES, require
from tests.system.conftest import Stack

pytestmark = pytest.mark.xdist_group("stack")

OBSERVATORY = NODE_MODULES / "@mdn" / "mdn-http-observatory"
SCRIPT = Path(__file__).resolve().parent / "observatory.mjs"
# (name, server, path, app it needs)
TARGETS = [
    ("site", "public", "/en/"),
    ("form", "public", "/form/en/"),
    ("desk", "desk", "/staff/"),
]


@pytest.fixture(scope="module")
def observatory() -> Path:
    """Return the package folder, with the empty HSTS preload list its install script skips."""
    node = shutil.which("node")
    if node is None or not (OBSERVATORY / "src" / "scanner" / "index.js").exists():
        require("MDN HTTP Observatory", "node and npm ci --ignore-scripts are needed")
    preload = OBSERVATORY / "conf" / "hsts-preload.json"
    # `npm ci --ignore-scripts` skips the download of Chromium's preload list; an empty list
    # means no site gets preload credit, which is true of a loopback address anyway.
    if not preload.exists():
        preload.write_text("{}\n")
    return OBSERVATORY


def scan(stack: Stack, server: str, path: str) -> dict[str, Any]:
    """Run the Observatory's retriever, tests and grader on one URL of the stack."""
    base = urlsplit(stack.public if server == "public" else stack.desk)
    http_port = str(urlsplit(stack.http).port) if server == "public" else "0"
    env = {**os.environ, "NODE_EXTRA_CA_CERTS": str(stack.ca)}
    result = subprocess.run(
        ["node", str(SCRIPT), str(base.hostname), str(base.port), http_port, path],
        capture_output=True,
        text=True,
        env=env,
        cwd=SCRIPT.parent,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return dict(json.loads(result.stdout))


@pytest.mark.parametrize(("name", "server", "path"), TARGETS)
def test_observatory_grades_a_plus(
    stack: Stack,
    observatory: Path,
    artifacts_dir: Path,
    name: str,
    server: str,
    path: str,
) -> None:
    report = scan(stack, server, path)
    (artifacts_dir / f"observatory-{name}.json").write_text(json.dumps(report, indent=2))
    failed = {test: r["result"] for test, r in report["tests"].items() if not r["pass"]}
    assert report["verified"] is True, "the certificate must be trusted, not skipped"
    assert not failed
    assert report["grade"] == "A+"
    assert report["score"] >= 100
