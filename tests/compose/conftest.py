"""The real Compose stack, built and started once per test run and shared by its xdist workers.

The stack's project name and loopback ports are the same for every checkout on this machine,
so a machine-wide lock and a list of the processes using the stack decide who builds and
starts it (the first) and who stops it with `docker compose down -v` (the last). A run from
another checkout waits until the stack is free.
"""

from __future__ import annotations

import dataclasses
import fcntl
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import require
from tools.docker import compose_stack
from tools.docker.compose_stack import Stack, StackError

LOCK = Path("/tmp/abduction-compose-ci.lock")
STATE = Path("/tmp/abduction-compose-ci.json")
# Long enough for another checkout's run to build and finish with the stack.
WAIT_FOR_OTHER_RUN = 1200.0


def alive(pid: int) -> bool:
    """Tell whether a process still exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def shared_state() -> Iterator[dict[str, Any]]:
    """Hold the machine-wide lock and yield the stack's bookkeeping, saved on exit."""
    with LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        state = json.loads(STATE.read_text()) if STATE.exists() else {}
        state["users"] = [pid for pid in state.get("users", []) if alive(pid)]
        yield state
        STATE.write_text(json.dumps(state))


def start(stack: Stack) -> dict[str, Any]:
    """Write secrets, build every image, start the stack; return what was measured."""
    compose_stack.write_secrets(stack)
    # Whatever an interrupted run left behind under this project name goes first.
    compose_stack.down(stack)
    builds = compose_stack.build_images(stack)
    try:
        seconds = compose_stack.up(stack)
    except StackError:
        compose_stack.down(stack)
        raise
    return {"builds": [dataclasses.asdict(build) for build in builds], "up_seconds": seconds}


def join(stack: Stack, run: str) -> dict[str, Any]:
    """Use the running stack of this test run, or start it; wait while another run has it."""
    deadline = time.monotonic() + WAIT_FOR_OTHER_RUN
    while True:
        with shared_state() as state:
            if state["users"] and state.get("run") != run:
                pass  # another checkout's run: wait below
            elif state.get("run") == run and state.get("error"):
                pytest.fail(f"the stack failed to start in this run: {state['error']}")
            else:
                if not state["users"]:
                    state.clear()
                    try:
                        state.update(start(stack))
                    except StackError as error:
                        state.update(run=run, users=[], error=str(error)[-4000:])
                        raise
                state.update(run=run, root=str(compose_stack.ROOT))
                state["users"] = [*state.get("users", []), os.getpid()]
                return dict(state)
        if time.monotonic() > deadline:
            pytest.fail(f"another test run kept the Compose stack for {WAIT_FOR_OTHER_RUN:.0f}s")
        time.sleep(2)


def leave(stack: Stack) -> None:
    """Stop using the stack; the last user takes it down with its volumes."""
    with shared_state() as state:
        state["users"] = [pid for pid in state["users"] if pid != os.getpid()]
        if not state["users"]:
            compose_stack.down(stack)
            state.clear()


@pytest.fixture(scope="session")
def compose_stack_state() -> Iterator[tuple[Stack, dict[str, Any]]]:
    """Build and start the real stack (or join this run's), yield it, and stop it at the end."""
    if not compose_stack.engine_ready():
        require(
            "Docker",
            "no engine answers or the local base images are missing "
            "(run tools/docker/prepare.sh as root; .ci/run does)",
        )
    stack = Stack(compose_stack.DEFAULT_FOLDER)
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"solo-{os.getpid()}"
    state = join(stack, run)
    try:
        yield stack, state
    finally:
        leave(stack)


@pytest.fixture(scope="session")
def stack(compose_stack_state: tuple[Stack, dict[str, Any]]) -> Stack:
    """Return the running Compose stack."""
    return compose_stack_state[0]


@pytest.fixture(scope="session")
def measured(compose_stack_state: tuple[Stack, dict[str, Any]]) -> dict[str, Any]:
    """Return what starting the stack measured: image builds (time, size) and `up` to healthy."""
    return compose_stack_state[1]


EXTRA_LOCK = Path("/tmp/abduction-compose-extra.lock")


@pytest.fixture
def one_extra_stack() -> Iterator[None]:
    """Let one test at a time run a stack beside the CI stack (a restore, an upgrade).

    Two of them at once, beside the CI stack and the rest of the suite, left 2 cores so
    loaded that gunicorn took minutes to boot.
    """
    with EXTRA_LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
