"""Benchmark the review desk's inbox and search at several inbox sizes; print JSON.

Budgets: inbox first page at 100,000 tips under 100 ms of server time; search over 10,000
tips under 300 ms (once this process has opened them: the first search after a start opens
every candidate and is reported apart, as "cold").

Server time is measured in process with Flask's test client (routing, guard, session
lookup, queries, template rendering; no network). The process reports its own peak RSS.

    .venv/bin/python bench/review_bench.py [--backend sqlite|postgresql] [--sizes 1000,10000]
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import resource
import secrets
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from flask.testing import FlaskClient
from nacl.public import PrivateKey
from sqlalchemy import insert
from sqlalchemy.orm import Session

from form_service import migrate
from form_service.clock import SYSTEM_CLOCK
from form_service.crypto import seal_tip
from form_service.frame import STATE_KEY
from form_service.models import (
    SessionStage,
    StaffRole,
    Tip,
    TipLabel,
    TipStatus,
    TipTopic,
    TipTriage,
)
from form_service.review import create_app
from form_service.review.auth import accounts, sessions
from form_service.review.guard import TOKEN_KEY
from form_service.settings import ReviewSettings

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
WORDS = [
    "van",
    "harbour",
    "night",
    "Niigata",
    "school",
    "beach",
    "boat",
    "letter",
    "photo",
    "witness",
    "1977",
    "1978",
    "uncle",
    "market",
    "radio",
    "border",
    "train",
    "ferry",
]
STATUSES = list(TipStatus)
TOPICS = list(TipTopic)


@contextmanager
def database(backend: str) -> Iterator[str]:
    """Yield the URL of a fresh, empty database for one run, and remove it afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'bench.sqlite3'}"
        return
    name = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fill(db: Session, key: PrivateKey, count: int, distinct: int) -> None:
    """Store `count` tips (the first `distinct` sealed separately), with triage and labels."""
    sealed = []
    for number in range(min(count, distinct)):
        words = " ".join(WORDS[(number * 7 + i) % len(WORDS)] for i in range(40))
        sealed.append(
            seal_tip(
                key.public_key,
                {
                    "message": f"Tip {number}: {words}",
                    "when_where": "",
                    "how_known": "",
                    "contact": "",
                },
                (),
            )
        )
    today = dt.date(2026, 11, 27)
    batch: list[dict[str, object]] = []
    for number in range(count):
        box = sealed[number % len(sealed)]
        batch.append(
            {
                "received_on": today - dt.timedelta(days=number * 1500 // count),
                "language": ("en", "ja", "ko")[number % 3],
                "topic": TOPICS[number % 4],
                "status": STATUSES[number % 5],
                "sealed_key": box.sealed_key,
                "ciphertext": box.ciphertext,
                "receipt_hash": secrets.token_bytes(32),
            }
        )
        if len(batch) == 5000:
            db.execute(insert(Tip), batch)
            batch = []
    if batch:
        db.execute(insert(Tip), batch)
    db.execute(insert(TipTriage), [{"tip_id": n, "assignee_id": 1} for n in range(1, count, 10)])
    db.execute(insert(TipLabel), [{"tip_id": n, "label": "urgent"} for n in range(1, count, 50)])
    db.commit()


def timed(client: FlaskClient, path: str, runs: int) -> dict[str, float]:
    """Return the first, median and worst server time of GET path, in milliseconds."""
    start = time.perf_counter()
    assert client.get(path).status_code == 200
    first = (time.perf_counter() - start) * 1000
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    return {"first_ms": first, "median_ms": statistics.median(samples), "max_ms": max(samples)}


def run(backend: str, count: int, runs: int) -> dict[str, object]:
    """Fill a database with `count` tips, sign a staff member in, time inbox and search."""
    key = PrivateKey.generate()
    with database(backend) as url:
        settings = ReviewSettings(
            secret_key="r" * 40,
            database_url=url,
            desk_public_key=base64.b64encode(bytes(key.public_key)).decode("ascii"),
            cookie_secure=False,
        )
        migrate.upgrade(settings)
        app = create_app(settings, key)
        factory = app.extensions[STATE_KEY].session_factory
        with factory() as db:
            staff = accounts.add_staff(
                db, "bench@example.org", StaffRole.ADMIN, "tangerine ocelot fjord quiver", "bench"
            )
            staff.totp_confirmed = True
            token = sessions.start_session(db, staff, SessionStage.SIGNED_IN, SYSTEM_CLOCK.now())
            db.commit()
            started = time.perf_counter()
            fill(db, key, count, distinct=2_000)
            filled = time.perf_counter() - started
        if backend == "postgresql":
            # What autovacuum does soon after a bulk load: statistics and the visibility
            # map (index-only scans); without it the first minutes are slower.
            with psycopg.connect(
                url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True
            ) as connection:
                connection.execute("VACUUM ANALYZE")
        client = app.test_client()
        with client.session_transaction() as cookie:
            cookie[TOKEN_KEY] = token
        pages = {name: timed(client, path, runs) for name, path in INBOX_PAGES + SEARCH_PAGES}
        factory.kw["bind"].dispose()
    return {"tips": count, "fill_s": filled, "pages": pages}


INBOX_PAGES = [
    ("first page (newest 50)", "/"),
    ("page 1000 (deep offset)", "/?page=1000"),
    ("filter status=triaged", "/?status=triaged"),
    ("filter topic+language", "/?topic=person&language=ja"),
    ("filter date range (90 days)", "/?received_from=2026-08-29&received_to=2026-11-27"),
    ("filter assignee", "/?assignee=1"),
    ("filter label", "/?label=urgent"),
    ("filter status+topic+language+label", "/?status=new&topic=person&language=en&label=urgent"),
    ("dashboard (counts, 12-week chart)", "/dashboard"),
]
SEARCH_PAGES = [
    ("search 'niigata' over all", "/?search=niigata"),
    ("search rare 'tip 1999:' over all", "/?search=tip+1999%3A"),
    ("search with status filter (1/5 of tips)", "/?search=niigata&status=new"),
]


def main(argv: list[str] | None = None) -> None:
    """Parse the options, run every size and print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--output", type=Path, help="write the JSON here instead of stdout")
    options = parser.parse_args(argv)
    sizes = [int(size) for size in options.sizes.split(",")]
    results = [run(options.backend, size, options.runs) for size in sizes]
    # ru_maxrss is in kilobytes on Linux: this process held the desk app and the largest inbox.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures = {"backend": options.backend, "sizes": results, "peak_rss_mb": peak}
    text = json.dumps(figures, indent=2)
    if options.output:
        options.output.write_text(text)
    else:
        print(text)


if __name__ == "__main__":
    main()
