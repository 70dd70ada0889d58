"""Two intake containers behind web, as docs/deployment.md describes scaling the intake.

`docker compose up --scale intake=2` starts a second intake on the same spool volume, the
same database role and the same Redis; nginx resolves `intake` to both when it starts. Each
container alone then takes tips through nginx while the other is stopped, and with both up
every tip sent goes in; the batch stores them all.
"""

from __future__ import annotations

import subprocess
import time
import uuid

from tests.compose.journey import flush_spool, send_tip
from tools.docker import compose_stack
from tools.docker.compose_stack import Stack, StackError

HEALTHY_WITHIN = 300.0


def intake_containers(stack: Stack) -> list[str]:
    """Return the ids of the stack's running intake containers."""
    labels = [
        f"label=com.docker.compose.project={stack.project}",
        "label=com.docker.compose.service=intake",
    ]
    command = ["docker", "ps", "--quiet", *(arg for label in labels for arg in ("--filter", label))]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return sorted(output.split())


def wait_healthy(stack: Stack, services: set[str]) -> None:
    """Wait until every running container of these services says healthy."""
    deadline = time.monotonic() + HEALTHY_WITHIN
    while True:
        states = [s for s in compose_stack.services(stack) if s["Service"] in services]
        running = [s for s in states if s["State"] == "running"]
        if running and all(s.get("Health") == "healthy" for s in running):
            return
        if time.monotonic() > deadline:
            raise StackError(f"not healthy in time: {states}")
        time.sleep(1)


def restart_web(stack: Stack) -> None:
    """Restart nginx, which resolves the intake's replicas only when it starts."""
    compose_stack.compose(stack, "restart", "web", timeout=180)
    wait_healthy(stack, {"web"})


def scale_intake(stack: Stack, count: int) -> None:
    """Run `count` intake containers, wait for them, and let nginx find them."""
    compose_stack.compose(
        stack,
        *("up", "--detach", "--no-deps", "--no-build", "--pull", "never"),
        *("--scale", f"intake={count}", "intake"),
        timeout=HEALTHY_WITHIN,
    )
    wait_healthy(stack, {"intake"})
    restart_web(stack)


def stored_tips(stack: Stack) -> int:
    """Count the tips in the database (as its owner, inside the db container)."""
    output = compose_stack.compose(
        stack,
        *("exec", "-T", "db", "psql", "-U", "formservice", "-d", "formservice", "-At"),
        *("-c", "SELECT count(*) FROM tips"),
    )
    return int(output.strip())


def docker(*args: str) -> None:
    """Run a docker command that stops or starts a container, failing loudly."""
    with compose_stack.host_network_change():
        subprocess.run(["docker", *args], capture_output=True, check=True, timeout=180)


def test_two_intake_containers_each_take_tips_and_either_alone_still_serves(
    stack: Stack,
) -> None:
    marker = f"scaling-{uuid.uuid4().hex}"
    sent: list[str] = []
    # Compose tests hold the host-network lock exclusively, so no other test adds tips now.
    flush_spool(stack)
    before = stored_tips(stack)
    try:
        scale_intake(stack, 2)
        containers = intake_containers(stack)
        assert len(containers) == 2, containers
        for serving, stopped in (containers, containers[::-1]):
            docker("stop", "--time", "10", stopped)
            for number in range(3):
                message = f"{marker} via {serving[:12]} #{number}"
                assert send_tip(stack, message).status == 200, message
                sent.append(message)
            docker("start", stopped)
            wait_healthy(stack, {"intake"})
            # A restarted container may come back on another address.
            restart_web(stack)
        for number in range(6):
            message = f"{marker} both #{number}"
            assert send_tip(stack, message).status == 200, message
            sent.append(message)
    finally:
        scale_intake(stack, 1)
    # Both containers spooled into the one volume; one batch stores every tip.
    flush_spool(stack)
    assert stored_tips(stack) - before == len(sent) == 12
