"""Reply keys: the desk's replies open only with the tipster's receipt code.

Each tip gets a random 16-byte salt; HKDF-SHA256 of the receipt's digits with that salt gives
an X25519 private key, and only its public half is stored. The desk seals each reply to that
public key (a sealed box), so neither the database nor the desk's own key can open the
tipster's copy: the code, which is never stored, is the only way in. A cheap derivation is
enough because a code carries 83 bits (10**25): nobody can try them all, slow hash or not.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from nacl.public import PrivateKey, PublicKey, SealedBox

from form_service.crypto import TEXT_BLOCK, normalize_receipt_code

REPLY_SALT_BYTES = 16
_INFO = b"form-service reply key v1"


@dataclass(frozen=True)
class ReplyKey:
    """What a tip stores so the desk can reply: the salt and the derived public key."""

    salt: bytes
    public_key: bytes


def _hkdf_sha256(key_material: bytes, salt: bytes, info: bytes) -> bytes:
    """Derive 32 bytes with HKDF-SHA256 (RFC 5869: extract, then one expand block)."""
    pseudo_random_key = hmac.new(salt, key_material, hashlib.sha256).digest()
    return hmac.new(pseudo_random_key, info + b"\x01", hashlib.sha256).digest()


def derive_reply_private_key(code: str, salt: bytes) -> PrivateKey:
    """Derive a tip's reply private key from its receipt code and salt."""
    digits = normalize_receipt_code(code)
    if digits is None:
        raise ValueError("not a receipt code")
    if len(salt) != REPLY_SALT_BYTES:
        raise ValueError(f"a reply salt has {REPLY_SALT_BYTES} bytes")
    return PrivateKey(_hkdf_sha256(digits.encode("ascii"), salt, _INFO))


def new_reply_key(code: str, salt: bytes | None = None) -> ReplyKey:
    """Make a tip's reply key from its receipt code and a fresh (or given) salt."""
    salt = secrets.token_bytes(REPLY_SALT_BYTES) if salt is None else salt
    private_key = derive_reply_private_key(code, salt)
    return ReplyKey(salt=salt, public_key=bytes(private_key.public_key))


def seal_for_tipster(public_key: bytes, text: str) -> bytes:
    """Seal a reply's text to a tip's reply public key, padded to whole blocks."""
    plain = text.encode("utf-8")
    # Padding with spaces hides the exact length; the tipster's page strips them.
    padded = plain + b" " * (-len(plain) % TEXT_BLOCK)
    return bytes(SealedBox(PublicKey(public_key)).encrypt(padded))


def open_for_tipster(private_key: PrivateKey, sealed: bytes) -> str:
    """Open a reply sealed to the tipster with the key derived from their code."""
    return SealedBox(private_key).decrypt(sealed).decode("utf-8").rstrip(" ")
