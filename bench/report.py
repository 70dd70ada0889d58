"""Turn one run's figures into a Markdown report with SVG charts beside it."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from charts import bar_chart, line_chart

KB = 1024
BARE = "bare Flask (POST only)"
COMPLETE = "intake complete submission"
POST_ONLY = "intake POST only"
PLAIN = "plain Flask-WTF + SQLAlchemy"


def _num(value: Any, digits: int = 1) -> str:
    """Format a number for a table, or a dash when missing."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    return f"{value:,.{digits}f}"


def _level(by_level: dict[Any, Any], level: int) -> dict[str, Any] | None:
    """Return one level's figures whether the keys are ints (in memory) or strings (JSON)."""
    found = by_level.get(level, by_level.get(str(level)))
    return found if isinstance(found, dict) else None


def _verdict(ok: bool | None) -> str:
    """Say whether a target was met."""
    return "-" if ok is None else ("met" if ok else "**missed**")


class Report:
    """Collect the report's lines and charts."""

    def __init__(self, figures: dict[str, Any], folder: Path) -> None:
        """Start an empty report for one run."""
        self.figures = figures
        self.suites: dict[str, Any] = figures["suites"]
        self.folder = folder
        self.lines: list[str] = []
        self.targets: list[tuple[str, str, str, bool | None]] = []

    def chart(self, name: str, svg: str, alt: str) -> None:
        """Write a chart beside the report and link it."""
        file_name = f"{self.figures['stamp']}-{name}.svg"
        (self.folder / file_name).write_text(svg)
        self.lines += [f"![{alt}]({file_name})", ""]

    def suite(self, name: str) -> dict[str, Any] | None:
        """Return a suite's figures, noting in the report why they are missing."""
        result = self.suites.get(name)
        if result is None:
            self.lines += [f"_Not run in this run ({name})._", ""]
            return None
        if "error" in result:
            self.lines += [f"_{name} failed: {result['error']}_", ""]
            return None
        return dict(result)

    # --- Sections ------------------------------------------------------------------------

    def intake(self, backend: str) -> None:
        """Tabulate and chart the intake against bare Flask and its own POST."""
        self.lines += [f"## Intake on {backend} under gunicorn", ""]
        result = self.suite(f"intake-{backend}")
        if result is None:
            return
        apps, levels = result["apps"], result["levels"]
        self.lines += [
            f"gunicorn sync workers={result['workers']}, {result['seconds']:g} s per level "
            "after one second of warm-up, loopback, a new connection per request.",
            "",
            "| server | clients | req or submissions/s | p50 ms | p99 ms | POST p99 ms | "
            "failures |",
            "|---|---:|---:|---:|---:|---:|---|",
        ]
        for name, by_level in apps.items():
            for level in levels:
                row = _level(by_level, level) or {}
                self.lines.append(
                    f"| {name} | {level} | {_num(row.get('rate'))} | {_num(row.get('p50_ms'))} | "
                    f"{_num(row.get('p99_ms'))} | {_num(row.get('post_p99_ms'))} | "
                    f"{row.get('failures') or 0} |"
                )
        self.lines += ["", "| clients | complete / bare | POST only / bare | complete / plain |"]
        self.lines.append("|---:|---:|---:|---:|")
        for level in levels:
            bare = (_level(apps[BARE], level) or {}).get("rate") or math.nan
            complete = (_level(apps[COMPLETE], level) or {}).get("rate") or 0.0
            post = (_level(apps[POST_ONLY], level) or {}).get("rate") or 0.0
            plain = (_level(apps[PLAIN], level) or {}).get("rate") or math.nan
            self.lines.append(
                f"| {level} | {complete / bare:.1%} | {post / bare:.1%} | {complete / plain:.1%} |"
            )
        posted, stored = result["posted_2xx"], result["stored"]
        warm_failures = {
            name: by["warm-up"]["failures"]
            for name, by in apps.items()
            if isinstance(by.get("warm-up"), dict) and by["warm-up"]["failures"]
        }
        same = (
            "equal"
            if posted["tips"] == stored["tips"]
            else "DIFFERENT: a post stored but not answered in time, so no receipt shown"
        )
        self.lines += [
            "",
            "Failures during the warm-up (while gunicorn boots; counted below): "
            + (", ".join(f"{name}: {f}" for name, f in warm_failures.items()) or "none")
            + ".",
            "",
            f"Acknowledged posts {posted['tips']:,}, tips stored {stored['tips']:,} "
            f"({same}); plain form "
            f"{posted['messages']:,} / {stored['messages']:,}.",
            "",
        ]
        self.chart(
            f"intake-{backend}-throughput",
            line_chart(
                f"Throughput against concurrency ({backend})",
                "concurrent clients",
                "requests or submissions per second",
                {
                    name: [(lvl, (_level(by, lvl) or {}).get("rate", math.nan)) for lvl in levels]
                    for name, by in apps.items()
                },
                log_x=True,
            ),
            f"Throughput of each server against concurrency on {backend}",
        )
        latency: dict[str, list[tuple[float, float]]] = {}
        for name in (BARE, POST_ONLY, COMPLETE):
            for key, label in (("p50_ms", "p50"), ("p99_ms", "p99")):
                latency[f"{name.replace('intake ', '')} {label}"] = [
                    (lvl, (_level(apps[name], lvl) or {}).get(key, math.nan)) for lvl in levels
                ]
        self.chart(
            f"intake-{backend}-latency",
            line_chart(
                f"Latency against concurrency ({backend})",
                "concurrent clients",
                "milliseconds (log)",
                latency,
                log_x=True,
                log_y=True,
                limit=("p99 target 50 ms", 50.0) if backend == "sqlite" else None,
            ),
            f"p50 and p99 latency against concurrency on {backend}",
        )
        at32_bare = (_level(apps[BARE], 32) or {}).get("rate")
        at32 = _level(apps[COMPLETE], 32)
        if at32 and at32_bare and backend == "sqlite":
            ratio = at32["rate"] / at32_bare
            self.targets.append(
                (
                    "intake (SQLite) complete submissions / bare Flask, 32 clients",
                    ">= 20% (floor 12%)",
                    f"{ratio:.1%} ({at32['rate']:.0f} vs {at32_bare:.0f}/s)",
                    ratio >= 0.20,
                )
            )
            self.targets.append(
                (
                    "intake (SQLite) p99 of a complete submission, 32 clients",
                    "< 50 ms",
                    f"{at32['p99_ms']:.0f} ms (bare Flask p99 "
                    f"{(_level(apps[BARE], 32) or {}).get('p99_ms', math.nan):.0f} ms)",
                    at32["p99_ms"] < 50,
                )
            )
        failures = sum(
            sum((row.get("failures") or {}).values())
            for name, by in apps.items()
            for row in by.values()
            if isinstance(row, dict)
        )
        self.targets.append(
            (
                f"intake ({backend}): errors; stored = acknowledged",
                "0; equal",
                f"{failures}; {stored['tips']:,} stored, {posted['tips']:,} acknowledged",
                failures == 0 and stored["tips"] == posted["tips"],
            )
        )

    def profile(self) -> None:
        """Summarise where a complete submission spends its time."""
        self.lines += ["## Where the time goes: profile of a complete submission", ""]
        result = self.suite("profile")
        if result is None:
            return
        self.lines += [
            f"cProfile over {result['submissions']} complete submissions (GET form + POST tip) "
            "through Flask's test client on SQLite: "
            f"{result['wall_us_per_submission'] / 1000:.1f} ms per submission under the "
            "profiler. Own time by package:",
            "",
            "| package | µs per submission | share |",
            "|---|---:|---:|",
        ]
        total = sum(result["groups_us"].values()) or 1.0
        for name, micros in result["groups_us"].items():
            self.lines.append(f"| {name} | {micros:,.0f} | {micros / total:.0%} |")
        self.lines += ["", "Functions with the most own time:", "", "| function | calls | own µs |"]
        self.lines.append("|---|---:|---:|")
        for row in result["top_own"][:10]:
            self.lines.append(
                f"| `{row['function'][-90:]}` | {row['calls']:,} | {row['own_us']:,.0f} |"
            )
        self.lines.append("")

    def desk(self, backend: str) -> None:
        """Tabulate and chart inbox and search times against the number of tips."""
        self.lines += [f"## Desk inbox and search on {backend}", ""]
        result = self.suite(f"desk-{backend}")
        if result is None:
            return
        sizes = result["sizes"]
        names = list(sizes[0]["pages"])
        header = " | ".join(f"{s['tips']:,} tips" for s in sizes)
        self.lines += [
            "Server time in process (Flask test client: routing, guard, session, queries, "
            "template), median of the runs; for search the first search after the start (it "
            "opens every tip: 'cold') is shown apart.",
            "",
            f"| page | {header} |",
            "|---|" + "---:|" * len(sizes),
        ]
        for name in names:
            cells = " | ".join(f"{_num(s['pages'][name]['median_ms'])} ms" for s in sizes)
            self.lines.append(f"| {name} | {cells} |")
        cold = names[names.index("search 'niigata' over all")]
        cells = " | ".join(f"{_num(s['pages'][cold]['first_ms'])} ms" for s in sizes)
        self.lines += [f"| {cold}, cold (first search) | {cells} |", ""]
        series = {
            "inbox first page": [
                (s["tips"], s["pages"]["first page (newest 50)"]["median_ms"]) for s in sizes
            ],
            "filter status+topic+language+label": [
                (s["tips"], s["pages"]["filter status+topic+language+label"]["median_ms"])
                for s in sizes
            ],
            "search (warm)": [(s["tips"], s["pages"][cold]["median_ms"]) for s in sizes],
            "search (cold)": [(s["tips"], s["pages"][cold]["first_ms"]) for s in sizes],
        }
        self.chart(
            f"desk-{backend}",
            line_chart(
                f"Desk page time against number of tips ({backend})",
                "tips stored",
                "milliseconds (log)",
                series,
                log_x=True,
                log_y=True,
                limit=("inbox target 100 ms", 100.0),
            ),
            f"Inbox and search time against the number of tips on {backend}",
        )
        by_size = {s["tips"]: s for s in sizes}
        if backend == "sqlite" and 10_000 in by_size:
            warm = by_size[10_000]["pages"][cold]
            self.targets.append(
                (
                    "search over 10,000 tips (SQLite)",
                    "< 300 ms, no plaintext on disk",
                    f"{warm['median_ms']:.0f} ms (cold, first search: {warm['first_ms']:.0f} ms)",
                    warm["median_ms"] < 300,
                )
            )
        largest = max(by_size)
        first = by_size[largest]["pages"]["first page (newest 50)"]["median_ms"]
        self.targets.append(
            (
                f"inbox first page at {largest:,} tips ({backend})",
                "< 100 ms" + ("" if largest >= 100_000 else " (at 100,000)"),
                f"{first:.0f} ms",
                first < 100 if largest >= 100_000 else None,
            )
        )

    def site(self) -> None:
        """Tabulate build times against Pelican's default theme and chart page weights."""
        self.lines += ["## Static site: build and page weight", ""]
        result = self.suite("site")
        if result is None:
            return
        build, reference = min(result["build_s"]), min(result["reference_build_s"])
        weights = result["weights"]
        heaviest = sorted(weights.items(), key=lambda kv: -kv[1]["first_view_gz"])
        html_max = max(w["html_gz"] for w in weights.values())
        self.lines += [
            "| figure | this site | reference | ratio |",
            "|---|---:|---:|---:|",
            f"| cold build of {result['pages']} pages (fastest of {len(result['build_s'])}) | "
            f"{build:.2f} s | {reference:.2f} s (Pelican default theme, same page count) | "
            f"{build / reference:.2f} x |",
            f"| heaviest HTML, gzip | {html_max / KB:.1f} KB | budget 20 KB | |",
            f"| all CSS, gzip | {result['css_gz'] / KB:.1f} KB | budget 15 KB | |",
            f"| JavaScript | {result['js_bytes'] / KB:.1f} KB | budget 0 | |",
            f"| heaviest first view | {heaviest[0][1]['first_view_gz'] / KB:.1f} KB "
            f"(`{heaviest[0][0]}`) | budget 60 KB | |",
            "",
        ]
        self.chart(
            "page-weight",
            bar_chart(
                f"First view per page, gzip (heaviest 20 of {len(weights)})",
                "KB",
                [(page, w["first_view_gz"] / KB) for page, w in heaviest[:20]],
                limit=60,
            ),
            "First-view weight of the 20 heaviest pages against the 60 KB budget",
        )

    def stack(self) -> None:
        """Tabulate the stack's figures: static pages and the intake through nginx."""
        self.lines += ["## Through the local production stack (nginx, TLS, PostgreSQL)", ""]
        result = self.suite("stack")
        if result is None:
            return
        self.lines += [
            result.get("note", ""),
            "",
            "| what | req or submissions/s | p50 ms | p99 ms | failures |",
            "|---|---:|---:|---:|---|",
        ]
        for name, row in result["rows"].items():
            self.lines.append(
                f"| {name} | {_num(row['rate'])} | {_num(row['p50_ms'])} | "
                f"{_num(row['p99_ms'])} | {row.get('failures') or 0} |"
            )
        self.lines.append("")
        rows = result["rows"]
        page, same = rows.get("static page /en/ (project nginx)"), rows.get("same-size file")
        if page and same:
            ratio = page["rate"] / same["rate"]
            self.targets.append(
                (
                    "static page through nginx / nginx serving a same-size file",
                    ">= 80%",
                    f"{ratio:.0%} ({page['rate']:.0f} vs {same['rate']:.0f} req/s)",
                    ratio >= 0.8,
                )
            )
        two = rows.get("intake via nginx, 2 instances (32 clients)")
        one = rows.get("intake, 1 instance direct (32 clients)")
        if two and one:
            self.targets.append(
                (
                    "intake on PostgreSQL: 2 instances behind nginx / 1 instance, 32 clients",
                    "> 100%",
                    f"{two['rate'] / one['rate']:.0%} ({two['rate']:.0f} vs {one['rate']:.0f}/s)",
                    two["rate"] > one["rate"],
                )
            )

    def crypto(self) -> None:
        """Tabulate the cryptography per tip and per sign-in."""
        self.lines += ["## Cryptography per tip and per sign-in", ""]
        result = self.suite("crypto")
        if result is None:
            return
        reply = result.get("reply_key_us")
        self.lines += [
            "| operation | time |",
            "|---|---:|",
            f"| seal a 2 KB tip to the desk key (intake, per post) | {result['seal_us']:,.0f} µs |",
            f"| open a tip (desk, per tip shown or searched cold) | {result['open_us']:,.0f} µs |",
            "| derive a tip's reply key from its code (follow-up) | "
            + (f"{reply:,.0f} µs |" if reply is not None else "not measured |"),
            f"| Argon2id verification (per sign-in) | {result['argon2id_ms']:,.0f} ms |",
            "",
        ]

    def memory(self) -> None:
        """Chart the peak RSS of each process measured."""
        self.lines += ["## Memory per process (peak RSS)", ""]
        bars: list[tuple[str, float]] = []
        for backend in ("sqlite", "postgresql"):
            intake = self.suites.get(f"intake-{backend}", {})
            for name, peak in (intake.get("peak_rss_mb") or {}).items():
                bars.append((f"{name} worker ({backend})", peak))
            desk = self.suites.get(f"desk-{backend}", {})
            if desk.get("peak_rss_mb"):
                largest = max(s["tips"] for s in desk["sizes"])
                bars.append((f"desk, {largest:,} tips ({backend})", desk["peak_rss_mb"]))
        stack = self.suites.get("stack", {})
        now = {f"stack {name}": rss for name, rss in (stack.get("rss_now_mb") or {}).items()}
        for name, peak in (stack.get("peak_rss_mb") or {}).items():
            bars.append((f"stack {name}", peak))
        bars = [(name, peak) for name, peak in bars if math.isfinite(peak)]
        if not bars:
            self.lines += ["_No process was measured._", ""]
            return
        self.lines += [
            "Peak RSS (VmHWM) of each process over the run, the largest worker where there "
            "are several; for the stack also the RSS at the end. A desk worker's peak includes "
            "the 256 MiB Argon2id (libsodium MODERATE) of unlocking the desk key at its start, "
            "memory given back right after.",
            "",
            "| process | peak RSS | RSS at the end |",
            "|---|---:|---:|",
        ]
        self.lines += [
            f"| {name} | {peak:.0f} MB | {_num(now.get(name), 0)} |" for name, peak in bars
        ]
        self.lines.append("")
        self.chart(
            "memory",
            bar_chart("Peak RSS per process", "MB", bars, limit=200),
            "Peak resident memory of each process against the 200 MB budget",
        )
        worst = max(bars, key=lambda bar: bar[1])
        self.targets.append(
            (
                "each process's peak RSS",
                "< 200 MB",
                f"largest {worst[1]:.0f} MB ({worst[0]})",
                worst[1] < 200,
            )
        )

    def follow_up(self) -> None:
        """Report the tipster's follow-up lookup and tip page with three replies."""
        self.lines += ["## Follow-up lookup with three replies", ""]
        result = self.suite("follow-up")
        if result is None:
            self.targets.append(("follow-up lookup, three replies", "per request", "-", None))
            return
        lookup, page, form = result["lookup_ms"], result["tip_page_ms"], result["form_page_ms"]
        self.lines += [
            "In process (Flask test client, SQLite), median of "
            f"{result['runs']} requests each; the reference is the empty form in the same process.",
            "",
            "| request | median | worst | / empty form |",
            "|---|---:|---:|---:|",
            f"| lookup: POST of the receipt code (HMAC, one query, key derivation, session) | "
            f"{lookup['median_ms']:.1f} ms | {lookup['max_ms']:.1f} ms | "
            f"{lookup['median_ms'] / form['median_ms']:.1f} x |",
            f"| tip page with three replies opened | {page['median_ms']:.1f} ms | "
            f"{page['max_ms']:.1f} ms | {page['median_ms'] / form['median_ms']:.1f} x |",
            *(
                f"| {label} | {result[key]['median_ms']:.1f} ms | {result[key]['max_ms']:.1f} ms | "
                f"{result[key]['median_ms'] / form['median_ms']:.1f} x |"
                for key, label in (
                    ("miss_ms", "lookup of an unknown code"),
                    ("malformed_ms", "lookup of a malformed code"),
                )
                if key in result
            ),
            f"| empty form (reference) | {form['median_ms']:.1f} ms | {form['max_ms']:.1f} ms | "
            "1.0 x |",
            "",
        ]
        self.targets.append(
            (
                "follow-up: lookup + tip page with three replies, per request",
                "measured",
                f"{lookup['median_ms']:.0f} ms + {page['median_ms']:.0f} ms "
                f"(empty form {form['median_ms']:.0f} ms)",
                None,
            )
        )


