"""Profile complete submissions (form fetch + post) in process with cProfile; print JSON.

The intake runs on SQLite in a scratch folder behind Flask's test client (no network, no
gunicorn), so the profile shows only the app's own work. The summary groups own time by
the package that spends it, and lists the functions with the most cumulative and own time.

    .venv/bin/python bench/profile_bench.py [--submissions 400]
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from intake_bench import TIP_TEXT, prepare

TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
# Package groups, matched in order against a function's file path.
GROUPS = [
    ("crypto (PyNaCl, hashlib)", ("nacl/", "hashlib", "hmac")),
    ("database (SQLAlchemy, sqlite3, psycopg)", ("sqlalchemy/", "sqlite3", "psycopg")),
    ("templates (Jinja2, MarkupSafe)", ("jinja2/", "markupsafe/")),
    ("forms (WTForms, Flask-WTF)", ("wtforms/", "flask_wtf/")),
    ("request parsing (Werkzeug)", ("werkzeug/",)),
    ("limits (Flask-Limiter, limits)", ("flask_limiter/", "limits/")),
    ("translations (Babel)", ("babel/", "flask_babel/")),
    ("Flask", ("flask/",)),
    ("form_service (own code)", ("form_service/",)),
]


def group_of(filename: str) -> str:
    """Return the package group a function's file belongs to."""
    for name, needles in GROUPS:
        if any(needle in filename for needle in needles):
            return name
    return "other (standard library, builtins)"


def submit(client: Any) -> None:
    """Fetch the form and post a tip, as a browser would."""
    page = client.get("/form/en/").get_data(as_text=True)
    found = TOKEN.search(page)
    assert found, "no CSRF token in the form"
    data = {
        "csrf_token": found.group(1),
        "topic": "sighting",
        "message": TIP_TEXT,
        "when_where": "Niigata, 1977",
        "how_known": "I saw it myself",
        "contact": "",
    }
    response = client.post("/form/en/", data=data, content_type="multipart/form-data")
    assert response.status_code == 200, response.status_code


def measure(submissions: int) -> dict[str, Any]:
    """Profile `submissions` complete submissions and summarise where the time went."""
    from form_service.intake import create_app
    from form_service.settings import IntakeSettings

    with tempfile.TemporaryDirectory(prefix="profile-bench-") as folder:
        scratch = Path(folder)
        env = prepare(scratch, f"sqlite:///{scratch / 'intake.sqlite3'}", "sqlite://")
        app = create_app(IntakeSettings.from_env(env))
        client = app.test_client()
        for _ in range(10):
            submit(client)  # warm caches (templates, cached pages) before profiling
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for _ in range(submissions):
            submit(client)
        profiler.disable()
        wall = time.perf_counter() - started
    stats = pstats.Stats(profiler)
    entries = stats.stats  # type: ignore[attr-defined]
    total = sum(tottime for _, _, tottime, _, _ in entries.values())
    groups: dict[str, float] = {}
    rows = []
    for (filename, line, function), (_, calls, tottime, cumtime, _) in entries.items():
        groups[group_of(filename)] = groups.get(group_of(filename), 0.0) + tottime
        where = filename.split("site-packages/")[-1].split("wt-14/")[-1]
        rows.append((f"{where}:{line}({function})", calls, tottime, cumtime))
    per = 1e6 / submissions

    def top(index: int) -> list[dict[str, Any]]:
        ordered = sorted(rows, key=lambda row: row[index], reverse=True)[:12]
        return [
            {"function": name, "calls": calls, "own_us": own * per, "cumulative_us": cum * per}
            for name, calls, own, cum in ordered
        ]

    return {
        "submissions": submissions,
        "wall_us_per_submission": wall * per,
        "profiled_us_per_submission": total * per,
        "groups_us": dict(sorted(((k, v * per) for k, v in groups.items()), key=lambda kv: -kv[1])),
        "top_own": top(2),
        "top_cumulative": top(3),
    }


def main() -> None:
    """Print the profile summary as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=400)
    print(json.dumps(measure(parser.parse_args().submissions), indent=2))


if __name__ == "__main__":
    main()
