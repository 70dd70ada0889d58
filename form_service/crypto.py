"""Seal tips to the desk's public key, and make and hash receipt codes.

The intake holds only the desk's public key: it can seal a tip but never open one.
Opening needs the private key, which only the review desk unlocks (form_service.deskkey).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import struct
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nacl.public import PrivateKey, PublicKey, SealedBox
from nacl.secret import SecretBox
from nacl.utils import random as random_bytes

from form_service.settings import decode_public_key

FORMAT_VERSION = 1
# 25 digits carry 83 bits, above the 80 bits a receipt needs to resist guessing offline if the
# pepper leaks; codes of 20 digits (66 bits) were issued before and must keep opening their tip.
RECEIPT_DIGITS = 25
RECEIPT_GROUP = 5
LEGACY_RECEIPT_DIGITS = 20
RECEIPT_SEED_BYTES = 16
# Longer input is not a code; refusing it before Unicode folding bounds the work per lookup.
_RECEIPT_INPUT_LIMIT = 200
# Dashes a phone keyboard or an input method may type between groups (NFKC keeps them apart).
_RECEIPT_SEPARATORS = frozenset("-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff70")
_META_LENGTH = struct.Struct(">I")
# Plaintexts are padded to whole blocks before encryption, so the stored ciphertext shows
# only roughly how long a tip or a file is (to the block), not its exact length.
TEXT_BLOCK = 4096
FILE_BLOCK = 65536


@dataclass(frozen=True)
class PlainAttachment:
    """A cleaned file ready to be sealed: its bytes and what the desk needs to open it."""

    data: bytes
    content_type: str
    safe_name: str


@dataclass(frozen=True)
class SealedTip:
    """A tip as stored: the sealed tip key, the text ciphertext, one ciphertext per file."""

    sealed_key: bytes
    ciphertext: bytes
    attachments: tuple[bytes, ...]


def load_public_key(text: str) -> PublicKey:
    """Parse the desk's base64 public key."""
    raw = decode_public_key(text)
    if raw is None:
        raise ValueError("not a base64 X25519 public key")
    return PublicKey(raw)


def seal_tip(
    public_key: PublicKey, fields: Mapping[str, str], attachments: Sequence[PlainAttachment]
) -> SealedTip:
    """Encrypt the text and files under a fresh key and seal that key to the desk."""
    tip_key = random_bytes(SecretBox.KEY_SIZE)
    box = SecretBox(tip_key)
    document = {"version": FORMAT_VERSION, "fields": dict(fields)}
    # JSON ignores trailing white space, so spaces pad the text without a length field.
    ciphertext = box.encrypt(
        _pad(json.dumps(document, ensure_ascii=False).encode("utf-8"), TEXT_BLOCK, b" ")
    )
    sealed_files = tuple(box.encrypt(_pack_attachment(item)) for item in attachments)
    return SealedTip(
        sealed_key=SealedBox(public_key).encrypt(tip_key),
        ciphertext=bytes(ciphertext),
        attachments=tuple(bytes(item) for item in sealed_files),
    )


def open_tip_key(private_key: PrivateKey, sealed_key: bytes) -> bytes:
    """Recover a tip's key with the desk's private key (desk only)."""
    return SealedBox(private_key).decrypt(sealed_key)


def open_tip(private_key: PrivateKey, sealed_key: bytes, ciphertext: bytes) -> dict[str, Any]:
    """Decrypt a tip's text fields with the desk's private key (desk only)."""
    box = SecretBox(open_tip_key(private_key, sealed_key))
    document = json.loads(box.decrypt(ciphertext).decode("utf-8"))
    if document.get("version") != FORMAT_VERSION:
        raise ValueError(f"unknown tip format {document.get('version')!r}")
    fields: dict[str, Any] = document["fields"]
    return fields


def open_attachment(
    private_key: PrivateKey, sealed_key: bytes, ciphertext: bytes
) -> PlainAttachment:
    """Decrypt one attachment of a tip with the desk's private key (desk only)."""
    plain = SecretBox(open_tip_key(private_key, sealed_key)).decrypt(ciphertext)
    (meta_length,) = _META_LENGTH.unpack_from(plain)
    start = _META_LENGTH.size
    meta = json.loads(plain[start : start + meta_length].decode("utf-8"))
    size = meta.get("size")
    data = plain[start + meta_length :]
    if meta.get("version") != FORMAT_VERSION or not isinstance(size, int) or size > len(data):
        raise ValueError("attachment metadata does not match its content")
    data = data[:size]  # drop the padding
    return PlainAttachment(data=data, content_type=meta["content_type"], safe_name=meta["name"])


def _pack_attachment(item: PlainAttachment) -> bytes:
    """Put a file's metadata in front of its bytes so both are encrypted together."""
    meta = json.dumps(
        {
            "version": FORMAT_VERSION,
            "content_type": item.content_type,
            "name": item.safe_name,
            "size": len(item.data),
        }
    ).encode("utf-8")
    return _pad(_META_LENGTH.pack(len(meta)) + meta + item.data, FILE_BLOCK, b"\0")


def _pad(plain: bytes, block: int, filler: bytes) -> bytes:
    """Lengthen plaintext with filler to the next whole multiple of block bytes."""
    return plain + filler * (-len(plain) % block)


def new_receipt_code(seed: bytes | None = None) -> str:
    """Make a receipt code of 25 digits in groups of five, random or derived from a seed."""
    if seed is None:
        number = secrets.randbelow(10**RECEIPT_DIGITS)
    else:
        if len(seed) < RECEIPT_SEED_BYTES:
            raise ValueError(f"a receipt seed needs at least {RECEIPT_SEED_BYTES} bytes")
        # 256 bits reduced modulo 10**25: the bias is below 2**-170, far under any use.
        digest = hashlib.sha256(b"form-service receipt v1\0" + seed).digest()
        number = int.from_bytes(digest, "big") % 10**RECEIPT_DIGITS
    return group_receipt_code(f"{number:0{RECEIPT_DIGITS}d}")


def group_receipt_code(digits: str) -> str:
    """Split a code's digits into groups (five for new codes, four for old ones) with spaces."""
    size = RECEIPT_GROUP if len(digits) == RECEIPT_DIGITS else 4
    return " ".join(digits[start : start + size] for start in range(0, len(digits), size))


def normalize_receipt_code(text: str) -> str | None:
    """Reduce a typed code to its 25 or 20 digits (full-width too), or None if malformed."""
    if len(text) > _RECEIPT_INPUT_LIMIT:
        return None
    folded = unicodedata.normalize("NFKC", text)
    digits = "".join(char for char in folded if not (char.isspace() or char in _RECEIPT_SEPARATORS))
    if len(digits) not in (RECEIPT_DIGITS, LEGACY_RECEIPT_DIGITS):
        return None
    if not (digits.isascii() and digits.isdigit()):
        return None
    return digits


def receipt_hash(pepper: str, code: str) -> bytes:
    """Hash a receipt code with the server-side pepper (HMAC-SHA256)."""
    digits = normalize_receipt_code(code)
    if digits is None:
        raise ValueError("not a receipt code")
    return hmac.new(pepper.encode("utf-8"), digits.encode("ascii"), hashlib.sha256).digest()
