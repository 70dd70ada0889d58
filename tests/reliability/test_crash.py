"""Crash under load: workers SIGKILLed while tipsters post; no acknowledged tip is ever lost.

A real gunicorn (the production settings file, three sync workers) on each database; 20
tipsters post tips while a killer SIGKILLs a random worker every 1 to 2 seconds. Afterwards
every tip whose tipster saw a receipt must be stored exactly once, decrypt byte-exact and
match its receipt; SQLite's integrity_check must say ok. A connection dropped by a kill is
not an acknowledgement; such tips may or may not be stored (see test_retry.py).

Figures go to artifacts/reliability-crash-<db>.json. RELIABILITY_CRASH_TIPS raises the
count (`make soak`).
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from nacl.public import PrivateKey
from sqlalchemy import create_engine, text

from form_service.crypto import receipt_hash
from form_service.settings import IntakeSettings
from tests.form_service.intake.helpers import opened_fields, stored_tips
from tests.reliability.servers import Tipster, gunicorn_intake, settings_environment

TIPS = int(os.environ.get("RELIABILITY_CRASH_TIPS", "500"))
# A bound on the run, not a measurement: on a machine shared with other runs the workers boot
# slowly, so the run stops here (figures quoted) rather than hold CI for longer; at least
# MIN_TIPS must be acknowledged for the test to count.
BOUND_SECONDS = float(os.environ.get("RELIABILITY_CRASH_SECONDS", "240"))
MIN_TIPS = min(TIPS, 100)
# Tipsters go on posting until this many workers were killed under them.
MIN_KILLS = 5
CLIENTS = 20
# Seeded, so each run kills on the same schedule (the interleaving still varies).
KILL_SEED = 11
# Each tip carries text in several scripts so "byte-exact" means something.
BODY = "横田めぐみさん 평양 朝鲜 — seen near the harbour, line two\nline three"


@dataclass
class Tally:
    """What the tipsters saw, shared by their threads."""

    acknowledged: dict[str, str] = field(default_factory=dict)  # message -> receipt
    statuses: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self) -> int:
        """Return how many tips were acknowledged so far."""
        with self.lock:
            return len(self.acknowledged)


def tipster(port: int, tally: Tally, stop: threading.Event, kills: list[int]) -> None:
    """Post tips until TIPS are acknowledged and MIN_KILLS workers died, or told to stop."""
    browser = Tipster(port)
    while not stop.is_set() and (tally.count() < TIPS or len(kills) < MIN_KILLS):
        try:
            token = browser.get_form()
        except (OSError, http.client.HTTPException):
            # A worker killed mid-answer: a reset, or a status line or body cut short.
            token = None
        if token is None:
            with tally.lock:
                tally.statuses["form not served (worker killed)"] += 1
            continue
        message = f"CRASH-{uuid.uuid4().hex} {BODY}"
        answer = browser.send(token, message)
        with tally.lock:
            tally.statuses[str(answer.status or "dropped")] += 1
            if answer.status == 200 and answer.receipt:
                tally.acknowledged[message] = answer.receipt


def killer(workers_of: Callable[[], list[int]], stop: threading.Event, kills: list[int]) -> None:
    """SIGKILL a random worker every 1 to 2 seconds until told to stop."""
    chance = random.Random(KILL_SEED)  # noqa: S311 - a test schedule, not a secret
    while not stop.wait(chance.uniform(1.0, 2.0)):
        workers = workers_of()
        # Leave one worker serving: a kill then always hits a service under load, and the
        # run spends its time on tips, not on workers booting.
        if len(workers) >= 2:
            victim = chance.choice(sorted(workers))
            try:
                os.kill(victim, signal.SIGKILL)
                kills.append(victim)
            except ProcessLookupError:
                pass


def test_every_acknowledged_tip_survives_workers_killed_under_load(
    settings: IntakeSettings,
    desk_private_key: PrivateKey,
    tmp_path: Path,
    artifacts_dir: Path,
    db_url: str,
) -> None:
    settings_env = settings_environment(settings)
    settings_env["FORM_SERVICE_RATELIMIT_SESSION"] = "1000000 per hour"
    settings_env["FORM_SERVICE_RATELIMIT_GLOBAL"] = "1000000 per hour"
    tally, stop, kills = Tally(), threading.Event(), list[int]()
    with gunicorn_intake(settings_env, tmp_path / "gunicorn.log") as server:
        threads = [
            threading.Thread(target=tipster, args=(server.port, tally, stop, kills))
            for _ in range(CLIENTS)
        ]
        murder = threading.Thread(target=killer, args=(server.workers, stop, kills))
        for thread in [*threads, murder]:
            thread.start()
        started = time.monotonic()
        for thread in threads:
            thread.join(timeout=max(1.0, BOUND_SECONDS - (time.monotonic() - started)))
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
        murder.join(timeout=30)
        log = server.log.read_text(errors="replace")
    assert not any(thread.is_alive() for thread in threads), "tipsters still running"

    found = {}
    for tip in stored_tips(settings):
        message = opened_fields(desk_private_key, tip)["message"]
        assert message not in found, "a tip was stored twice"
        found[message] = tip.receipt_hash
    lost = [m for m in tally.acknowledged if m not in found]
    wrong_receipt = [
        m
        for m, code in tally.acknowledged.items()
        if m in found and found[m] != receipt_hash(settings.receipt_pepper, code)
    ]
    integrity = "n/a"
    if settings.is_sqlite:
        engine = create_engine(settings.database_url)
        with engine.connect() as connection:
            integrity = connection.execute(text("PRAGMA integrity_check")).scalar_one()
        engine.dispose()
    figures = {
        "database": "postgresql" if db_url.startswith("postgresql") else "sqlite",
        "clients": CLIENTS,
        "seconds": round(time.monotonic() - started, 1),
        "workers_killed": len(kills),
        "acknowledged": len(tally.acknowledged),
        "stored": len(found),
        "stored_not_acknowledged": len(set(found) - set(tally.acknowledged)),
        "lost": len(lost),
        "answers": dict(tally.statuses),
        "integrity_check": integrity,
    }
    name = f"reliability-crash-{figures['database']}.json"
    (artifacts_dir / name).write_text(json.dumps(figures, indent=2), encoding="utf-8")
    print(json.dumps(figures))
    assert len(tally.acknowledged) >= MIN_TIPS
    assert len(kills) >= MIN_KILLS, "the killer hardly ran: the test proved nothing"
    assert lost == [], f"{len(lost)} acknowledged tips were lost"
    assert wrong_receipt == []
    assert integrity in {"ok", "n/a"}
    assert "500" not in tally.statuses
    assert "Traceback" not in log, log[-3000:]
