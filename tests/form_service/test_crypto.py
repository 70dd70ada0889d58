"""Tips are sealed to the desk key; receipt codes are random digits stored only as a keyed hash."""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import re

import pytest
from nacl.exceptions import CryptoError
from nacl.public import PrivateKey

from form_service.crypto import (
    RECEIPT_DIGITS,
    PlainAttachment,
    group_receipt_code,
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


def test_a_receipt_code_is_twenty_five_digits_in_groups_of_five() -> None:
    codes = {new_receipt_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert re.fullmatch(r"\d{5}( \d{5}){4}", code)
    # 10**25 codes: at least 80 bits of entropy.
    assert math.log2(10**RECEIPT_DIGITS) >= 80


def test_a_seed_gives_the_same_code_every_time_and_a_different_seed_another() -> None:
    seed = bytes(range(16))
    assert new_receipt_code(seed) == new_receipt_code(seed)
    assert new_receipt_code(seed) != new_receipt_code(bytes(range(1, 17)))
    assert re.fullmatch(r"\d{5}( \d{5}){4}", new_receipt_code(b"x" * 32))
    with pytest.raises(ValueError):
        new_receipt_code(b"short")


def test_seeded_codes_spread_over_every_digit() -> None:
    digits = "".join(new_receipt_code(i.to_bytes(16, "big")).replace(" ", "") for i in range(400))
    counts = [digits.count(str(digit)) for digit in range(10)]
    # 10,000 digits: each should appear about 1,000 times.
    assert min(counts) > 850 and max(counts) < 1150


def test_a_typed_code_is_normalized_full_width_digits_included() -> None:
    # A Japanese input method types full-width digits, spaces and dashes.
    code = "12345 67890 12345 67890 12345"
    full_width = "".join(chr(ord(char) + 0xFEE0) if char.isdigit() else char for char in code)
    expected = code.replace(" ", "")
    assert normalize_receipt_code(code) == expected
    assert normalize_receipt_code(full_width) == expected
    assert normalize_receipt_code(full_width.replace(" ", "\u3000")) == expected
    assert normalize_receipt_code(code.replace(" ", "-")) == expected
    assert normalize_receipt_code(code.replace(" ", "\uff0d")) == expected
    assert normalize_receipt_code(" " + code.replace(" ", " - ") + "\n") == expected


def test_old_twenty_digit_codes_still_normalize_and_hash_as_before() -> None:
    old = "1234 5678 9012 3456 7890"
    assert normalize_receipt_code(old) == "12345678901234567890"
    # The hash of an old code is unchanged: HMAC-SHA256 of its 20 digits.
    expected = hmac.new(b"pepper", b"12345678901234567890", hashlib.sha256).digest()
    assert receipt_hash("pepper", old) == expected
    assert group_receipt_code("12345678901234567890") == old


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "     ",
        "1234",
        "1234 5678 9012 3456 789x",
        "12345 67890 12345 67890 1234",  # 24 digits
        "12345 67890 12345 67890 123456",  # 26 digits
        "abcde fghij klmno pqrst uvwxy",
        "1" * 10_000,
        "12345 67890 12345\x00 67890 12345",
        "١٢٣٤٥٦٧٨٩٠١٢٣٤٥٦٧٨٩٠١٢٣٤٥",  # Arabic-Indic digits are not ASCII after folding
        "12345_67890_12345_67890_12345",
    ],
)
def test_malformed_codes_normalize_to_none(typed: str) -> None:
    assert normalize_receipt_code(typed) is None
    with pytest.raises(ValueError):
        receipt_hash("pepper", typed)


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
