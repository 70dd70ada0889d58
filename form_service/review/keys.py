"""Unlock the desk's private key when the desk process starts; it stays in memory only.

The passphrase is read into a mutable buffer, handed to libsodium in place and zeroed as
soon as the key is unlocked (from a file; a development passphrase in the environment is an
immutable str that Python cannot wipe). What Python cannot promise: the kernel's page cache
may still hold the file's pages, a garbage-collected copy made by a library is beyond reach,
and the unlocked key itself must stay in memory for the desk to work. So the desk also stops
core dumps and, where Linux allows, ptrace and /proc/<pid>/mem reads by the same user.

Under gunicorn the master unlocks the key once in its start check (`hold_key`); workers,
forked from it, inherit the unlocked key and never read the passphrase again, so the file
can be a tmpfs file removed once read (FORM_SERVICE_DESK_PASSPHRASE_REMOVE).
"""

from __future__ import annotations

import base64
import ctypes
import ctypes.util
import resource

from nacl.public import PrivateKey

from form_service.deskkey import unlock_private_key
from form_service.settings import ReviewSettings, SettingsError

PR_SET_DUMPABLE = 4  # <linux/prctl.h>
_held: list[PrivateKey] = []


def unlock_desk_key(settings: ReviewSettings) -> PrivateKey:
    """Read the key file, unlock it with the passphrase (then zeroed) and check the public key."""
    if settings.desk_key_file is None:
        raise SettingsError(_MISSING)
    passphrase = settings.read_passphrase_buffer()
    if passphrase is None:
        raise SettingsError(_MISSING)
    length = len(passphrase)
    while length and passphrase[length - 1] in b"\r\n\0":
        length -= 1  # the file's line end is not part of the passphrase
    try:
        with memoryview(passphrase) as view:
            private_key = unlock_private_key(settings.desk_key_file.read_bytes(), view[:length])
    finally:
        passphrase[:] = bytes(len(passphrase))
    check_matches(settings, private_key)
    return private_key


_MISSING = (
    "set FORM_SERVICE_DESK_KEY_FILE and FORM_SERVICE_DESK_PASSPHRASE(_FILE) to unlock the desk key"
)


def hold_key(private_key: PrivateKey) -> None:
    """Keep the unlocked key for the processes this one forks (gunicorn's workers)."""
    _held[:] = [private_key]


def forget_passphrase_file(settings: ReviewSettings) -> None:
    """Delete the passphrase file if FORM_SERVICE_DESK_PASSPHRASE_REMOVE asks (once started)."""
    if settings.desk_passphrase_remove and settings.desk_passphrase_file is not None:
        settings.desk_passphrase_file.unlink(missing_ok=True)


def held_key() -> PrivateKey | None:
    """Return the key unlocked before this process was forked, if any."""
    return _held[0] if _held else None


def check_matches(settings: ReviewSettings, private_key: PrivateKey) -> None:
    """Refuse a private key whose public half is not the one the intake seals tips to."""
    if settings.desk_public_key is None:
        return  # unlock_private_key already checked the key against its own file
    public = base64.b64encode(bytes(private_key.public_key)).decode("ascii")
    if public != settings.desk_public_key.strip():
        raise SettingsError("the desk key does not match FORM_SERVICE_DESK_PUBLIC_KEY")


def refuse_core_dumps() -> None:
    """Stop this process from writing a core file: it would hold the key and opened tips."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def refuse_inspection() -> bool:
    """Refuse core dumps and, on Linux, ptrace and /proc/<pid>/mem by the same user.

    PR_SET_DUMPABLE 0 survives fork (gunicorn's workers keep it) and is reset by exec.
    Return whether prctl was applied (False off Linux or without a C library).
    """
    refuse_core_dumps()
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name, use_errno=True)
        return bool(libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False
