"""Tips are sealed to the desk key; receipt codes are random digits stored only as a keyed hash."""

from __future__ import annotations

import base64
import re

import pytest
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey

from form_service.crypto import (
    PlainAttachment,
    load_public_key,
    new_receipt_code,
    normalize_receipt_code,
    open_attachment,
    open_tip,
    receipt_hash,
    seal_tip,
)


def test_a_sealed_tip_opens_with_the_desk_key_only() -> None:
    desk = PrivateKey.generate()
    fields = {"message": "見ました — 1983", "contact": ""}
    files = [PlainAttachment(data=b"%PDF-1.4 x", content_type="application/pdf", safe_name="a.pdf")]
    sealed = seal_tip(desk.public_key, fields, files)

    assert open_tip(desk, sealed.sealed_key, sealed.ciphertext) == fields
    opened = open_attachment(desk, sealed.sealed_key, sealed.attachments[0])
    assert opened == files[0]
    with pytest.raises(CryptoError):
        open_tip(PrivateKey.generate(), sealed.sealed_key, sealed.ciphertext)


def test_the_plaintext_appears_nowhere_in_what_is_stored() -> None:
    desk = PrivateKey.generate()
    sealed = seal_tip(desk.public_key, {"message": "MARKER-plain"}, [])
    stored = sealed.sealed_key + sealed.ciphertext
    assert b"MARKER-plain" not in stored


def test_each_tip_gets_a_fresh_key() -> None:
    desk = PrivateKey.generate()
    first = seal_tip(desk.public_key, {"message": "same"}, [])
    second = seal_tip(desk.public_key, {"message": "same"}, [])
    assert first.sealed_key != second.sealed_key
    assert first.ciphertext != second.ciphertext


def test_the_public_key_is_read_from_base64() -> None:
    desk = PrivateKey.generate()
    text = base64.b64encode(bytes(desk.public_key)).decode()
    assert bytes(load_public_key(text)) == bytes(desk.public_key)
    with pytest.raises(ValueError):
        load_public_key("abc")


def test_a_receipt_code_is_twenty_digits_in_groups_of_four() -> None:
    codes = {new_receipt_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert re.fullmatch(r"\d{4}( \d{4}){4}", code)


def test_a_typed_code_is_normalized_full_width_digits_included() -> None:
    # A Japanese input method types full-width digits.
    full_width = "".join(chr(ord(digit) + 0xFEE0) for digit in "12345678")
    typed = f"{full_width[:4]} {full_width[4:]}-9012 3456 7890"
    assert normalize_receipt_code(typed) == "12345678901234567890"
    assert normalize_receipt_code("1234") is None
    assert normalize_receipt_code("1234 5678 9012 3456 789x") is None


def test_the_receipt_hash_depends_on_the_pepper() -> None:
    code = new_receipt_code()
    assert receipt_hash("pepper-one", code) == receipt_hash("pepper-one", code.replace(" ", ""))
    assert receipt_hash("pepper-one", code) != receipt_hash("pepper-two", code)
    assert len(receipt_hash("pepper-one", code)) == 32


def test_stored_sizes_show_only_whole_blocks_not_exact_lengths() -> None:
    keys = PrivateKey.generate()
    short = seal_tip(keys.public_key, {"message": "a"}, [])
    longer = seal_tip(keys.public_key, {"message": "a" * 3000}, [])
    assert len(short.ciphertext) == len(longer.ciphertext)
    files = [PlainAttachment(b"x" * n, "text/plain", f"file-{n}.txt") for n in (10, 60000)]
    sealed = seal_tip(keys.public_key, {"message": "files"}, files)
    assert len(sealed.attachments[0]) == len(sealed.attachments[1])
    opened = [open_attachment(keys, sealed.sealed_key, item) for item in sealed.attachments]
    assert [item.data for item in opened] == [b"x" * 10, b"x" * 60000]
    assert open_tip(keys, longer.sealed_key, longer.ciphertext) == {"message": "a" * 3000}
