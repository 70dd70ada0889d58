"""Files only their owner may read: keys, secrets and the SQLite database."""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_MODE = 0o600


class FileExists(FileExistsError):
    """A private file is there already and must not be overwritten."""


def write_private(path: Path, content: bytes, *, overwrite: bool = False) -> None:
    """Write a file that is readable by its owner only from the moment it exists.

    The mode is given to open(), never set afterwards, so no other user can read the file
    even for an instant. Without `overwrite`, an existing file is refused (a key or a
    secret must never be replaced by accident); with it, the new content replaces the old
    one atomically.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if not overwrite:
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_MODE)
        except FileExistsError:
            raise FileExists(str(path)) from None
        _write_all(descriptor, content)
        return
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_MODE)
    _write_all(descriptor, content)
    partial.replace(path)


def create_private(path: Path) -> None:
    """Create an empty owner-only file unless it exists (SQLite would follow the umask)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, PRIVATE_MODE))


def _write_all(descriptor: int, content: bytes) -> None:
    """Write every byte to an open descriptor, flush it to disk and close it."""
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