def write(figures: dict[str, Any], folder: Path) -> str:
    """Write the charts into folder and return the Markdown report."""
    report = Report(figures, folder)
    for backend in ("sqlite", "postgresql"):
        report.intake(backend)
    report.profile()
    for backend in ("sqlite", "postgresql"):
        report.desk(backend)
    report.stack()
    report.site()
    report.crypto()
    report.memory()
    report.follow_up()
    before, after = figures["machine_before"], figures["machine_after"]
    load = "/".join(f"{value:.1f}" for value in before["load_average"])
    load_after = "/".join(f"{value:.1f}" for value in after["load_average"])
    head = [
        f"# Benchmark report {figures['stamp']}" + (" (QUICK)" if figures["quick"] else ""),
        "",
        f"Commit `{before['commit']}`, {before['cpus']} CPUs, Python {before['python']}, "
        f"{before['system']}. Load average (1/5/15 min) {load} at the start, {load_after} at "
        "the end. The machine is shared: absolute figures drift with the load, so each figure "
        "stands beside its reference measured in the same run, and the ratios are what "
        "compare between runs. Skipped: " + (", ".join(figures["skipped"]) or "nothing") + ".",
        "",
        "## Targets",
        "",
        "| target | goal | measured (same run) | |",
        "|---|---|---|---|",
        *(
            f"| {name} | {goal} | {value} | {_verdict(ok)} |"
            for name, goal, value, ok in report.targets
        ),
        "",
    ]
    return "\n".join(head + report.lines + [REPRODUCE])


