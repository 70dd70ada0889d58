"""Run every benchmark under bench/ and write a JSON file and a Markdown report with charts.

    .venv/bin/python bench/run.py [--quick] [--only intake-sqlite,desk,...]   (make bench)

Each suite runs in turn with a progress line per step; the figures go to
bench/results/<timestamp>.json, the report to bench/results/<timestamp>.md (and a copy in
latest.md) with its SVG charts beside it. `--quick` uses shorter runs and smaller sizes
(under two minutes on an idle two-core machine). The machine is usually shared: the report
records the load average, and every figure stands beside a reference measured in the same
run, so ratios can be compared between runs where absolute figures cannot.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
STACK_LOCK = "/tmp/abduction-stack.lock"  # noqa: S108 - a shared lock file, not a temp file
sys.path.insert(0, str(BENCH))

import crypto_bench  # noqa: E402 - the bench folder is put on the path just above
import followup_bench  # noqa: E402
import intake_bench  # noqa: E402
import profile_bench  # noqa: E402
import report  # noqa: E402
import site_budget  # noqa: E402


@dataclass(frozen=True)
class Suite:
    """One benchmark: its name and what it runs (quick or full)."""

    name: str
    title: str
    run: Callable[[bool, Callable[[str], None]], dict[str, Any]]


class Progress:
    """Print one line per step with the suite count and the time since the start."""

    def __init__(self, total: int) -> None:
        """Start the clock."""
        self.total = total
        self.number = 0
        self.started = time.monotonic()

    def suite(self, title: str) -> None:
        """Announce the next suite."""
        self.number += 1
        self.step(title)

    def step(self, text: str) -> None:
        """Announce a step of the current suite."""
        elapsed = time.monotonic() - self.started
        minutes, seconds = divmod(int(elapsed), 60)
        print(f"[{self.number}/{self.total} {minutes:02d}:{seconds:02d}] {text}", flush=True)


def intake_levels(quick: bool) -> tuple[list[int], float]:
    """Return the concurrency levels and seconds per level."""
    return ([8, 32], 2.0) if quick else ([1, 8, 32, 64], 6.0)


def run_intake(backend: str) -> Callable[[bool, Callable[[str], None]], dict[str, Any]]:
    """Return the intake suite for one backend."""

    def run(quick: bool, step: Callable[[str], None]) -> dict[str, Any]:
        levels, seconds = intake_levels(quick)
        return intake_bench.measure(backend, 4, seconds, levels, step)

    return run


def run_desk(backend: str) -> Callable[[bool, Callable[[str], None]], dict[str, Any]]:
    """Return the desk suite (a separate process, so its peak RSS is its own)."""

    def run(quick: bool, step: Callable[[str], None]) -> dict[str, Any]:
        sizes = "1000,10000" if quick else "1000,10000,100000"
        step(f"desk on {backend}: inbox and search at {sizes} tips")
        with tempfile.TemporaryDirectory() as folder:
            output = Path(folder) / "desk.json"
            command = [sys.executable, str(BENCH / "review_bench.py"), "--backend", backend]
            command += ["--sizes", sizes, "--runs", "5" if quick else "10", "--output", str(output)]
            subprocess.run(command, check=True, cwd=ROOT)
            result: dict[str, Any] = json.loads(output.read_text())
        return result

    return run


def run_site(quick: bool, step: Callable[[str], None]) -> dict[str, Any]:
    """Build the site and Pelican's reference, and weigh every page."""
    step("site: cold builds of the site and of the reference, page weights")
    return site_budget.measure(1 if quick else 3)


def run_crypto(quick: bool, step: Callable[[str], None]) -> dict[str, Any]:
    """Time sealing, opening and Argon2id."""
    step("crypto: seal, open, reply key, Argon2id")
    return crypto_bench.measure(quick)


def run_profile(quick: bool, step: Callable[[str], None]) -> dict[str, Any]:
    """Profile complete submissions in process."""
    step("profile: complete submissions under cProfile")
    return profile_bench.measure(100 if quick else 400)


def run_follow_up(quick: bool, step: Callable[[str], None]) -> dict[str, Any]:
    """Time the tipster's lookup and tip page with three replies."""
    step("follow-up: lookup and tip page with three replies")
    return followup_bench.measure(5 if quick else 20)


def run_stack(quick: bool, step: Callable[[str], None]) -> dict[str, Any]:
    """Measure through the local production stack (a separate process under the stack lock)."""
    step("stack: nginx static pages and the intake through nginx on PostgreSQL")
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "stack.json"
        # The lock every user of the local stack on this machine takes (tests/system too).
        command = ["flock", STACK_LOCK, sys.executable]
        command += [str(BENCH / "stack_bench.py"), "--output", str(output)]
        command += ["--seconds", "2" if quick else "5"]
        subprocess.run(command, check=True, cwd=ROOT)
        result: dict[str, Any] = json.loads(output.read_text())
    return result


SUITES = [
    Suite("crypto", "crypto per tip and per sign-in", run_crypto),
    Suite("intake-sqlite", "intake on SQLite under gunicorn", run_intake("sqlite")),
    Suite("intake-postgresql", "intake on PostgreSQL under gunicorn", run_intake("postgresql")),
    Suite("profile", "profile of the submission path", run_profile),
    Suite("desk-sqlite", "desk inbox and search on SQLite", run_desk("sqlite")),
    Suite("desk-postgresql", "desk inbox and search on PostgreSQL", run_desk("postgresql")),
    Suite("follow-up", "follow-up lookup with three replies", run_follow_up),
    Suite("site", "static site build and page weight", run_site),
    Suite("stack", "local production stack through nginx", run_stack),
]
QUICK_SKIPS = {"desk-postgresql", "intake-postgresql"}


def machine() -> dict[str, Any]:
    """Describe the machine and its load now."""
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return {
        "cpus": os.cpu_count(),
        "load_average": list(os.getloadavg()),
        "python": platform.python_version(),
        "system": platform.platform(),
        "commit": commit,
    }


def main() -> int:
    """Run the chosen suites, then write the JSON and the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs, small sizes")
    parser.add_argument(
        "--only", help="comma-separated suite names: " + ", ".join(s.name for s in SUITES)
    )
    options = parser.parse_args()
    chosen = [s for s in SUITES if not options.only or s.name in options.only.split(",")]
    if options.quick and not options.only:
        chosen = [s for s in chosen if s.name not in QUICK_SKIPS]
    stamp = time.strftime("%Y-%m-%dT%H%M%SZ", time.gmtime())
    figures: dict[str, Any] = {
        "stamp": stamp,
        "quick": options.quick,
        "machine_before": machine(),
        "suites": {},
        "skipped": [s.name for s in SUITES if s not in chosen],
    }
    progress = Progress(len(chosen))
    for suite in chosen:
        progress.suite(suite.title)
        started = time.monotonic()
        try:
            result = suite.run(options.quick, progress.step)
        except (subprocess.CalledProcessError, OSError, RuntimeError) as error:
            result = {"error": f"{type(error).__name__}: {error}"}
            progress.step(f"{suite.name} FAILED: {result['error']}")
        result["suite_seconds"] = time.monotonic() - started
        figures["suites"][suite.name] = result
    figures["machine_after"] = machine()
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{stamp}.json").write_text(json.dumps(figures, indent=2) + "\n")
    text = report.write(figures, RESULTS)
    (RESULTS / f"{stamp}.md").write_text(text)
    (RESULTS / "latest.md").write_text(text)
    progress.step(f"report: {RESULTS / (stamp + '.md')} (and latest.md)")
    return 1 if any("error" in result for result in figures["suites"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
