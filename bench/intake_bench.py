"""Benchmark the tip intake under gunicorn on SQLite, beside two references.

Each client of the intake (and of the plain form) fetches the form for its CSRF token
and cookie, then posts a 2 KB tip as multipart/form-data: one "complete submission".
The bare Flask app is only posted the same body. All three run under the same gunicorn
settings (sync workers, as deploy/gunicorn.conf.py explains), on loopback only, for a bounded
time.

    .venv/bin/python bench/intake_bench.py [--workers 4] [--seconds 8] [--levels 8,32,64]

Prints submissions (or requests) per second and p50/p99 latency per level, the ratios
against the targets, and checks that every 2xx post is matched by exactly one stored row.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask, render_template_string
from flask_wtf import FlaskForm
from sqlalchemy import Integer, String, Text, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from wtforms import RadioField, SelectChoice, TextAreaField
from wtforms.validators import DataRequired, Length

ROOT = Path(__file__).resolve().parent.parent
TOKEN = re.compile(rb'name="csrf_token" type="hidden" value="([^"]+)"')
BOUNDARY = "----benchboundary7MA4YWxkTrZu0gW"
TIP_TEXT = ("I saw her near the harbour in the spring of 1983. " * 42)[:2000]
TARGETS = {"vs_bare": 0.12, "vs_plain": 0.85, "p99_ms_at_32": 100.0}


# --- The apps under test (gunicorn imports these factories) ---------------------------


def bare_app() -> Any:
    """Build a Flask app that answers a post without doing anything."""
    app = Flask("bare")

    @app.post("/")
    def accept() -> str:
        """Answer at once."""
        return "ok"

    return app


class PlainBase(DeclarativeBase):
    """Tables of the plain reference form."""


class PlainMessage(PlainBase):
    """A message stored in clear, as a plain form would."""

    __tablename__ = "messages"
    message_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    when_where: Mapped[str] = mapped_column(Text)
    how_known: Mapped[str] = mapped_column(Text)
    contact: Mapped[str] = mapped_column(Text)


class PlainForm(FlaskForm):  # type: ignore[misc]
    """The same fields as the tip form, with stock validators."""

    topic = RadioField("Topic", choices=[SelectChoice(v) for v in ("person", "sighting", "other")])
    message = TextAreaField("Message", validators=[DataRequired(), Length(max=20000)])
    when_where = TextAreaField("When and where")
    how_known = TextAreaField("How you know")
    contact = TextAreaField("Contact")


PLAIN_PAGE = """<!DOCTYPE html><html lang="en"><head><title>Form</title></head><body>
{% if sent %}<p>Thank you.</p>{% else %}<form method="post" enctype="multipart/form-data">
{{ form.csrf_token }}{% for f in [form.topic, form.message, form.when_where,
form.how_known, form.contact] %}<p>{{ f.label }} {{ f() }}</p>{% endfor %}
<button>Send</button></form>{% endif %}</body></html>"""


def plain_app() -> Any:
    """Build a plain Flask-WTF + SQLAlchemy form: no encryption, no privacy measures."""
    app = Flask("plain")
    app.config.update(SECRET_KEY=os.environ["BENCH_SECRET"], MAX_CONTENT_LENGTH=30 * 2**20)
    engine = create_engine(os.environ["BENCH_PLAIN_DB"])

    @app.route("/form/en/", methods=["GET", "POST"])
    def new_message() -> Any:
        """Show the form or store a message in clear."""
        form = PlainForm()
        if form.validate_on_submit():
            with Session(engine) as session, session.begin():
                session.add(PlainMessage(**{name: getattr(form, name).data for name in FIELDS}))
            return render_template_string(PLAIN_PAGE, sent=True)
        status = 400 if form.errors else 200
        return render_template_string(PLAIN_PAGE, form=form, sent=False), status

    return app


def intake_app() -> Any:
    """Build the real intake app from the environment."""
    from form_service.intake import create_app

    return create_app()


FIELDS = ("topic", "message", "when_where", "how_known", "contact")


# --- The load generator -----------------------------------------------------------------


@dataclass
class Tally:
    """What one load level measured."""

    done: int = 0
    posts_2xx: int = 0
    failures: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    post_latencies: list[float] = field(default_factory=list)

    def fail(self, reason: str) -> None:
        """Count one failure by its reason."""
        self.failures[reason] = self.failures.get(reason, 0) + 1


async def exchange(port: int, head: str, body: bytes = b"") -> tuple[int, bytes, bytes]:
    """Send one HTTP/1.1 request (connection closes after it) and return status, headers, body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(head.encode("latin-1") + body)
        await writer.drain()
        raw = await reader.read()
    finally:
        writer.close()
    header_block, _, payload = raw.partition(b"\r\n\r\n")
    status = int(header_block.split(b" ", 2)[1]) if header_block else 0
    return status, header_block, payload


