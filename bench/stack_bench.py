"""Measure the local production stack through nginx and TLS: static pages and the form.

Start the stack first (`make stack`). Each client process keeps one HTTPS connection open
(as a browser does) and repeats GET requests for a bounded time:

    .venv/bin/python bench/stack_bench.py [--clients 8] [--seconds 5]

Prints requests per second and p50/p99 latency for a static page (served precompressed by
gzip_static), a fingerprinted stylesheet, and the form page (gunicorn: 2 intake instances x
2 sync workers on the local stack). The Python clients limit the static figures; they are
a floor, not nginx's ceiling.
"""

from __future__ import annotations

import argparse
import http.client
import json
import ssl
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {
    "static page /en/": "/en/",
    "stylesheet ?v=": "/theme/css/site.css?v=bench",
    "form page /form/en/": "/form/en/",
}


def client(args: tuple[str, int, str, str, float]) -> list[float]:
    """Repeat one GET over a kept-alive connection for `seconds`; return the latencies."""
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


def main() -> None:
    """Run every target at the chosen concurrency and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    options = parser.parse_args()
    state = json.loads((ROOT / "stack" / "stack.json").read_text())
    host, port = state["public"].removeprefix("https://").split(":")
    print(f"{options.clients} clients, {options.seconds:g} s each, through {state['public']}")
    with ProcessPoolExecutor(max_workers=options.clients) as pool:
        for label, path in TARGETS.items():
            jobs = [(host, int(port), state["ca"], path, options.seconds)] * options.clients
            latencies = sorted(t for result in pool.map(client, jobs) for t in result)
            rate = len(latencies) / options.seconds
            p50 = statistics.median(latencies) * 1000
            p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
            print(f"{label:22} {rate:8.0f} req/s   p50 {p50:6.1f} ms   p99 {p99:6.1f} ms")


if __name__ == "__main__":
    main()
