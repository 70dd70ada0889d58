"""The `onion` profile's tor image: built as CI builds the others, its torrc checked by Tor.

Tor's network cannot be reached from here, so Tor checks the configuration only
(`tor --verify-config`), the container started as Compose starts it shows that it creates
the onion service's keys on its volume as a non-root user on a read-only root, and `tor`
started beside the CI stack reaches web's onion listener through their shared socket.
"""

from __future__ import annotations

import fcntl
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.compose.conftest import LOCK
from tests.conftest import require
from tools.docker import compose_stack
from tools.docker.compose_stack import Build, Stack, StackError

HOSTNAME_FILE = "/var/lib/tor/onion-service/hostname"
TOR_IMAGE_BUDGET_MB = 300


@pytest.fixture(scope="module")
def tor_service(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Return the `tor` service as CI's Compose files resolve it with the onion profile."""
    if not compose_stack.engine_ready():
        require("Docker", "no engine answers or the local base images are missing")
    # Only what `config` reads: no deployment is written (nor needed) to build one image.
    stack = Stack(tmp_path_factory.mktemp("onion"))
    stack.secrets.mkdir(parents=True)
    for name in ("intake.env", "review.env", "migrate.env"):
        (stack.secrets / name).touch()
    (stack.deployment / ".env").write_text(f"DESK_PASSPHRASE_FILE={stack.passphrase}\n")
    service: dict[str, Any] = compose_stack.config(stack, "onion")["services"]["tor"]
    return service


@pytest.fixture(scope="module")
def tor_image(tor_service: dict[str, Any]) -> Build:
    """Build the tor image with the harness's builder, holding the Compose CI lock."""
    # Under the lock, as the CI stack's own builds: the prune must not race another build.
    with LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        build = compose_stack.build_image(tor_service["image"], tor_service["build"])
        compose_stack.prune_images()
    print(f"built {build.image}: {build.size_bytes / 1e6:.0f} MB in {build.seconds:.1f}s")
    return build


def run_tor(
    service: dict[str, Any], *command: str, torrc: Path | None = None, name: str | None = None
) -> list[str]:
    """Return a `docker run` line with the service's own restrictions (and a torrc to try)."""
    assert service["read_only"] is True and service["cap_drop"] == ["ALL"]
    options = ["--read-only", "--cap-drop", "ALL"]
    if name is not None:
        options += ["--detach", "--name", name]
    options += [arg for option in service["security_opt"] for arg in ("--security-opt", option)]
    # The state volume (anonymous here, gone with --rm); no network, none is reachable.
    options += ["--network", "none", "--mount", "type=volume,dst=/var/lib/tor"]
    if torrc is not None:
        options += ["-v", f"{torrc}:/etc/tor/torrc:ro"]
    return ["docker", "run", "--rm", *options, service["image"], *command]


def verify(service: dict[str, Any], torrc: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run `tor --verify-config` on the image's torrc (or on another one) in the image."""
    command = run_tor(service, "tor", "--verify-config", "-f", "/etc/tor/torrc", torrc=torrc)
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def test_the_ci_file_builds_its_own_tor_image_from_the_local_base(
    tor_service: dict[str, Any], tor_image: Build
) -> None:
    assert tor_image.image == "abduction-ci/tor:latest"
    # A budget with room to spare, as for the other images: 257 MB here, of which the local
    # base is 169 MB (debian:bookworm-slim is about a third of that).
    assert tor_image.size_bytes < TOR_IMAGE_BUDGET_MB * 1e6, tor_image
    assert tor_service["build"]["target"] == "tor"
    assert tor_service["build"]["args"]["DEBIAN_IMAGE"] == "abduction-ci/debian-python:bookworm"
    user = subprocess.run(
        ["docker", "image", "inspect", "--format", "{{.Config.User}}", tor_image.image],
        capture_output=True,
        text=True,
        check=True,
    )
    assert user.stdout.strip() == "debian-tor"


def test_tor_finds_the_configuration_valid(tor_service: dict[str, Any], tor_image: Build) -> None:
    result = verify(tor_service)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Configuration was valid" in result.stdout


def test_tor_refuses_a_broken_configuration(
    tor_service: dict[str, Any], tor_image: Build, tmp_path: Path
) -> None:
    # The check above could not fail if Tor accepted anything: a host name as the target
    # (what a Compose service name would be) is refused, so is a misspelt option.
    torrc = (Path(__file__).parents[2] / "deploy" / "tor" / "torrc").read_text()
    for broken in (
        torrc.replace("unix:/run/onion/web.sock", "web:8081"),
        torrc.replace("SafeLogging 1", "SafeLoging 1"),
    ):
        assert broken != torrc
        path = tmp_path / f"torrc-{uuid.uuid4().hex[:6]}"
        path.write_text(broken)
        path.chmod(0o644)
        result = verify(tor_service, path)
        assert result.returncode != 0
        assert "Configuration was valid" not in result.stdout


@pytest.fixture
def tor_container(tor_service: dict[str, Any], tor_image: Build) -> Iterator[str]:
    """Start tor as Compose would (without a network to reach); yield the container's name."""
    name = f"ci-tor-{uuid.uuid4().hex[:8]}"
    subprocess.run(run_tor(tor_service, name=name), check=True, capture_output=True, timeout=60)
    try:
        yield name
    finally:
        subprocess.run(["docker", "rm", "--force", "--volumes", name], capture_output=True)


def test_tor_creates_the_service_keys_as_the_healthcheck_expects(
    tor_service: dict[str, Any], tor_container: str
) -> None:
    check = tor_service["healthcheck"]["test"]
    assert check == ["CMD", "test", "-s", HOSTNAME_FILE]
    deadline = time.monotonic() + 60
    while subprocess.run(["docker", "exec", tor_container, *check[1:]]).returncode != 0:
        assert time.monotonic() < deadline, "no hostname file after 60 s"
        time.sleep(0.5)
    address = subprocess.run(
        ["docker", "exec", tor_container, "cat", HOSTNAME_FILE],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # A v3 address: 56 base32 characters.
    assert len(address) == len("x" * 56 + ".onion") and address.endswith(".onion"), address
    logs = subprocess.run(["docker", "logs", tor_container], capture_output=True, text=True)
    assert "[err]" not in logs.stdout + logs.stderr


@pytest.fixture
def tor_beside_the_stack(stack: Stack, tor_image: Build) -> Iterator[Stack]:
    """Start `tor` (the onion profile) in the running CI stack; remove it and its state after."""
    profile = ("--profile", "onion")
    up = ("up", "--detach", "--no-build", "--pull", "never", "--no-deps", "tor")
    compose_stack.compose(stack, *profile, *up)
    try:
        deadline = time.monotonic() + 120
        while True:
            states = {s["Service"]: s for s in compose_stack.services(stack)}
            if states.get("tor", {}).get("Health") == "healthy":
                break
            if time.monotonic() > deadline:
                raise StackError(f"tor did not become healthy: {states.get('tor')}")
            time.sleep(0.5)
        yield stack
    finally:
        compose_stack.compose(stack, *profile, "rm", "--stop", "--force", "tor")
        subprocess.run(
            ["docker", "volume", "rm", "--force", f"{stack.project}_tor-state"],
            capture_output=True,
        )


# Sent from inside the tor container, as Tor's daemon does for each visitor. (Python is in
# CI's base image, not in debian:bookworm-slim; only this test needs it.)
THROUGH_THE_SOCKET = """
import socket, sys
client = socket.socket(socket.AF_UNIX)
client.connect("/run/onion/web.sock")
client.sendall(f"GET {sys.argv[1]} HTTP/1.0\\r\\nHost: example.onion\\r\\n\\r\\n".encode())
print(client.makefile("rb").read().split(b"\\r\\n\\r\\n")[0].decode())
"""


def test_tor_reaches_the_site_and_the_form_through_the_socket_of_web(
    tor_beside_the_stack: Stack,
) -> None:
    expected = {"/en/": 200, "/form/en/": 200, "/staff/": 404, "/staff/sign-in": 404}
    for path, status in expected.items():
        head = compose_stack.compose(
            tor_beside_the_stack, "exec", "-T", "tor", "python3", "-c", THROUGH_THE_SOCKET, path
        )
        assert head.split()[1] == str(status), f"{path}: {head}"
        assert "strict-transport-security" not in head.lower(), head
        assert "content-security-policy: default-src 'none'" in head.lower(), head