def multipart_body(token: str) -> bytes:
    """Encode a 2 KB tip as a browser would."""
    values = {"csrf_token": token, "topic": "sighting", "message": TIP_TEXT}
    values.update(when_where="Niigata, 1977", how_known="I saw it myself", contact="")
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in values.items()
    ]
    return ("".join(parts) + f"--{BOUNDARY}--\r\n").encode("utf-8")


def post_head(port: int, path: str, length: int, cookie: str) -> str:
    """Build the head of a multipart post."""
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {length}\r\n" + (f"Cookie: {cookie}\r\n" if cookie else "") + "\r\n"
    )


async def submission(port: int, tally: Tally, with_form: bool) -> None:
    """Fetch the form (unless bare), then post the tip; record the outcome."""
    started = time.perf_counter()
    cookie, token = "", "x" * 91
    if with_form:
        get = f"GET /form/en/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
        status, headers, payload = await exchange(port, get)
        found = TOKEN.search(payload)
        cookie_line = re.search(rb"Set-Cookie: ([^;\r\n]+)", headers, re.IGNORECASE)
        if status != 200 or not found or not cookie_line:
            tally.fail(f"GET {status}")
            return
        token, cookie = found.group(1).decode(), cookie_line.group(1).decode()
    body = multipart_body(token)
    posted = time.perf_counter()
    path = "/form/en/" if with_form else "/"
    status, _, _ = await exchange(port, post_head(port, path, len(body), cookie), body)
    finished = time.perf_counter()
    if 200 <= status < 300:
        tally.posts_2xx += 1
        tally.done += 1
        tally.latencies.append(finished - started)
        tally.post_latencies.append(finished - posted)
    else:
        tally.fail(f"POST {status}")


async def run_level(port: int, clients: int, seconds: float, with_form: bool) -> Tally:
    """Run `clients` concurrent loops for a bounded time (one second of warm-up first)."""
    warmup = Tally()
    tally = Tally()
    stop_warmup = time.perf_counter() + 1.0
    deadline = stop_warmup + seconds

    async def client() -> None:
        while time.perf_counter() < deadline:
            target = warmup if time.perf_counter() < stop_warmup else tally
            try:
                await submission(port, target, with_form)
            except OSError as error:
                target.fail(type(error).__name__)

    await asyncio.gather(*(client() for _ in range(clients)))
    tally.posts_2xx += warmup.posts_2xx  # every stored row must be accounted for
    return tally


# --- Servers and the report ---------------------------------------------------------------


def free_port() -> int:
    """Return a free loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(factory: str, env: dict[str, str], workers: int) -> tuple[subprocess.Popen[bytes], int]:
    """Start gunicorn with sync workers on a loopback port and wait until it answers."""
    port = free_port()
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        f"--workers={workers}",
        "--worker-class=sync",
        f"--bind=127.0.0.1:{port}",
        "--backlog=2048",
        "--log-level=warning",
        f"--pythonpath={ROOT / 'bench'},{ROOT}",
        f"intake_bench:{factory}()",
    ]
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            time.sleep(0.5)  # let every worker boot
            return process, port
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit(f"{factory} did not start")


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop gunicorn and wait for it."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def percentile(values: list[float], fraction: float) -> float:
    """Return a percentile in milliseconds (nearest rank)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[rank] * 1000


def count_rows(database: Path, table: str) -> int:
    """Count the rows a server stored."""
    with sqlite3.connect(database) as connection:
        return int(connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0])  # noqa: S608