REPRODUCE = """## Reproduce

`make bench` (or `make bench QUICK=1`) runs `bench/run.py`, which runs each suite below and
writes `bench/results/<timestamp>.json`, `<timestamp>.md` and `latest.md` with the charts.
Each script also runs on its own (`.venv/bin/python bench/<script>.py --help`).

- `intake_bench.py`: the load generator. N asyncio clients in one process, each opening a
  new loopback connection per request (HTTP/1.1, `Connection: close`), looping for a fixed
  time after one second of warm-up (plus two seconds per server before the first level).
  Servers: gunicorn, sync workers, `--workers 4 --backlog 2048`, each server started alone.
  The tip is 2,000 characters of text plus three short fields as multipart/form-data.
- `review_bench.py`: fills a fresh database (SQLite file or a throwaway PostgreSQL
  database, VACUUM ANALYZE after the load), signs a staff member in and times each page with
  Flask's test client; a separate process, so its peak RSS is the desk's.
- `profile_bench.py`: cProfile over complete submissions in process.
- `site_budget.py`: cold builds of the site and of Pelican's default theme on the same
  number of plain pages; gzip level 9 weights of every page and of its first view.
- `crypto_bench.py`: seal, open, Argon2id, in process.
- `stack_bench.py`: starts the local stack (`make stack`, under the stack lock), then the
  same load generator over TLS through nginx, and a plain nginx serving a same-size file.
"""
