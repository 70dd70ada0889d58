"""Create and unlock the desk's key pair; only the review desk and the CLI import this.

The private key file is encrypted with a key derived from a passphrase by Argon2id.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from nacl import pwhash

# PyNaCl's own cffi binding of libsodium: the one way to hand it a buffer we can wipe.
from nacl._sodium import ffi, lib
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey
from nacl.secret import SecretBox
from nacl.utils import random as random_bytes

KEY_FILE_FORMAT = "form-service-desk-key"
KEY_FILE_VERSION = 1


@dataclass(frozen=True)
class KdfStrength:
    """Argon2id cost; MODERATE is the default, INTERACTIVE is for tests and development."""

    opslimit: int
    memlimit: int


MODERATE = KdfStrength(pwhash.argon2id.OPSLIMIT_MODERATE, pwhash.argon2id.MEMLIMIT_MODERATE)
INTERACTIVE = KdfStrength(
    pwhash.argon2id.OPSLIMIT_INTERACTIVE, pwhash.argon2id.MEMLIMIT_INTERACTIVE
)


class KeyFileError(ValueError):
    """The key file is malformed or the passphrase is wrong."""


def generate_key_pair(passphrase: str, strength: KdfStrength = MODERATE) -> tuple[str, bytes]:
    """Create a desk key pair; return the base64 public key and the encrypted key file."""
    private_key = PrivateKey.generate()
    salt = random_bytes(pwhash.argon2id.SALTBYTES)
    box = SecretBox(_derive_key(passphrase, salt, strength))
    public_key = base64.b64encode(bytes(private_key.public_key)).decode("ascii")
    document = {
        "format": KEY_FILE_FORMAT,
        "version": KEY_FILE_VERSION,
        "kdf": "argon2id",
        "opslimit": strength.opslimit,
        "memlimit": strength.memlimit,
        "salt": base64.b64encode(salt).decode("ascii"),
        "public_key": public_key,
        "ciphertext": base64.b64encode(box.encrypt(bytes(private_key))).decode("ascii"),
    }
    return public_key, (json.dumps(document, indent=2) + "\n").encode("utf-8")


def read_public_key(key_file: bytes) -> str:
    """Read the base64 public key recorded in a key file (no passphrase needed)."""
    return str(_parse(key_file)["public_key"])


def unlock_private_key(key_file: bytes, passphrase: str | bytearray | memoryview) -> PrivateKey:
    """Decrypt the desk's private key with its passphrase (a buffer the caller can zero)."""
    document = _parse(key_file)
    strength = KdfStrength(int(document["opslimit"]), int(document["memlimit"]))
    salt = base64.b64decode(document["salt"])
    box = SecretBox(_derive_key(passphrase, salt, strength))
    try:
        private_key = PrivateKey(box.decrypt(base64.b64decode(document["ciphertext"])))
    except CryptoError:
        raise KeyFileError("wrong passphrase or damaged key file") from None
    public_key = base64.b64encode(bytes(private_key.public_key)).decode("ascii")
    if public_key != document["public_key"]:
        raise KeyFileError("the key file's public key does not match its private key")
    return private_key


def _derive_key(
    passphrase: str | bytearray | memoryview, salt: bytes, strength: KdfStrength
) -> bytes:
    """Derive the key-file encryption key from the passphrase with Argon2id."""
    if not isinstance(passphrase, str):
        return _derive_from_buffer(passphrase, salt, strength)
    return pwhash.argon2id.kdf(
        SecretBox.KEY_SIZE,
        passphrase.encode("utf-8"),
        salt,
        opslimit=strength.opslimit,
        memlimit=strength.memlimit,
    )


def _derive_from_buffer(
    secret: bytearray | memoryview, salt: bytes, strength: KdfStrength
) -> bytes:
    """Derive as `_derive_key` does, letting libsodium read the caller's buffer in place.

    PyNaCl's kdf() takes only bytes, an immutable copy nobody can wipe; handing libsodium the
    mutable buffer itself leaves the caller's zeroing the only copy to undo. The derived key
    is wiped here once copied out (it lives on briefly inside the SecretBox).
    """
    out = ffi.new("unsigned char[]", SecretBox.KEY_SIZE)
    failed = lib.crypto_pwhash(
        out,
        SecretBox.KEY_SIZE,
        ffi.from_buffer(secret),
        len(secret),
        salt,
        strength.opslimit,
        strength.memlimit,
        pwhash.argon2id.ALG,
    )
    try:
        if failed:
            raise KeyFileError("the passphrase could not be stretched (out of memory?)")
        return bytes(ffi.buffer(out, SecretBox.KEY_SIZE))
    finally:
        lib.sodium_memzero(out, SecretBox.KEY_SIZE)


def _parse(key_file: bytes) -> dict[str, Any]:
    """Parse and check a key file's JSON envelope."""
    try:
        document = json.loads(key_file.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise KeyFileError("not a desk key file") from None
    if not isinstance(document, dict) or document.get("format") != KEY_FILE_FORMAT:
        raise KeyFileError("not a desk key file")
    if document.get("version") != KEY_FILE_VERSION or document.get("kdf") != "argon2id":
        raise KeyFileError("unsupported desk key file version")
    return document
