"""Benchmark the tip intake under gunicorn (SQLite or PostgreSQL), beside its references.

The load generator: N asyncio clients in one process, each opening a new loopback TCP
connection per request (HTTP/1.1, `Connection: close`, as a Tor Browser circuit mostly
does), looping for a bounded time after one second of warm-up. One "complete submission"
= GET the form (for its CSRF token and cookie) + POST a 2 KB tip as multipart/form-data.
Four servers under the same gunicorn settings (sync workers, as deploy/gunicorn.conf.py
explains, --workers W, --backlog 2048):
- bare Flask, posted the same body (the ceiling any Flask app can reach here);
- a plain Flask-WTF + SQLAlchemy form storing the text in clear (what privacy costs);
- the intake, POST only (one form fetch per client, then posts reusing its token);
- the intake, complete submissions.
Every 2xx post must match exactly one stored row.

    .venv/bin/python bench/intake_bench.py [--workers 4] [--seconds 8] [--levels 8,32,64]
        [--backend sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask, render_template_string
from flask_wtf import FlaskForm
from sqlalchemy import Integer, String, Text, create_engine, text
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
from wtforms import RadioField, SelectChoice, TextAreaField
from wtforms.validators import DataRequired, Length

ROOT = Path(__file__).resolve().parent.parent
TOKEN = re.compile(rb'name="csrf_token" type="hidden" value="([^"]+)"')
TIP_TEXT = ("I saw her near the harbour in the spring of 1983. " * 42)[:2000]
PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


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


async def exchange(
    port: int, head: str, body: bytes = b"", tls: ssl.SSLContext | None = None
) -> tuple[int, bytes, bytes]:
    """Send one HTTP/1.1 request (connection closes after it) and return status, headers, body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=tls)
    try:
        writer.write(head.encode("latin-1") + body)
        await writer.drain()
        raw = await reader.read()
    finally:
        writer.close()
    header_block, _, payload = raw.partition(b"\r\n\r\n")
    status = int(header_block.split(b" ", 2)[1]) if header_block else 0
    return status, header_block, payload


def multipart_body(token: str, boundary: str) -> bytes:
    """Encode a 2 KB tip as a browser would (a fresh boundary per post, as browsers do)."""
    values = {"csrf_token": token, "topic": "sighting", "message": TIP_TEXT}
    values.update(when_where="Niigata, 1977", how_known="I saw it myself", contact="")
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in values.items()
    ]
    return ("".join(parts) + f"--{boundary}--\r\n").encode("utf-8")


def post_head(port: int, path: str, length: int, cookie: str, boundary: str, tls: bool) -> str:
    """Build the head of a multipart post (with the Referer a browser sends over HTTPS)."""
    origin = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n"
        f"Referer: {origin}{path}\r\nOrigin: {origin}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {length}\r\n" + (f"Cookie: {cookie}\r\n" if cookie else "") + "\r\n"
    )


async def fetch_form(port: int, tls: ssl.SSLContext | None) -> tuple[str, str] | int:
    """GET the form and return (token, cookie), or the status when that failed."""
    get = f"GET /form/en/ HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    status, headers, payload = await exchange(port, get, tls=tls)
    found = TOKEN.search(payload)
    cookie_line = re.search(rb"Set-Cookie: ([^;\r\n]+)", headers, re.IGNORECASE)
    if status != 200 or not found or not cookie_line:
        return status
    return found.group(1).decode(), cookie_line.group(1).decode()


