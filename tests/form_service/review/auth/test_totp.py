"""TOTP second factor: one step of drift, never the same code twice, a QR code drawn here."""

from __future__ import annotations

import pyotp
import pytest

from form_service.review.auth import totp


def test_totp_code_is_accepted_within_one_step_of_drift_only() -> None:
    secret = totp.new_secret()
    now = 1_800_000_000.0
    generator = pyotp.TOTP(secret)
    step = totp.current_step(now)
    for offset in (-1, 0, 1):
        code = generator.at((step + offset) * 30)
        assert totp.matching_step(secret, code, None, now) == step + offset
    for offset in (-2, 2):
        code = generator.at((step + offset) * 30)
        assert totp.matching_step(secret, code, None, now) is None


def test_totp_code_is_never_accepted_twice_nor_an_older_one() -> None:
    secret = totp.new_secret()
    now = 1_800_000_000.0
    generator = pyotp.TOTP(secret)
    step = totp.current_step(now)
    used = totp.matching_step(secret, generator.at(step * 30), None, now)
    assert used == step
    assert totp.matching_step(secret, generator.at(step * 30), used, now) is None
    assert totp.matching_step(secret, generator.at((step - 1) * 30), used, now) is None
    assert totp.matching_step(secret, generator.at((step + 1) * 30), used, now) == step + 1


FULL_WIDTH_DIGITS = "\uff11\uff12\uff13\uff14\uff15\uff16"


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", FULL_WIDTH_DIGITS])
def test_malformed_totp_codes_are_refused(code: str) -> None:
    assert totp.matching_step(totp.new_secret(), code, None, 1_800_000_000.0) is None


def test_qr_code_is_svg_drawn_here_without_style_attributes() -> None:
    svg = totp.qr_svg(totp.provisioning_uri(totp.new_secret(), "a@example.org"))
    assert svg.startswith("<svg")
    assert "style=" not in svg
    assert "http" not in svg.replace("http://www.w3.org/2000/svg", "")
