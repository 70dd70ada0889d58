"""docker-compose.yml for real: images built from deploy/Dockerfile, containers started, and a
reader, a tipster and a staff member served by them through nginx and TLS.

The stack runs on CI's local base images (tools/docker/compose.ci.yml); see tests/compose/
conftest.py for how it is shared and stopped.
"""

from __future__ import annotations

import io
import json
import os
import re
import secrets
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage

from tests.compose.journey import (
    TOTP_SECRET,
    add_admin,
    flush_spool,
    form_post,
    give_enrolment_code,
    last_step,
    post_code,
    sign_in_with_password,
    unused_code,
)
from tests.conftest import require
from tests.system.conftest import Client, csrf_token
from tests.system.test_observatory import OBSERVATORY, SCRIPT
from tools.docker import compose_stack
from tools.docker.compose_stack import Stack

LANGUAGES = {"en": "en", "ja": "ja", "ko": "ko", "zh-hans": "zh-Hans"}
MARKER = f"compose-marker-{uuid.uuid4().hex}"
RECEIPT = re.compile(r'class="receipt-code"[^>]*>([0-9 ]+)<')
# Image budgets with room to spare; the figures of a build are in artifacts/compose-stack.json.
IMAGE_BUDGET_MB = {"abduction-ci/app:latest": 400, "abduction-ci/web:latest": 350}


@pytest.fixture
def client(stack: Stack) -> Client:
    """Return an HTTPS client that trusts only the stack's self-signed certificate."""
    return Client(stack.certificate)


def png_bytes() -> bytes:
    """Return a small PNG, the kind of photo a tipster attaches."""
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 40, 40)).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture(scope="module")
def sent_tip(stack: Stack) -> dict[str, str]:
    """Send one tip with a photo through nginx and return its receipt page."""
    client = Client(stack.certificate)
    url = f"{stack.public}/form/en/"
    form = client.get(url)
    assert form.status == 200, form.text[:300]
    photo = FileStorage(io.BytesIO(png_bytes()), filename="photo.png", content_type="image/png")
    fields = {
        "csrf_token": csrf_token(form.text),
        "topic": "sighting",
        "message": f"I saw her at the harbour. {MARKER}",
        "attachments": photo,
    }
    response = form_post(client, url, fields)
    assert response.status == 200, response.text[:500]
    return {"page": response.text}


def test_every_image_is_built_within_its_size_budget(measured: dict[str, Any]) -> None:
    sizes = {build["image"]: build["size_bytes"] / 1e6 for build in measured["builds"]}
    assert set(sizes) == set(IMAGE_BUDGET_MB)
    for image, budget in IMAGE_BUDGET_MB.items():
        assert sizes[image] <= budget, f"{image} is {sizes[image]:.0f} MB"


def test_the_stack_becomes_healthy_after_its_migrations(
    stack: Stack, measured: dict[str, Any], artifacts_dir: Path
) -> None:
    states = {state["Service"]: state for state in compose_stack.services(stack)}
    assert states["migrate"]["State"] == "exited" and states["migrate"]["ExitCode"] == 0
    for name in ("web", "intake", "review", "spool", "db", "redis", "desk-redis"):
        assert states[name].get("Health") == "healthy", states[name]
    revisions = compose_stack.compose(
        stack, "exec", "-T", "review", "form-service", "db", "current"
    )
    current, newest = (line.split(":", 1)[1].strip() for line in revisions.splitlines()[:2])
    assert current == newest, revisions
    report = {**measured, "images": {b["image"]: b["size_bytes"] for b in measured["builds"]}}
    (artifacts_dir / "compose-stack.json").write_text(json.dumps(report, indent=2))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_site_answers_in_each_language_over_https(
    client: Client, stack: Stack, lang: str
) -> None:
    response = client.get(f"{stack.public}/{lang}/")
    assert response.status == 200
    assert f'<html lang="{LANGUAGES[lang]}"' in response.text
    assert response.header("Strict-Transport-Security") == "max-age=63072000; includeSubDomains"
    assert f'<link rel="canonical" href="{stack.public}/{lang}/">' in response.text


def test_plain_http_only_redirects_to_https(client: Client, stack: Stack) -> None:
    response = client.get(f"{stack.http}/ja/")
    assert response.status == 301
    assert response.header("Location") == f"{stack.public}/ja/"


def test_a_tip_sent_through_nginx_gets_a_receipt_code(sent_tip: dict[str, str]) -> None:
    match = RECEIPT.search(sent_tip["page"])
    assert match, sent_tip["page"][:800]
    assert len(match.group(1).replace(" ", "")) >= 12
    assert MARKER not in sent_tip["page"]