async def submission(
    port: int,
    tally: Tally,
    with_form: bool,
    reuse: dict[str, tuple[str, str]] | None = None,
    tls: ssl.SSLContext | None = None,
) -> None:
    """Fetch the form (unless bare or reusing a token), then post the tip; record it."""
    started = time.perf_counter()
    cookie, token = "", "x" * 91
    if reuse is not None and "form" in reuse:
        token, cookie = reuse["form"]
    elif with_form:
        fetched = await fetch_form(port, tls)
        if isinstance(fetched, int):
            tally.fail(f"GET {fetched}")
            return
        token, cookie = fetched
        if reuse is not None:
            reuse["form"] = fetched
            started = time.perf_counter()  # POST-only: the one form fetch is not counted
    boundary = f"----benchboundary{secrets.token_hex(8)}"
    body = multipart_body(token, boundary)
    posted = time.perf_counter()
    path = "/form/en/" if with_form else "/"
    head = post_head(port, path, len(body), cookie, boundary, tls is not None)
    status, _, _ = await exchange(port, head, body, tls)
    finished = time.perf_counter()
    if 200 <= status < 300:
        tally.posts_2xx += 1
        tally.done += 1
        tally.latencies.append(finished - started)
        tally.post_latencies.append(finished - posted)
    else:
        tally.fail(f"POST {status}")


async def run_level(
    port: int,
    clients: int,
    seconds: float,
    with_form: bool,
    post_only: bool = False,
    tls: ssl.SSLContext | None = None,
) -> Tally:
    """Run `clients` concurrent loops for a bounded time (one second of warm-up first)."""
    warmup = Tally()
    tally = Tally()
    stop_warmup = time.perf_counter() + 1.0
    deadline = stop_warmup + seconds

    async def client() -> None:
        reuse: dict[str, tuple[str, str]] | None = {} if post_only else None
        while time.perf_counter() < deadline:
            target = warmup if time.perf_counter() < stop_warmup else tally
            try:
                await submission(port, target, with_form, reuse, tls)
            except OSError as error:
                target.fail(type(error).__name__)

    await asyncio.gather(*(client() for _ in range(clients)))
    tally.posts_2xx += warmup.posts_2xx  # every stored row must be accounted for
    for reason, count in warmup.failures.items():
        tally.failures[f"warm-up {reason}"] = count
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


def peak_rss_mb(process: subprocess.Popen[bytes]) -> float:
    """Return the highest peak RSS (VmHWM) among gunicorn's workers, in MB."""
    return max(worker_memory(process.pid, "VmHWM"), default=float("nan"))


def worker_memory(parent: int, field_name: str) -> list[float]:
    """Return a /proc status figure (VmHWM, VmRSS) of each child of a process, in MB."""
    peaks = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(parent) and field_name in fields:
            peaks.append(int(fields[field_name].split()[0]) / 1024)
    return peaks


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


def flush_spool(env: dict[str, str]) -> None:
    """Run the batch on what the intake spooled (`form-service spool flush`)."""
    from form_service.db import make_engine
    from form_service.intake import spool
    from form_service.settings import Settings

    settings = Settings.from_env(env)
    engine = make_engine(settings)
    try:
        spool.flush(settings.spool_path, engine)
    finally:
        engine.dispose()


