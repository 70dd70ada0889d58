"""Staff password policy and hashing: length, a bundled dictionary, Argon2id."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn import zxcvbn

MIN_LENGTH = 15
MAX_LENGTH = 128
# zxcvbn scores 0-4; below 3 its own dictionaries (common passwords, names, words,
# keyboard patterns, repeats) make the password guessable within about 10^8 tries.
MIN_SCORE = 3

_hasher = PasswordHasher()  # argon2-cffi defaults to Argon2id (RFC 9106 low-memory profile).


def password_problem(password: str, *, context: tuple[str, ...] = ()) -> str | None:
    """Return why a password is refused (a message in English), or None when it is accepted."""
    length = len(password)
    if length < MIN_LENGTH:
        return f"Use at least {MIN_LENGTH} characters (this one has {length})."
    if length > MAX_LENGTH:
        return f"Use at most {MAX_LENGTH} characters (this one has {length})."
    result = zxcvbn(password, user_inputs=list(context), max_length=MAX_LENGTH)
    sequence = result["sequence"]
    if len(sequence) == 1 and sequence[0]["pattern"] == "dictionary":
        return "This password is in a list of common or breached passwords."
    if result["score"] < MIN_SCORE:
        warning = result["feedback"].get("warning") or "It is made of common words or patterns."
        return f"This password is too easy to guess: {warning}"
    return None


def hash_password(password: str) -> str:
    """Hash a password with Argon2id."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Tell whether the password matches the stored Argon2id hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def dummy_verify(password: str) -> None:
    """Spend the time of one verification, so an unknown account answers as slowly as a real one."""
    verify_password(_DUMMY_HASH, password)


_DUMMY_HASH = _hasher.hash("not-a-real-account-password")