def test_the_desk_answers_only_on_its_own_port(client: Client, stack: Stack) -> None:
    for path in ("/staff/", "/staff/sign-in"):
        assert client.get(stack.public + path).status == 404, path
    assert client.get(stack.desk + "/staff/sign-in").status == 200
    # And the desk's listener serves neither the public form nor the site.
    assert client.get(stack.desk + "/form/en/").status == 404
    assert client.get(stack.desk + "/en/").status == 404


@pytest.fixture(scope="module")
def desk_visit(stack: Stack, sent_tip: dict[str, str]) -> dict[str, Any]:
    """Create an admin, enrol TOTP, sign out, sign in again, find the tip and read it."""
    email = f"compose.{uuid.uuid4().hex[:12]}@example.org"
    password = secrets.token_urlsafe(18)
    seen: dict[str, Any] = {"added": add_admin(stack, email, password)}
    client = Client(stack.certificate)
    first = sign_in_with_password(client, stack, email, password)
    seen["first_redirect"] = first.header("Location")
    enrol_url = f"{stack.desk}/staff/sign-in/enrol"
    give_enrolment_code(client, stack, seen["added"])
    match = TOTP_SECRET.search(client.get(enrol_url).text)
    assert match, "the enrolment page shows no secret"
    secret = match.group(1).replace(" ", "")
    enrolled = post_code(client, enrol_url, unused_code(secret, last_step(stack, email)))
    seen["enrolled"] = (enrolled.status, enrolled.header("Location"))
    out_page = client.get(f"{stack.desk}/staff/")
    sign_out = f"{stack.desk}/staff/sign-out"
    client.post_form(sign_out, {"csrf_token": csrf_token(out_page.text)}, referer=sign_out)
    seen["after_sign_out"] = client.get(f"{stack.desk}/staff/").status

    again = sign_in_with_password(client, stack, email, password)
    seen["second_redirect"] = again.header("Location")
    code_url = f"{stack.desk}/staff/sign-in/code"
    verified = post_code(client, code_url, unused_code(secret, last_step(stack, email)))
    seen["verified"] = (verified.status, verified.header("Location"))
    flush_spool(stack)
    inbox = client.get(f"{stack.desk}/staff/?search={MARKER}")
    links = re.findall(r'href="(/staff/tips/\d+)"', inbox.text)
    assert links, inbox.text[:800]
    tip = client.get(stack.desk + links[0])
    seen["tip"] = tip.text
    files = re.findall(r'href="(/staff/tips/\d+/attachments/\d+)"', tip.text)
    seen["attachment"] = client.get(stack.desk + files[0]).body if files else b""
    return seen


def test_an_admin_is_added_with_the_image_command(desk_visit: dict[str, Any]) -> None:
    assert "Added compose." in desk_visit["added"]
    assert "(admin)" in desk_visit["added"]


def test_staff_sign_in_takes_a_password_then_a_totp_code(desk_visit: dict[str, Any]) -> None:
    assert desk_visit["first_redirect"].startswith("/staff/sign-in/enrol")
    assert desk_visit["enrolled"] == (302, "/staff/")
    assert desk_visit["after_sign_out"] == 302
    assert desk_visit["second_redirect"].startswith("/staff/sign-in/code")
    assert desk_visit["verified"] == (302, "/staff/")


def test_staff_read_the_tip_and_its_photo_on_the_desk(desk_visit: dict[str, Any]) -> None:
    assert MARKER in desk_visit["tip"]
    assert desk_visit["attachment"].startswith(b"\x89PNG\r\n\x1a\n")


def container_ids(stack: Stack) -> dict[str, str]:
    """Return the running containers of the stack by service name."""
    return {
        state["Service"]: state["ID"]
        for state in compose_stack.services(stack)
        if state["State"] == "running"
    }


