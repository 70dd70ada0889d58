"""Time the cryptography each tip and each sign-in costs, in process, on the running machine.

Per tip: sealing a 2 KB tip to the desk key (what the intake does per post), opening it
(what the desk does per tip shown or searched), and deriving a tip's reply key from its
receipt code (what each follow-up lookup does). Per sign-in: one Argon2id verification with
the desk's settings.

    .venv/bin/python bench/crypto_bench.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

from nacl.public import PrivateKey

from form_service.crypto import open_tip, seal_tip
from form_service.replykeys import new_reply_key
from form_service.review.auth.passwords import hash_password, verify_password

TIP = {
    "message": ("I saw her near the harbour in the spring of 1983. " * 42)[:2000],
    "when_where": "Niigata, 1977",
    "how_known": "I saw it myself",
    "contact": "",
}
PASSWORD = "tangerine ocelot fjord quiver"  # noqa: S105 - a throwaway benchmark password


def per_call(action: Callable[[], object], repeat: int, rounds: int = 5) -> float:
    """Return the median over `rounds` of the mean time of one call, in seconds."""
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(repeat):
            action()
        samples.append((time.perf_counter() - started) / repeat)
    return statistics.median(samples)


def reply_key_step() -> Callable[[], object]:
    """Return a tip's reply-key derivation (HKDF-SHA256, then an X25519 public key) to time."""
    return lambda: new_reply_key("12345 12345 12345 12345 12345")


def measure(quick: bool = False) -> dict[str, Any]:
    """Return µs per tip for sealing and opening and ms per Argon2id sign-in."""
    key = PrivateKey.generate()
    repeat = 200 if quick else 1000
    sealed = seal_tip(key.public_key, TIP, ())
    stored = hash_password(PASSWORD)
    results: dict[str, Any] = {
        "seal_us": per_call(lambda: seal_tip(key.public_key, TIP, ()), repeat) * 1e6,
        "open_us": per_call(lambda: open_tip(key, sealed.sealed_key, sealed.ciphertext), repeat)
        * 1e6,
        "argon2id_ms": per_call(lambda: verify_password(stored, PASSWORD), 3 if quick else 10)
        * 1e3,
    }
    results["reply_key_us"] = per_call(reply_key_step(), repeat) * 1e6
    return results


def main() -> None:
    """Print the figures as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    print(json.dumps(measure(parser.parse_args().quick), indent=2))


if __name__ == "__main__":
    main()
