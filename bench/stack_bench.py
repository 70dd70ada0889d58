"""Measure through the local production stack (nginx, TLS, two intakes, PostgreSQL, Redis).

Starts the stack itself (`python -m tools.stack start --fresh`; run it under the stack lock,
as bench/run.py does), measures, and stops it:
- static page `/en/` through the project's nginx configuration, against a bare nginx (same
  TLS certificate, `root` and nothing else) serving a file of the same size. Each client
  process keeps one HTTPS connection open, as a browser does; both sides share the clients,
  so the ratio holds even where the Python clients are the limit;
- complete submissions (form fetch + post, new TLS connection per request) through nginx
  to the two intake instances, against one intake instance posted directly on loopback.

    flock /tmp/abduction-stack.lock .venv/bin/python bench/stack_bench.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import intake_bench

ROOT = Path(__file__).resolve().parent.parent
STACK = ROOT / "var" / "stack"
CLIENTS = 8


def keepalive_client(args: tuple[str, int, str, str, float]) -> list[float]:
    """Repeat one GET over a kept-alive HTTPS connection for `seconds`; return latencies."""
    host, port, ca, path, seconds = args
    context = ssl.create_default_context(cafile=ca)
    connection = http.client.HTTPSConnection(host, port, context=context, timeout=30)
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    try:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            connection.request("GET", path, headers={"Accept-Encoding": "gzip"})
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"{path}: HTTP {response.status}")
            latencies.append(time.perf_counter() - started)
    finally:
        connection.close()
    return latencies


def static_rate(pool: ProcessPoolExecutor, port: int, ca: str, path: str, seconds: float) -> Any:
    """Return rate and percentiles of GET path with CLIENTS kept-alive connections."""
    jobs = [("127.0.0.1", port, ca, path, seconds)] * CLIENTS
    latencies = sorted(t for result in pool.map(keepalive_client, jobs) for t in result)
    return {
        "rate": len(latencies) / seconds,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000,
        "failures": {},
    }


def body_size(port: int, ca: str, path: str) -> int:
    """Return the size of the body nginx sends for path (gzip accepted)."""
    connection = http.client.HTTPSConnection(
        "127.0.0.1", port, context=ssl.create_default_context(cafile=ca)
    )
    connection.request("GET", path, headers={"Accept-Encoding": "gzip"})
    size = len(connection.getresponse().read())
    connection.close()
    return size


def start_bare_nginx(folder: Path, size: int) -> tuple[subprocess.Popen[bytes], int]:
    """Start nginx with nothing but TLS and a root holding a file of `size` bytes."""
    (folder / "root").mkdir()
    (folder / "root" / "file.html").write_bytes(b"x" * size)
    (folder / "logs").mkdir()
    port = intake_bench.free_port()
    tls = STACK / "tls"
    (folder / "nginx.conf").write_text(
        f"""worker_processes 2;
pid {folder}/nginx.pid;
events {{}}
http {{
    access_log off;
    client_body_temp_path {folder}/body; proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi; uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {tls / "cert.pem"};
        ssl_certificate_key {tls / "key.pem"};
        root {folder / "root"};
    }}
}}
"""
    )
    globals_ = "daemon off;" + (" user root;" if os.geteuid() == 0 else "")
    command = ["nginx", "-p", f"{folder}/", "-c", str(folder / "nginx.conf"), "-e", "stderr"]
    process = subprocess.Popen([*command, "-g", globals_])
    time.sleep(1.0)
    return process, port


def peak_rss(field_name: str = "VmHWM") -> dict[str, float]:
    """Return the peak RSS (VmHWM) or the RSS now of each stack process and child, in MB."""
    peaks: dict[str, float] = {}
    parents = {}
    for pid_file in (STACK / "run").glob("*.pid"):
        parents[pid_file.read_text().strip()] = pid_file.stem
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":", 1) for line in status.read_text().splitlines() if ":" in line
            )
        except OSError:
            continue
        pid, parent = status.parent.name, fields.get("PPid", "").strip()
        name = parents.get(pid) or parents.get(parent)
        if name and field_name in fields:
            label = f"{name} {'master' if pid in parents else 'worker'}"
            peaks[label] = max(peaks.get(label, 0.0), int(fields[field_name].split()[0]) / 1024)
    return peaks


async def tls_submissions(port: int, clients: int, seconds: float, ca: str | None) -> Any:
    """Run complete submissions against a port, over TLS when a CA is given."""
    context = ssl.create_default_context(cafile=ca) if ca else None
    tally = await intake_bench.run_level(port, clients, seconds, True, tls=context)
    return intake_bench.summary(tally, seconds)


def measure(seconds: float) -> dict[str, Any]:
    """Start the stack, take every figure, stop the stack."""
    env = {**os.environ, "STACK_RATELIMIT_SUBMIT": "1000000 per hour"}
    python = sys.executable
    subprocess.run([python, "-m", "tools.stack", "start", "--fresh"], check=True, cwd=ROOT, env=env)
    try:
        state = json.loads((STACK / "stack.json").read_text())
        public = int(state["public"].rsplit(":", 1)[1])
        direct = int(state["intake"][0].rsplit(":", 1)[1])
        rows: dict[str, Any] = {}
        with ProcessPoolExecutor(max_workers=CLIENTS) as pool, tempfile.TemporaryDirectory() as t:
            size = body_size(public, state["ca"], "/en/")
            bare, bare_port = start_bare_nginx(Path(t), size)
            try:
                rows["static page /en/ (project nginx)"] = static_rate(
                    pool, public, state["ca"], "/en/", seconds
                )
                rows["same-size file"] = static_rate(
                    pool, bare_port, state["ca"], "/file.html", seconds
                )
            finally:
                bare.terminate()
                bare.wait()
        # The workers' first requests (imports, connections) are not what is measured.
        asyncio.run(tls_submissions(public, 8, 2.0, state["ca"]))
        asyncio.run(tls_submissions(direct, 8, 2.0, None))
        for clients in (8, 32):
            rows[f"intake via nginx, 2 instances ({clients} clients)"] = asyncio.run(
                tls_submissions(public, clients, seconds, state["ca"])
            )
            rows[f"intake, 1 instance direct ({clients} clients)"] = asyncio.run(
                tls_submissions(direct, clients, seconds, None)
            )
        peaks, now = peak_rss(), peak_rss("VmRSS")
    finally:
        subprocess.run([python, "-m", "tools.stack", "stop"], cwd=ROOT, env=env, check=False)
    return {
        "note": (
            f"Static: {CLIENTS} client processes, one kept-alive HTTPS connection each, "
            f"{seconds:g} s, body {size:,} bytes (gzip_static). Intake: complete submissions, a "
            "new TLS connection per request through nginx, plain HTTP direct; each instance "
            "has two sync workers (the stack's setting), on PostgreSQL."
        ),
        "body_bytes": size,
        "rows": rows,
        "peak_rss_mb": peaks,
        "rss_now_mb": now,
    }


def main() -> None:
    """Run and write the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--output", type=Path)
    options = parser.parse_args()
    text = json.dumps(measure(options.seconds), indent=2)
    if options.output:
        options.output.write_text(text)
    else:
        print(text)


if __name__ == "__main__":
    main()
