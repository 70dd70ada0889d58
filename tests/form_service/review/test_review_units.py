"""Unit tests for the desk's pure parts: passwords, TOTP, export cells, chart, inert text."""

from __future__ import annotations

import csv
import io
import json
from datetime import date

import pyotp
import pytest

from form_service.review import chart, export, text
from form_service.review.auth import passwords, totp


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("short", "at least 15"),
        ("x" * 129, "at most 128"),
        ("passwordpassword", "too easy"),
        ("qwertyuiopasdfghjkl", "too easy"),
        ("123456789012345678", "too easy"),
    ],
)
def test_weak_passwords_are_refused_with_a_reason(password: str, reason: str) -> None:
    problem = passwords.password_problem(password)
    assert problem is not None
    assert reason in problem


@pytest.mark.parametrize(
    "password",
    [
        "tangerine ocelot fjord quiver",
        "拉致問題の情報を安全に受け取るための合言葉です",
        "Vr7#kq2!Lm9@zX4$wp",
    ],
)
def test_long_uncommon_passwords_are_accepted_without_composition_rules(password: str) -> None:
    assert passwords.password_problem(password) is None


def test_a_128_character_password_is_checked_not_crashing() -> None:
    problem = passwords.password_problem(("glacier-umbrella-zebra-quilt-" * 5)[:128])
    assert problem is None or "easy" in problem


def test_password_hash_is_argon2id_and_verifies() -> None:
    hashed = passwords.hash_password("tangerine ocelot fjord quiver")
    assert hashed.startswith("$argon2id$")
    assert passwords.verify_password(hashed, "tangerine ocelot fjord quiver")
    assert not passwords.verify_password(hashed, "tangerine ocelot fjord quivers")
    assert not passwords.verify_password("not a hash", "anything")


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
    assert totp.matching_step(totp.new_secret(), code, None) is None


def test_qr_code_is_svg_drawn_here_without_style_attributes() -> None:
    svg = totp.qr_svg(totp.provisioning_uri(totp.new_secret(), "a@example.org"))
    assert svg.startswith("<svg")
    assert "style=" not in svg
    assert "http" not in svg.replace("http://www.w3.org/2000/svg", "")


@pytest.mark.parametrize(
    "cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "\0x", '=HYPERLINK("http://x")']
)
def test_csv_formula_cells_are_neutralised(cell: str) -> None:
    rows = [{"message": cell, cell: "value"}]
    parsed = list(csv.reader(io.StringIO(export.to_csv(rows), newline="")))
    for value in parsed[0] + parsed[1]:
        assert not value.startswith(export.FORMULA_STARTS)
    assert parsed[1][0] == "'" + cell
    assert json.loads(export.to_json(rows))[0]["message"] == "'" + cell


def test_ordinary_cells_are_left_alone() -> None:
    rows = [{"message": "Hello, 世界 = fine", "labels": ["a", "b"]}]
    parsed = list(csv.reader(io.StringIO(export.to_csv(rows), newline="")))
    assert parsed == [["message", "labels"], ["Hello, 世界 = fine", "a, b"]]


def test_weekly_chart_draws_one_bar_per_week_with_a_title() -> None:
    weeks = chart.week_starts(date(2026, 11, 26))
    assert len(weeks) == 12
    assert weeks[-1] == date(2026, 11, 23)
    assert all(week.weekday() == 0 for week in weeks)
    svg = chart.weekly_chart([(week, i) for i, week in enumerate(weeks)], "Tips <per> week", "c1")
    assert svg.count("<rect") == 12
    assert "Tips &lt;per&gt; week" in svg
    assert 'aria-labelledby="c1"' in svg


def test_inert_text_escapes_markup_and_spells_out_hidden_characters() -> None:
    payload = '<script>alert(1)</script> <a href="javascript:x">y</a> gpj.\u202eexe \u200b{{ 7*7 }}'
    html = str(text.inert(payload))
    assert "<script" not in html
    assert "<a " not in html
    assert "\u202e" not in html
    assert "\u200b" not in html
    assert "[U+202E]" in html
    assert "[U+200B]" in html
    assert "{{ 7*7 }}" in html
    assert text.reveal_hidden("a\u2066b\nc") == "a[U+2066]b\nc"
