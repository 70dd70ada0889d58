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
RECEIPT_DIGITS = 20
RECEIPT_GROUP = 4
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


def new_receipt_code() -> str:
    """Make a random receipt code: 20 digits in groups of four."""
    digits = f"{secrets.randbelow(10**RECEIPT_DIGITS):0{RECEIPT_DIGITS}d}"
    return " ".join(
        digits[start : start + RECEIPT_GROUP] for start in range(0, RECEIPT_DIGITS, RECEIPT_GROUP)
    )


def normalize_receipt_code(text: str) -> str | None:
    """Reduce a typed code to its digits (full-width digits too), or None if malformed."""
    folded = unicodedata.normalize("NFKC", text)
    digits = "".join(char for char in folded if char not in " -\t\r\n")
    if len(digits) != RECEIPT_DIGITS or not (digits.isascii() and digits.isdigit()):
        return None
    return digits


def receipt_hash(pepper: str, code: str) -> bytes:
    """Hash a receipt code with the server-side pepper (HMAC-SHA256)."""
    digits = normalize_receipt_code(code)
    if digits is None:
        raise ValueError("not a receipt code")
    return hmac.new(pepper.encode("utf-8"), digits.encode("ascii"), hashlib.sha256).digest()
