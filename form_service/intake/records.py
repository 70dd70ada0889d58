"""What the intake writes to the spool, by kind, and how each kind is stored in the database.

The intake never writes to the database while a tipster waits: a row, its transaction id
and the WAL's commit time would date the tip to the second. Each record is written to the
spool directory instead (spool.py moves them into the database in batches). A record is
JSON: its format version, its kind, its random id and a payload in which bytes are base64 and
everything but non-identifying fields (topic, language, the day) is already sealed to the
desk's key. Kinds register here with their payload's fields and the function that stores them
inside the flush's transaction. Reading is strict: a record of another version, an unknown
kind or a field missing or extra is refused whole (RecordRefused), never half stored.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from form_service.files import write_private

# Record ids are 32 hex digits (HMAC-derived or random): nothing else becomes a file name.
RECORD_ID = re.compile(r"[0-9a-f]{32}")
SUFFIX = ".json"
# The record format this code writes and reads; a change of its keys or meaning bumps it.
VERSION = 1
RECORD_KEYS = frozenset({"version", "kind", "record_id", "payload"})
# Tip records spooled before records carried a version: the same format as version 1.
UNVERSIONED_KEYS = RECORD_KEYS - {"version"}


class SpoolUnavailable(RuntimeError):
    """A record could not be written durably; the tipster should try again later."""


class RecordRefused(ValueError):
    """A spooled file that is not a record this code can store (it is kept, never stored)."""


@dataclass(frozen=True)
class RecordKind:
    """A kind of spooled record: its payload's fields and how to insert one."""

    name: str
    store: Callable[[Session, Mapping[str, Any]], None]
    fields: frozenset[str] = field(default_factory=frozenset)


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
    if set(payload) != KINDS[kind].fields:
        raise KeyError(f"a {kind} record has the fields {sorted(KINDS[kind].fields)}")
    record = {"version": VERSION, "kind": kind, "record_id": record_id, "payload": dict(payload)}
    body = json.dumps(record)
    write_private(path, body.encode("utf-8"), overwrite=True)
    os.utime(path, (day_start, day_start))
    sync_directory(spool_dir)
    os.utime(spool_dir, (day_start, day_start))


def spool_on(
    spool_dir: Path, kind: str, record_id: str, payload: Mapping[str, Any], day: dt.date
) -> None:
    """Spool a record of a day (file times at the day's start); SpoolUnavailable on failure."""
    day_start = dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC).timestamp()
    try:
        spool_put(spool_dir, kind, record_id, payload, day_start)
    except OSError as error:
        raise SpoolUnavailable(type(error).__name__) from error


def sync_directory(folder: Path) -> None:
    """Flush a directory's entries to disk, so a rename or unlink survives a crash."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def read_record(path: Path) -> tuple[RecordKind, str, Mapping[str, Any]]:
    """Read one spooled record (its kind, id and payload), refusing anything unexpected."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise RecordRefused("not JSON") from error
    if not isinstance(record, dict):
        raise RecordRefused("not a JSON object")
    if set(record) == UNVERSIONED_KEYS and record["kind"] == "tip":
        record = {**record, "version": VERSION}
    if set(record) != RECORD_KEYS:
        raise RecordRefused("unexpected keys")
    if record["version"] != VERSION:
        raise RecordRefused(f"version {record['version']!r}, not {VERSION}")
    kind = KINDS.get(record["kind"]) if isinstance(record["kind"], str) else None
    if kind is None:
        raise RecordRefused("unknown kind")
    record_id, payload = record["record_id"], record["payload"]
    if not (isinstance(record_id, str) and RECORD_ID.fullmatch(record_id)):
        raise RecordRefused("not a record id")
    if path.name != f"{record_id}{SUFFIX}":
        raise RecordRefused("record id does not match its file")
    if not isinstance(payload, dict) or set(payload) != kind.fields:
        raise RecordRefused(f"not the fields of a {kind.name} record")
    return kind, record_id, payload
