"""The desk's private key file is encrypted under a passphrase (Argon2id)."""

from __future__ import annotations

import json

import pytest
from nacl.public import SealedBox

from form_service.crypto import load_public_key
from form_service.deskkey import (
    INTERACTIVE,
    KeyFileError,
    generate_key_pair,
    read_public_key,
    unlock_private_key,
)

PASSPHRASE = "correct horse battery staple"  # noqa: S105 - a test passphrase


def test_the_key_file_unlocks_with_its_passphrase() -> None:
    public_key, key_file = generate_key_pair(PASSPHRASE, INTERACTIVE)
    private_key = unlock_private_key(key_file, PASSPHRASE)
    sealed = SealedBox(load_public_key(public_key)).encrypt(b"tip key")
    assert SealedBox(private_key).decrypt(sealed) == b"tip key"
    assert read_public_key(key_file) == public_key


def test_the_key_file_holds_no_private_key_in_clear() -> None:
    _, key_file = generate_key_pair(PASSPHRASE, INTERACTIVE)
    private_key = unlock_private_key(key_file, PASSPHRASE)
    assert bytes(private_key) not in key_file
    document = json.loads(key_file)
    assert document["kdf"] == "argon2id"


def test_a_wrong_passphrase_is_refused() -> None:
    _, key_file = generate_key_pair(PASSPHRASE, INTERACTIVE)
    with pytest.raises(KeyFileError):
        unlock_private_key(key_file, "wrong horse battery staple")


def test_a_damaged_key_file_is_refused() -> None:
    with pytest.raises(KeyFileError):
        unlock_private_key(b"not json", PASSPHRASE)
    _, key_file = generate_key_pair(PASSPHRASE, INTERACTIVE)
    document = json.loads(key_file)
    document["public_key"] = "AAAA" + document["public_key"][4:]
    with pytest.raises(KeyFileError):
        unlock_private_key(json.dumps(document).encode(), PASSPHRASE)