def prepare(scratch: Path) -> dict[str, str]:
    """Create the databases and the environment shared by the three servers."""
    from nacl.public import PrivateKey

    from form_service import migrate
    from form_service.settings import Settings

    env = dict(os.environ)
    env.update(
        BENCH_SECRET=base64.b64encode(os.urandom(32)).decode(),
        BENCH_PLAIN_DB=f"sqlite:///{scratch / 'plain.sqlite3'}",
        FORM_SERVICE_SECRET_KEY=base64.b64encode(os.urandom(32)).decode(),
        FORM_SERVICE_RECEIPT_PEPPER=base64.b64encode(os.urandom(32)).decode(),
        FORM_SERVICE_DESK_PUBLIC_KEY=base64.b64encode(
            bytes(PrivateKey.generate().public_key)
        ).decode(),
        FORM_SERVICE_DATABASE_URL=f"sqlite:///{scratch / 'intake.sqlite3'}",
        FORM_SERVICE_INSTANCE_DIR=str(scratch),
        FORM_SERVICE_COOKIE_SECURE="false",
        # All clients share one address: keep the limiter working but never refusing.
        FORM_SERVICE_RATELIMIT_SUBMIT="1000000 per hour",
        TMPDIR=str(scratch),
    )
    migrate.upgrade(Settings.from_env(env))
    create_plain_table(env["BENCH_PLAIN_DB"])
    return env


def create_plain_table(url: str) -> None:
    """Create the plain form's table."""
    engine = create_engine(url)
    PlainBase.metadata.create_all(engine)
    engine.dispose()


def main() -> None:
    """Run every app at every level and print the figures and the verdict."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--levels", default="8,32,64")
    options = parser.parse_args()
    levels = [int(level) for level in options.levels.split(",")]

    with tempfile.TemporaryDirectory(prefix="intake-bench-") as folder:
        scratch = Path(folder)
        env = prepare(scratch)
        results: dict[str, dict[int, Tally]] = {}
        for name, factory, with_form in (
            ("bare Flask (POST only)", "bare_app", False),
            ("plain Flask-WTF + SQLAlchemy", "plain_app", True),
            ("intake (sealed, private)", "intake_app", True),
        ):
            process, port = start(factory, env, options.workers)
            try:
                results[name] = {
                    level: asyncio.run(run_level(port, level, options.seconds, with_form))
                    for level in levels
                }
            finally:
                stop(process)
        stored = {
            "plain Flask-WTF + SQLAlchemy": count_rows(scratch / "plain.sqlite3", "messages"),
            "intake (sealed, private)": count_rows(scratch / "intake.sqlite3", "tips"),
        }
        report(results, stored, options, levels)


def report(
    results: dict[str, dict[int, Tally]], stored: dict[str, int], options: Any, levels: list[int]
) -> None:
    """Print the table, the ratios and the checks."""
    print(
        f"\ngunicorn sync workers={options.workers}, {options.seconds:.0f} s per level "
        f"(+1 s warm-up), SQLite, {os.cpu_count()} CPUs, loopback\n"
    )
    print(
        f"{'app':32} {'clients':>7} {'rate/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'POST p50':>9} {'POST p99':>9} {'failures'}"
    )
    for name, by_level in results.items():
        for level, tally in by_level.items():
            rate = tally.done / options.seconds
            print(
                f"{name:32} {level:>7} {rate:>9.1f} {percentile(tally.latencies, 0.5):>8.1f} "
                f"{percentile(tally.latencies, 0.99):>8.1f} "
                f"{percentile(tally.post_latencies, 0.5):>9.1f} "
                f"{percentile(tally.post_latencies, 0.99):>9.1f} {tally.failures or '-'}"
            )
    bare, plain, intake = (results[name] for name in results)
    print("\nrate/s: complete submissions (GET form + POST tip); bare: POSTs only.")
    ok = True
    for level in levels:
        vs_bare = intake[level].done / max(bare[level].done, 1)
        vs_plain = intake[level].done / max(plain[level].done, 1)
        ok &= vs_bare >= TARGETS["vs_bare"] and vs_plain >= TARGETS["vs_plain"]
        print(
            f"  {level:>3} clients: intake = {vs_bare:6.1%} of bare (target >= 12%), "
            f"{vs_plain:6.1%} of plain (target >= 85%)"
        )
    if 32 in intake:
        p99 = percentile(intake[32].latencies, 0.99)
        ok &= p99 < TARGETS["p99_ms_at_32"]
        print(f"  intake p99 at 32 clients: {p99:.1f} ms for the whole submission (target < 100)")
    for name, rows in stored.items():
        posted = sum(tally.posts_2xx for tally in results[name].values())
        ok &= posted == rows
        print(
            f"  {name}: {posted} posts answered 2xx, {rows} rows stored "
            f"({'match' if posted == rows else 'MISMATCH'})"
        )
    print("\nverdict:", "all targets met" if ok else "TARGETS MISSED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