def count_rows(url: str, table: str) -> int:
    """Count the rows a server stored."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            query = text(f"SELECT count(*) FROM {table}")  # noqa: S608 - a fixed table name
            return int(connection.execute(query).scalar_one())
    finally:
        engine.dispose()


@contextmanager
def database(backend: str, scratch: Path, name: str) -> Iterator[str]:
    """Yield a fresh database URL: a file in scratch, or a throwaway PostgreSQL database."""
    if backend == "sqlite":
        yield f"sqlite:///{scratch / (name + '.sqlite3')}"
        return
    import psycopg

    database_name = f"bench_{name}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{database_name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{database_name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database_name}" WITH (FORCE)')


def prepare(scratch: Path, intake_url: str, plain_url: str) -> dict[str, str]:
    """Create the databases and the environment shared by the servers."""
    from nacl.public import PrivateKey

    from form_service import migrate
    from form_service.settings import Settings

    env = dict(os.environ)
    env.update(
        BENCH_SECRET=base64.b64encode(os.urandom(32)).decode(),
        BENCH_PLAIN_DB=plain_url,
        FORM_SERVICE_SECRET_KEY=base64.b64encode(os.urandom(32)).decode(),
        FORM_SERVICE_RECEIPT_PEPPER=base64.b64encode(os.urandom(32)).decode(),
        FORM_SERVICE_DESK_PUBLIC_KEY=base64.b64encode(
            bytes(PrivateKey.generate().public_key)
        ).decode(),
        FORM_SERVICE_DATABASE_URL=intake_url,
        FORM_SERVICE_INSTANCE_DIR=str(scratch),
        FORM_SERVICE_COOKIE_SECURE="false",
        # All clients share one address: keep the limiter working but never refusing.
        FORM_SERVICE_RATELIMIT_SESSION="1000000 per hour",
        FORM_SERVICE_RATELIMIT_GLOBAL="1000000 per hour",
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


APPS = (
    # name, factory, fetches the form, POST only
    ("bare Flask (POST only)", "bare_app", False, False),
    ("plain Flask-WTF + SQLAlchemy", "plain_app", True, False),
    ("intake POST only", "intake_app", True, True),
    ("intake complete submission", "intake_app", True, False),
)


def summary(tally: Tally, seconds: float) -> dict[str, Any]:
    """Reduce one level's tally to rates and percentiles."""
    return {
        "rate": tally.done / seconds,
        "p50_ms": percentile(tally.latencies, 0.5),
        "p99_ms": percentile(tally.latencies, 0.99),
        "post_p50_ms": percentile(tally.post_latencies, 0.5),
        "post_p99_ms": percentile(tally.post_latencies, 0.99),
        "failures": dict(tally.failures),
        "posts_2xx": tally.posts_2xx,
    }


def measure(
    backend: str,
    workers: int,
    seconds: float,
    levels: list[int],
    progress: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run every app at every level on one backend and return the figures."""
    apps: dict[str, dict[int, dict[str, Any]]] = {}
    rss: dict[str, float] = {}
    with (
        tempfile.TemporaryDirectory(prefix="intake-bench-") as folder,
        database(backend, Path(folder), "intake") as intake_url,
        database(backend, Path(folder), "plain") as plain_url,
    ):
        env = prepare(Path(folder), intake_url, plain_url)
        for name, factory, with_form, post_only in APPS:
            process, port = start(factory, env, workers)
            try:
                # Until every worker has imported the app and served a first request, the
                # first level would measure gunicorn booting: warm up, uncounted but stored.
                progress(f"{backend}: {name}, warming up")
                warm = asyncio.run(run_level(port, 2 * workers, 2.0, with_form, post_only))
                apps[name] = {"warm-up": summary(warm, 2.0)}
                for level in levels:
                    progress(f"{backend}: {name}, {level} clients")
                    tally = asyncio.run(run_level(port, level, seconds, with_form, post_only))
                    apps[name][level] = summary(tally, seconds)
                rss[name] = peak_rss_mb(process)
            finally:
                stop(process)
        posted = {
            table: sum(
                figures["posts_2xx"]
                for name, by_level in apps.items()
                if (name.startswith("intake") == (table == "tips")) and not name.startswith("bare")
                for figures in by_level.values()
            )
            for table in ("tips", "messages")
        }
        # Tips wait in the spool until the next batch; store them as it would, then count.
        flush_spool(env)
        stored = {
            "tips": count_rows(intake_url, "tips"),
            "messages": count_rows(plain_url, "messages"),
        }
    return {
        "backend": backend,
        "workers": workers,
        "seconds": seconds,
        "levels": levels,
        "apps": apps,
        "peak_rss_mb": rss,
        "posted_2xx": posted,
        "stored": stored,
    }


def main() -> None:
    """Run every app at every level and print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--levels", default="8,32,64")
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    options = parser.parse_args()
    levels = [int(level) for level in options.levels.split(",")]
    figures = measure(
        options.backend,
        options.workers,
        options.seconds,
        levels,
        lambda m: print(m, file=sys.stderr),
    )
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
