"""Time what a returning tipster costs the server: a lookup with the code, reading 3 replies.

Runs the intake app in process on a fresh SQLite database (the development default) with
one tip and three replies from the desk, and times, through Flask's test client, the post
of the code (hash, one indexed query, one key derivation, a session) followed by the page
that opens and shows the three replies. Also times a lookup of an unknown code, which must
cost the same as a hit, and a malformed one.

    .venv/bin/python bench/followup_bench.py [--quick]
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from nacl.public import PrivateKey

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from form_service import migrate  # noqa: E402 - the project is put on the path just above
from form_service.intake import create_app  # noqa: E402
from tests.form_service.factories import make_settings  # noqa: E402
from tests.form_service.intake.helpers import desk_reply, post_tip, receipt_code  # noqa: E402

TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def timed(app: Any, typed: str, repeat: int, *, read: bool = False) -> float:
    """Return the median ms of a lookup (and reading the tip page) from a fresh session.

    Each try is a new browser session, as the lookup limit is per session; fetching its
    form token is not timed.
    """
    samples = []
    for _ in range(repeat):
        client = app.test_client()
        token = TOKEN.search(client.get("/form/en/check/").get_data(as_text=True))
        assert token
        started = time.perf_counter()
        response = client.post("/form/en/check/", data={"csrf_token": token[1], "receipt": typed})
        if read:
            page = client.get("/form/en/check/").get_data(as_text=True)
            assert page.count("Reply ") >= 3
        samples.append(time.perf_counter() - started)
        assert response.status_code in (200, 303)
    return statistics.median(samples) * 1e3


def measure(quick: bool = False) -> dict[str, float]:
    """Return ms per lookup + 3 replies, and per miss and malformed lookup."""
    key = PrivateKey.generate()
    public = base64.b64encode(bytes(key.public_key)).decode()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/bench.sqlite3"
        settings = make_settings(url, public, instance_dir=Path(folder))
        migrate.upgrade(settings)
        app = create_app(settings)
        client = app.test_client()
        code = receipt_code(post_tip(client))
        for number in range(3):
            desk_reply(settings, key, f"Reply {number}: " + "x" * 400, dt.date(2026, 12, 2))
        repeat = 20 if quick else 200
        return {
            "lookup_and_3_replies_ms": timed(app, code, repeat, read=True),
            "lookup_hit_ms": timed(app, code, repeat),
            "lookup_miss_ms": timed(app, "98765 43210 98765 43210 98765", repeat),
            "lookup_malformed_ms": timed(app, "not a code", repeat),
        }


def main() -> None:
    """Print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    print(json.dumps(measure(parser.parse_args().quick), indent=2))


if __name__ == "__main__":
    main()
