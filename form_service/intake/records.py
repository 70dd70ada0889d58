"""What the intake writes to the spool, by kind, and how each kind is stored in the database.

The intake never writes to the database while a tipster waits: a row, its transaction id
and the WAL's commit time would date the tip to the second. Each record is written to the
spool directory instead (spool.py moves them into the database in batches). A record is
JSON: its kind, its random id and a payload in which bytes are base64 and everything but
non-identifying fields (topic, language, the day) is already sealed to the desk's key.
Kinds register here with the function that stores them inside the flush's transaction.
"""

from __future__ import annotations

import base64
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from form_service.files import write_private

# Record ids are 32 hex digits (HMAC-derived or random): nothing else becomes a file name.
RECORD_ID = re.compile(r"[0-9a-f]{32}")
SUFFIX = ".json"


@dataclass(frozen=True)
class RecordKind:
    """A kind of spooled record and how to insert one into the database."""

    name: str
    store: Callable[[Session, Mapping[str, Any]], None]


KINDS: dict[str, RecordKind] = {}


def register(kind: RecordKind) -> None:
    """Make a kind of record known to the spool and its flusher."""
    KINDS[kind.name] = kind


def encode_bytes(data: bytes) -> str:
    """Encode bytes for a JSON payload."""
    return base64.b64encode(data).decode("ascii")


def decode_bytes(text: str) -> bytes:
    """Decode bytes from a JSON payload."""
    return base64.b64decode(text, validate=True)


def record_path(spool_dir: Path, record_id: str) -> Path:
    """Return the file of one record, refusing anything but a record id."""
    if not RECORD_ID.fullmatch(record_id):
        raise ValueError("not a record id")
    return spool_dir / f"{record_id}{SUFFIX}"


def spool_has(spool_dir: Path, record_id: str) -> bool:
    """Tell whether a record is waiting in the spool (a retried post finds its own)."""
    return record_path(spool_dir, record_id).exists()


def spool_put(
    spool_dir: Path, kind: str, record_id: str, payload: Mapping[str, Any], day_start: float
) -> None:
    """Write one record durably: temp file, fsync, rename, fsync of the directory.

    The file's times are set to the start of its day (`day_start`, a POSIX time), so not
    even the spool's own listing dates it finer than the day the payload already says.
    """
    if kind not in KINDS:
        raise KeyError(f"unknown record kind {kind!r}")
    path = record_path(spool_dir, record_id)
    body = json.dumps({"kind": kind, "record_id": record_id, "payload": dict(payload)})
    write_private(path, body.encode("utf-8"), overwrite=True)
    os.utime(path, (day_start, day_start))
    sync_directory(spool_dir)
    os.utime(spool_dir, (day_start, day_start))


def sync_directory(folder: Path) -> None:
    """Flush a directory's entries to disk, so a rename or unlink survives a crash."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def read_record(path: Path) -> tuple[RecordKind, str, Mapping[str, Any]]:
    """Read one spooled record: its kind, id and payload."""
    record = json.loads(path.read_text(encoding="utf-8"))
    return KINDS[record["kind"]], str(record["record_id"]), record["payload"]
