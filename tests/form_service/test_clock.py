"""Nothing reads the wall clock but form_service/clock.py: domain code and tests take a Clock.

A test that reads the wall clock races it (a TOTP step boundary, a day boundary, a CSRF
token's age) and fails a few runs in a hundred under load. The scan below walks the syntax
tree of every module of the service and of its tests and names each wall-clock read.

A line may read the wall clock only when it says why, in a `# wall clock: <reason>` comment:
tests that drive real server processes (which keep the real time) and the one place where a
library keeps its own windows on the wall clock.
"""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest

from form_service.clock import FixedClock

ROOT = Path(__file__).resolve().parents[2]
SCANNED = [ROOT / "form_service", ROOT / "tests"]
# The one module that may read the time: the system clock itself.
THE_CLOCK = ROOT / "form_service" / "clock.py"
EXCUSE = "# wall clock:"
# (name the value ends in, attribute read): datetime.now, date.today, time.time, ...
WALL_CLOCK_READS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("time", "time_ns"),
    ("time", "localtime"),
    ("time", "gmtime"),
}
# Helpers of the system clock; tests compare with their FixedClock instead.
SYSTEM_CLOCK_HELPERS = {"utcnow", "utc_today", "SYSTEM_CLOCK"}


def last_name(node: ast.expr) -> str | None:
    """Return the last name of a dotted expression (`dt.datetime` -> "datetime")."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def wall_clock_reads(source: str, is_test: bool) -> list[tuple[int, str]]:
    """Return (line, what) for every wall-clock read in a module's source."""
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        what = None
        if isinstance(node, ast.Attribute) and (last_name(node.value), node.attr) in (
            WALL_CLOCK_READS
        ):
            what = f"{last_name(node.value)}.{node.attr}"
        elif isinstance(node, ast.Call) and not node.args and not node.keywords:
            func = node.func
            # pyotp.TOTP(secret).now(): the code of the wall clock's current step.
            if (
                isinstance(func, ast.Attribute)
                and func.attr == "now"
                and isinstance(func.value, ast.Call)
                and last_name(func.value.func) == "TOTP"
            ):
                what = "TOTP(...).now()"
        elif is_test and isinstance(node, ast.Name) and node.id in SYSTEM_CLOCK_HELPERS:
            what = node.id
        elif is_test and isinstance(node, ast.alias) and node.name in SYSTEM_CLOCK_HELPERS:
            what = f"import of {node.name}"
        if what is None:
            continue
        line = getattr(node, "lineno", 0)
        if line and EXCUSE in lines[line - 1]:
            continue
        found.append((line, what))
    return sorted(set(found))


def scanned_modules() -> list[Path]:
    """List every Python module of the service and of the tests, the clock itself aside."""
    paths = [path for folder in SCANNED for path in sorted(folder.rglob("*.py"))]
    return [path for path in paths if path != THE_CLOCK]


def test_no_module_reads_the_wall_clock_outside_the_clock() -> None:
    offenders = []
    for path in scanned_modules():
        is_test = path.is_relative_to(ROOT / "tests")
        for line, what in wall_clock_reads(path.read_text(encoding="utf-8"), is_test):
            offenders.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert offenders == [], "inject a Clock (tests: the FixedClock fixture):\n" + "\n".join(
        offenders
    )


@pytest.mark.parametrize(
    "source",
    [
        "import datetime as dt\nx = dt.datetime.now(dt.UTC)\n",
        "from datetime import datetime\nx = datetime.utcnow()\n",
        "from datetime import date\nx = date.today()\n",
        "import time\nx = time.time()\n",
        "import time\nx = time.time_ns()\n",
        "import pyotp\nx = pyotp.TOTP('A' * 32).now()\n",
        "from datetime import datetime\ncolumn_default = datetime.now\n",
        "from form_service.clock import utcnow\nx = utcnow()\n",
    ],
)
def test_the_scan_finds_each_kind_of_wall_clock_read(source: str) -> None:
    assert wall_clock_reads(source, is_test=True)


@pytest.mark.parametrize(
    "source",
    [
        "import time\nx = time.monotonic()\n",
        "import pyotp\nx = pyotp.TOTP('A' * 32).at(1_800_000_000)\n",
        "x = clock.now()\n",
        "import time\nx = time.time()  # wall clock: a real server process keeps the real time\n",
    ],
)
def test_the_scan_lets_clocks_durations_and_excused_lines_pass(source: str) -> None:
    assert wall_clock_reads(source, is_test=True) == []


def test_the_fixed_clock_stands_still_until_moved() -> None:
    clock = FixedClock(dt.datetime(2026, 5, 13, 23, 59, 59, tzinfo=dt.UTC))
    assert clock.now() == clock.now()
    clock.advance(seconds=1)
    assert clock.today() == dt.date(2026, 5, 14)
    assert clock.timestamp() == dt.datetime(2026, 5, 14, tzinfo=dt.UTC).timestamp()
