"""Staff passwords: 15 to 128 characters, refused with a reason when easy to guess, Argon2id."""

from __future__ import annotations

import pytest

from form_service.review.auth import passwords


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