def test_no_container_runs_as_root(stack: Stack) -> None:
    running = container_ids(stack)
    assert set(running) == {"web", "intake", "review", "spool", "db", "redis", "desk-redis"}
    for service, container in running.items():
        user = subprocess.run(
            ["docker", "inspect", "--format", "{{.Config.User}}", container],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert user and user not in {"root", "0"}, f"{service} runs as {user!r}"
        # Every process, not only the first: `docker top` passes its options to ps (which
        # must print the pid, for Docker to pick the container's processes).
        top = subprocess.run(
            ["docker", "top", container, "-eo", "pid,uid,comm"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()[1:]
        assert top, service
        for line in top:
            uid = line.split()[1]
            assert uid != "0", f"{service}: {line}"


@pytest.mark.parametrize(
    ("name", "origin", "path"),
    [("site", "public", "/en/"), ("form", "public", "/form/en/"), ("desk", "desk", "/staff/")],
)
def test_the_observatory_grades_the_containers_a_plus(
    stack: Stack, artifacts_dir: Path, name: str, origin: str, path: str
) -> None:
    if shutil.which("node") is None or not (OBSERVATORY / "src" / "scanner" / "index.js").exists():
        require("MDN HTTP Observatory", "node and npm ci --ignore-scripts are needed")
    # npm ci --ignore-scripts skips the download of the HSTS preload list (none applies here).
    preload = OBSERVATORY / "conf" / "hsts-preload.json"
    if not preload.exists():
        preload.write_text("{}\n")
    https_port = compose_stack.HTTPS_PORT if origin == "public" else compose_stack.DESK_PORT
    http_port = compose_stack.HTTP_PORT if origin == "public" else 0
    result = subprocess.run(
        ["node", str(SCRIPT), stack.host, str(https_port), str(http_port), path],
        capture_output=True,
        text=True,
        env={**os.environ, "NODE_EXTRA_CA_CERTS": str(stack.certificate)},
        cwd=SCRIPT.parent,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    (artifacts_dir / f"observatory-compose-{name}.json").write_text(json.dumps(report, indent=2))
    assert report["verified"] is True, "the certificate must be trusted, not skipped"
    assert not {test: r["result"] for test, r in report["tests"].items() if not r["pass"]}
    assert report["grade"] == "A+", report["score"]


# Run inside a container with its own settings: which statements its database role may run,
# and which of the other services it can even resolve and connect to.
INSIDE = """
import json, os, socket
from sqlalchemy import create_engine, text
engine = create_engine(os.environ["FORM_SERVICE_DATABASE_URL"])
found = {"role": None}
with engine.connect() as connection:
    found["role"] = connection.execute(text("SELECT current_user")).scalar()
for name, statement in json.loads(os.environ["STATEMENTS"]).items():
    try:
        with engine.begin() as connection:
            connection.execute(text(statement))
        found[name] = "allowed"
    except Exception as error:
        found[name] = "refused" if "permission denied" in str(error) else type(error).__name__
for host, port in json.loads(os.environ["PEERS"]):
    try:
        socket.create_connection((host, port), timeout=3).close()
        found[host] = "reachable"
    except OSError:
        found[host] = "unreachable"
print(json.dumps(found))
"""
FORBIDDEN_TO_THE_INTAKE = {
    "read tips": "SELECT ciphertext FROM tips",
    "read staff": "SELECT * FROM staff",
    "add staff": "INSERT INTO staff (email, role, password_hash) VALUES ('x@y', 'admin', 'h')",
    "read audit": "SELECT * FROM audit_entries",
    "read sessions": "SELECT * FROM staff_sessions",
}


def inside(stack: Stack, service: str, statements: dict[str, str], peers: list[Any]) -> Any:
    """Run INSIDE in a service's container; return what it found."""
    output = compose_stack.compose(
        stack,
        *("exec", "-T", "-e", f"STATEMENTS={json.dumps(statements)}"),
        *("-e", f"PEERS={json.dumps(peers)}", service, "python", "-c", INSIDE),
    )
    return json.loads(output.strip().splitlines()[-1])


def test_inside_the_containers_the_intake_can_neither_read_a_tip_nor_reach_the_desk(
    stack: Stack,
) -> None:
    peers = [["review", 8000], ["desk-redis", 6379], ["db", 5432], ["redis", 6379]]
    for service in ("intake", "spool"):
        found = inside(stack, service, FORBIDDEN_TO_THE_INTAKE, peers)
        assert found["role"] == "formservice_intake", found
        assert {found[name] for name in FORBIDDEN_TO_THE_INTAKE} == {"refused"}, found
        assert found["review"] == found["desk-redis"] == "unreachable", found
        assert found["db"] == "reachable", found
    # The desk reads tips as its own role, and appends to the audit log but never rewrites it.
    desk = {"read tips": "SELECT count(*) FROM tips", "rewrite audit": "DELETE FROM audit_entries"}
    found = inside(stack, "review", desk, [["intake", 8000], ["redis", 6379]])
    assert found["role"] == "formservice_desk", found
    assert found["read tips"] == "allowed" and found["rewrite audit"] == "refused", found
    assert found["intake"] == found["redis"] == "unreachable", found
