"""Start, stop and report the local stack's processes (see tools/stack/__init__.py)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from deploy.precompress import precompress
from tools.stack import (
    DESK_PORT,
    HOST,
    HTTP_PORT,
    HTTPS_PORT,
    INTAKE_PORTS,
    ONION_LISTEN,
    REVIEW_PORT,
    ROOT,
    STACK,
    prepare,
)
from tools.stack.nginx import render_prefix

VENV_BIN = Path(sys.executable).parent
STARTUP_SECONDS = 30


def nginx_values() -> dict[str, str]:
    """Return the placeholder values that turn the production template into the local stack."""
    return {
        "NGINX_WORKER_PROCESSES": "2",
        "NGINX_ERROR_LOG": "logs/error.log",
        "NGINX_ACCESS_LOG": "logs/access.log",
        "NGINX_SERVER_NAME": HOST,
        "NGINX_DESK_SERVER_NAME": HOST,
        "NGINX_PUBLIC_ORIGIN": f"https://{HOST}:{HTTPS_PORT}",
        "NGINX_PUBLIC_HOST": f"{HOST}:{HTTPS_PORT}",
        "NGINX_DESK_HOST": f"{HOST}:{DESK_PORT}",
        "NGINX_HTTP_LISTEN": f"{HOST}:{HTTP_PORT}",
        "NGINX_HTTPS_LISTEN": f"{HOST}:{HTTPS_PORT}",
        "NGINX_DESK_LISTEN": f"{HOST}:{DESK_PORT}",
        "NGINX_TLS_CERT": str(STACK / "tls" / "cert.pem"),
        "NGINX_TLS_KEY": str(STACK / "tls" / "key.pem"),
        "NGINX_TLS_RSA_CERT": str(STACK / "tls" / "rsa-cert.pem"),
        "NGINX_TLS_RSA_KEY": str(STACK / "tls" / "rsa-key.pem"),
        "NGINX_SITE_ROOT": str(STACK / "site"),
        "NGINX_FORM_MAX_BODY": prepare.form_max_body(),
        "NGINX_ONION_ORIGIN": os.environ.get("STACK_ONION_ORIGIN", ""),
        "NGINX_ONION_LISTEN": ONION_LISTEN,
        "NGINX_INTAKE_SERVERS": " ".join(f"server {HOST}:{port};" for port in INTAKE_PORTS),
        "NGINX_REVIEW_SERVERS": f"server {HOST}:{REVIEW_PORT};",
    }


def state() -> dict[str, object]:
    """Return what the stack exposes, for the tests and for `status`."""
    return {
        "public": f"https://{HOST}:{HTTPS_PORT}",
        "http": f"http://{HOST}:{HTTP_PORT}",
        "desk": f"https://{HOST}:{DESK_PORT}",
        # Where Tor's daemon would connect (None when STACK_ONION_LISTEN is empty or a socket).
        "onion": None
        if ONION_LISTEN.startswith("unix:") or not ONION_LISTEN
        else f"http://{ONION_LISTEN}",
        "intake": [f"http://{HOST}:{port}" for port in INTAKE_PORTS],
        "review": f"http://{HOST}:{REVIEW_PORT}",
        "ca": str(STACK / "tls" / "ca.pem"),
        "logs": [str(STACK / "logs"), str(STACK / "nginx" / "logs")],
        "database_url": prepare.DATABASE_URL,
        "redis_url": prepare.REDIS_URL,
    }


def processes() -> dict[str, tuple[list[str], dict[str, str], int]]:
    """Return each process of the stack: its command, extra environment and the port it serves."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    prefix = STACK / "nginx"
    # Run as root (as CI may), nginx would hand requests to `nobody` workers, which cannot
    # read a checkout under /root; the loopback stack keeps them as the invoking user.
    # (The web image runs nginx entirely as www-data, where this never arises.)
    globals_ = "daemon off;" + (" user root;" if os.geteuid() == 0 else "")
    table: dict[str, tuple[list[str], dict[str, str], int]] = {
        "nginx": (
            [
                nginx,
                "-p",
                f"{prefix}/",
                "-c",
                str(prefix / "nginx.conf"),
                "-e",
                "stderr",
                "-g",
                globals_,
            ],
            {},
            HTTPS_PORT,
        )
    }
    gunicorn = [str(VENV_BIN / "gunicorn"), "-c", str(ROOT / "deploy" / "gunicorn.conf.py")]
    for number, port in enumerate(INTAKE_PORTS, start=1):
        env = {**prepare.intake_env(), "GUNICORN_BIND": f"{HOST}:{port}", "GUNICORN_WORKERS": "2"}
        table[f"intake-{number}"] = ([*gunicorn, "form_service.intake:create_app()"], env, port)
    # The desk's routes start at /; nginx proxies them under /staff/ (as in compose).
    env = {
        **prepare.review_env(),
        "GUNICORN_BIND": f"{HOST}:{REVIEW_PORT}",
        "GUNICORN_WORKERS": "2",
        "SCRIPT_NAME": "/staff",
    }
    table["review"] = ([*gunicorn, "form_service.review:create_app()"], env, REVIEW_PORT)
    # The flusher serves no port (0): it moves spooled tips into the database each minute
    # here, so the desk sees them soon (production: once a day).
    flusher = [str(VENV_BIN / "form-service"), "spool", "run"]
    table["spool"] = (flusher, {**prepare.intake_env(), "FORM_SERVICE_BATCH_MINUTES": "1"}, 0)
    return table


