"""Unlock the desk's private key when the desk process starts; it stays in memory only."""

from __future__ import annotations

import base64
import resource

from nacl.public import PrivateKey

from form_service.deskkey import unlock_private_key
from form_service.settings import ReviewSettings, SettingsError


def unlock_desk_key(settings: ReviewSettings) -> PrivateKey:
    """Read the key file, decrypt it with the passphrase and check it matches the public key."""
    passphrase = settings.read_passphrase()
    if settings.desk_key_file is None or passphrase is None:
        raise SettingsError(
            "set FORM_SERVICE_DESK_KEY_FILE and FORM_SERVICE_DESK_PASSPHRASE(_FILE) to unlock "
            "the desk key"
        )
    private_key = unlock_private_key(settings.desk_key_file.read_bytes(), passphrase)
    check_matches(settings, private_key)
    return private_key


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
