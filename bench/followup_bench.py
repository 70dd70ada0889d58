"""Time a tipster's follow-up lookup of a tip with three desk replies, per request; print JSON.

In process (Flask's test client, no network), like the desk's benchmark, on SQLite or, with
--postgres, on a throwaway database of the local PostgreSQL, where every read goes through
the intake's functions (privileges.py): one tip is posted through the form, the batch stores
it, the desk writes three replies (replies.send_reply), then
- the lookup: POST of the receipt code (HMAC, one query, reply-key derivation, session),
  and the same for an unknown code and a malformed one (which must cost the same);
- the tip page of the open session: the status and the three replies opened with the key
  derived from the code;
- the reference, in the same process: GET of the empty form.
Each lookup uses a fresh browser session, as the lookup limit counts per session.

    .venv/bin/python bench/followup_bench.py [--runs 20] [--postgres]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import datetime as dt
import json
import re
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from intake_bench import TIP_TEXT, prepare
from nacl.public import PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
RECEIPT = re.compile(r'class="receipt-code"[^>]*>([0-9 ]+)<')
CHECK = "/form/en/check/"


def token(client: Any, path: str) -> str:
    """Load a page and return its CSRF token."""
    found = TOKEN.search(client.get(path).get_data(as_text=True))
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def post_tip(client: Any) -> str:
    """Send one tip through the form and return its receipt code."""
    data = {"csrf_token": token(client, "/form/en/"), "topic": "sighting", "message": TIP_TEXT}
    response = client.post("/form/en/", data=data, content_type="multipart/form-data")
    found = RECEIPT.search(response.get_data(as_text=True))
    assert found, "no receipt code"
    return found.group(1)


def reply_three_times(engine: Any, key: PrivateKey) -> None:
    """Write three desk replies on the only tip."""
    from form_service.models import Staff, StaffRole, Tip
    from form_service.review import replies

    with Session(engine) as db:
        staff = Staff(email="desk@example.org", role=StaffRole.REVIEWER, password_hash="-")  # noqa: S106 - no sign-in
        db.add(staff)
        db.flush()
        tip = db.scalars(select(Tip)).one()
        for number in range(3):
            text = f"Reply {number + 1}: could you say which year? " * 8
            replies.send_reply(db, tip, staff, key, text, dt.date(2026, 12, 1))
        db.commit()


def timed(action: Any, runs: int) -> dict[str, float]:
    """Return the median and worst time of an action in milliseconds."""
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return {"median_ms": statistics.median(samples), "max_ms": max(samples)}


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[str]:
    """Create a database on the local PostgreSQL for one run and drop it after."""
    import psycopg

    name = f"followup_bench_{uuid.uuid4().hex[:12]}"
    admin = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def measure(runs: int, database_url: str | None = None) -> dict[str, Any]:
    """Post a tip, reply three times, and time the lookup, the tip page and the form."""
    from form_service.intake import create_app
    from form_service.settings import IntakeSettings

    key = PrivateKey.generate()
    with tempfile.TemporaryDirectory(prefix="followup-bench-") as folder:
        scratch = Path(folder)
        url = database_url or f"sqlite:///{scratch / 'intake.sqlite3'}"
        env = prepare(scratch, url, "sqlite://")
        env["FORM_SERVICE_DESK_PUBLIC_KEY"] = base64.b64encode(bytes(key.public_key)).decode()
        app = create_app(IntakeSettings.from_env(env))
        code = post_tip(app.test_client())
        from form_service.intake import spool
        from form_service.intake.state import intake_state

        with app.app_context():
            state = intake_state()
            spool.flush(state.settings.spool_path, state.engine)  # the batch stores the tip
            reply_three_times(state.engine, key)

        def look_up(typed: str = code, expected: int = 303) -> Any:
            client = app.test_client()
            data = {"csrf_token": token(client, CHECK), "receipt": typed}
            started = time.perf_counter()
            response = client.post(CHECK, data=data)
            elapsed = time.perf_counter() - started
            assert response.status_code == expected, response.status_code
            return client, elapsed

        lookups = [look_up()[1] * 1000 for _ in range(runs)]
        # A miss must cost what a hit costs (one query, one derivation), or timing tells.
        misses = [look_up("98765 43210 98765 43210 98765", 200)[1] * 1000 for _ in range(runs)]
        malformed = [look_up("not a code", 200)[1] * 1000 for _ in range(runs)]
        client, _ = look_up()
        page = client.get(CHECK).get_data(as_text=True)
        assert page.count("could you say which year?") >= 3, "the three replies are not shown"
        tip_page = timed(lambda: client.get(CHECK), runs)
        blank = app.test_client()
        form_page = timed(lambda: blank.get("/form/en/"), runs)
    return {
        "lookup_ms": {"median_ms": statistics.median(lookups), "max_ms": max(lookups)},
        "miss_ms": {"median_ms": statistics.median(misses), "max_ms": max(misses)},
        "malformed_ms": {"median_ms": statistics.median(malformed), "max_ms": max(malformed)},
        "tip_page_ms": tip_page,
        "form_page_ms": form_page,
        "runs": runs,
        "database": url.split(":", 1)[0].split("+", 1)[0],
    }


def main() -> None:
    """Print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--postgres", action="store_true", help="on the local PostgreSQL")
    args = parser.parse_args()
    if not args.postgres:
        print(json.dumps(measure(args.runs), indent=2))
        return
    with throwaway_postgres() as url:
        print(json.dumps(measure(args.runs, url), indent=2))


if __name__ == "__main__":
    main()
