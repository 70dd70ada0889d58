"""Benchmark the review desk's inbox and search, and print the figures.

Budgets (issue "staff review desk"):
- inbox with 100,000 tips: first page and a filtered page under 100 ms of server time;
- search over 10,000 tips: measured and reported.

Server time is measured in process with Flask's test client (routing, guard, session
lookup, queries, template rendering; no network). Run:

    .venv/bin/python bench/review_bench.py [--backend sqlite|postgresql|both] [--tips 100000]
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
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


def timed(client: FlaskClient, path: str, runs: int) -> tuple[float, float]:
    """Return the median and worst server time of GET path, in milliseconds."""
    assert client.get(path).status_code == 200
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    return statistics.median(samples), max(samples)


def run(backend: str, tips: int, search_tips: int, runs: int) -> None:
    """Fill a database, sign a staff member in, and time the inbox and search pages."""
    key = PrivateKey.generate()
    for count, label in ((tips, "inbox"), (search_tips, "search")):
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
                    db,
                    "bench@example.org",
                    StaffRole.ADMIN,
                    "tangerine ocelot fjord quiver",
                    "bench",
                )
                staff.totp_confirmed = True
                token = sessions.start_session(
                    db, staff, SessionStage.SIGNED_IN, SYSTEM_CLOCK.now()
                )
                db.commit()
                started = time.perf_counter()
                fill(db, key, count, distinct=10_000)
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
            print(f"\n[{backend}] {count:,} tips stored in {filled:.1f} s")
            pages = INBOX_PAGES if label == "inbox" else SEARCH_PAGES
            for name, path in pages:
                median, worst = timed(client, path, runs if label == "inbox" else 5)
                print(f"  {name:<44} median {median:8.1f} ms   max {worst:8.1f} ms")
            factory.kw["bind"].dispose()


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
    ("search rare 'tip 9999:' over all", "/?search=tip+9999%3A"),
    ("search with status filter (1/5 of tips)", "/?search=niigata&status=new"),
]


def main(argv: list[str] | None = None) -> None:
    """Parse the options and run the benchmark on the chosen backends."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--tips", type=int, default=100_000)
    parser.add_argument("--search-tips", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=30)
    options = parser.parse_args(argv)
    backends = ["sqlite", "postgresql"] if options.backend == "both" else [options.backend]
    for backend in backends:
        run(backend, options.tips, options.search_tips, options.runs)


if __name__ == "__main__":
    main()