def process_names() -> list[str]:
    """Return the names of the stack's processes, without preparing anything."""
    return [
        "nginx",
        *(f"intake-{n}" for n in range(1, len(INTAKE_PORTS) + 1)),
        "review",
        "spool",
    ]


def pid_of(name: str) -> int | None:
    """Return the pid of a running stack process, or None."""
    path = STACK / "run" / f"{name}.pid"
    try:
        pid = int(path.read_text())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def start(fresh: bool, test_routes: bool) -> None:
    """Prepare certificates, site, database and config, then start every process."""
    if any(pid_of(name) for name in process_names()):
        sys.exit("the stack is running already: python -m tools.stack stop")
    for folder in ("run", "logs", "tls", "secrets"):
        (STACK / folder).mkdir(parents=True, exist_ok=True)
    # Each start begins new logs, so what a run wrote can be read on its own.
    for old_log in [*(STACK / "logs").glob("*.log"), *(STACK / "nginx" / "logs").glob("*.log")]:
        old_log.unlink()
    prepare.make_certificates(STACK / "tls", HOST)
    build_site()
    prepare.prepare_apps(STACK / "secrets", fresh=fresh)
    render_prefix(STACK / "nginx", nginx_values())
    for block in ("public", "desk"):
        extra = STACK / "nginx" / "extra" / block / "test-routes.conf"
        extra.unlink(missing_ok=True)
        if test_routes:
            shutil.copyfile(ROOT / "tests" / "system" / "test-routes" / f"{block}.conf", extra)
    for name, (command, env, port) in processes().items():
        with (STACK / "logs" / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(
                command,
                cwd=ROOT,
                env={**os.environ, **env},
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        (STACK / "run" / f"{name}.pid").write_text(str(process.pid))
        if port:
            wait_for_port(name, process, port)
    (STACK / "stack.json").write_text(json.dumps(state(), indent=2))
    print(f"stack up: {state()['public']}/en/  desk {state()['desk']}/staff/")


def build_site() -> None:
    """Build the site into stack/site for the stack's own origin, and precompress it.

    Not `make site`'s output/: that one is built for the development server's origin, and
    its canonical, hreflang, sitemap and robots URLs would point there instead of here.
    """
    site = STACK / "site"
    build = subprocess.run(
        [
            str(Path(sys.executable).parent / "pelican"),
            str(ROOT / "content"),
            "-s",
            str(ROOT / "site" / "publishconf.py"),
            "-o",
            str(site),
            "--fatal",
            "warnings",
        ],
        cwd=ROOT,
        env={**os.environ, "SITE_ORIGIN": prepare.PUBLIC_ORIGIN},
        capture_output=True,
        text=True,
    )
    if build.returncode != 0:
        sys.exit(f"the site did not build:\n{build.stdout[-3000:]}{build.stderr[-3000:]}")
    # Readable by nginx's workers whoever they run as (a umask may have made it 0700).
    for path in [site, *site.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    precompress(site)


def wait_for_port(name: str, process: subprocess.Popen[bytes], port: int) -> None:
    """Wait until the process accepts connections on its port, or stop the stack and fail."""
    import socket

    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    stop()
    log = (STACK / "logs" / f"{name}.log").read_text(errors="replace")[-3000:]
    sys.exit(f"{name} did not start on {HOST}:{port}; its log ends with:\n{log}")


def stop() -> None:
    """Stop every process of the stack (TERM, then KILL after ten seconds)."""
    for pid_file in sorted((STACK / "run").glob("*.pid")):
        name = pid_file.stem
        pid = pid_of(name)
        if pid is not None:
            # Each process leads its own session (start_new_session), so its group is its own.
            os.killpg(pid, signal.SIGTERM)
            for _ in range(100):
                if pid_of(name) is None or not reaped(pid):
                    break
                time.sleep(0.1)
            else:
                os.killpg(pid, signal.SIGKILL)
        pid_file.unlink(missing_ok=True)


def reaped(pid: int) -> bool:
    """Tell whether pid still names a live (not zombie) process."""
    try:
        status = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return False
    return status != "Z"


def status() -> int:
    """Print each process with its pid; return 0 when all of them run."""
    running = True
    for name in process_names():
        pid = pid_of(name)
        running &= pid is not None
        print(f"{name:10} {'running, pid ' + str(pid) if pid else 'stopped'}")
    return 0 if running else 1


def main() -> None:
    """Parse the command line and run start, stop or status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["start", "stop", "status"])
    parser.add_argument("--fresh", action="store_true", help="start from an empty database")
    parser.add_argument(
        "--test-routes",
        action="store_true",
        help="add the system tests' error routes (tests/system/test-routes/)",
    )
    args = parser.parse_args()
    if args.command == "start":
        start(fresh=args.fresh, test_routes=args.test_routes)
    elif args.command == "stop":
        stop()
    else:
        sys.exit(status())


if __name__ == "__main__":
    main()
