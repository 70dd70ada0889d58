"""Settings come from FORM_SERVICE_* variables; secrets have no default; unsafe setups refuse."""

from __future__ import annotations

import re
from typing import Any

import pytest

from form_service.settings import IntakeSettings, ReviewSettings, SettingsError

PUBLIC_KEY = "q4Fq8yXy3m5O0N4l1fI2XGm0Xo3y9p7C3fP9u2b1w0U="


def environment(**overrides: str) -> dict[str, str]:
    """Return a complete environment for the service, with overrides."""
    env = {
        "FORM_SERVICE_SECRET_KEY": "k" * 40,
        "FORM_SERVICE_RECEIPT_PEPPER": "p" * 40,
        "FORM_SERVICE_DESK_PUBLIC_KEY": PUBLIC_KEY,
    }
    env.update(overrides)
    return env


def test_settings_are_read_from_the_environment(tmp_path: Any) -> None:
    settings = IntakeSettings.from_env(
        environment(
            FORM_SERVICE_INSTANCE_DIR=str(tmp_path),
            FORM_SERVICE_PROXY_FIX_X_FOR="1",
            FORM_SERVICE_COOKIE_SECURE="false",
            FORM_SERVICE_RATELIMIT_STORAGE_URL="redis://127.0.0.1:6379/0",
        )
    )
    assert settings.database_url == f"sqlite:///{tmp_path}/form_service.sqlite3"
    assert settings.proxy_fix_x_for == 1
    assert settings.cookie_secure is False
    assert settings.ratelimit_storage_url == "redis://127.0.0.1:6379/0"
    assert settings.environment == "production"


@pytest.mark.parametrize(
    "missing",
    ["FORM_SERVICE_SECRET_KEY", "FORM_SERVICE_RECEIPT_PEPPER", "FORM_SERVICE_DESK_PUBLIC_KEY"],
)
def test_a_missing_secret_refuses_to_start(missing: str) -> None:
    env = environment()
    del env[missing]
    with pytest.raises(SettingsError, match=missing):
        IntakeSettings.from_env(env)


def test_debug_is_refused_in_production() -> None:
    with pytest.raises(SettingsError, match="debug"):
        IntakeSettings.from_env(environment(FORM_SERVICE_DEBUG="true"))


def test_debug_is_allowed_in_development() -> None:
    settings = IntakeSettings.from_env(
        environment(FORM_SERVICE_DEBUG="true", FORM_SERVICE_ENV="development")
    )
    assert settings.debug


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("FORM_SERVICE_SECRET_KEY", "short"),
        ("FORM_SERVICE_DESK_PUBLIC_KEY", "not a key"),
        ("FORM_SERVICE_CSRF_TIME_LIMIT", "3600"),
        ("FORM_SERVICE_ENV", "staging"),
        ("FORM_SERVICE_DEBUG", "maybe"),
        ("FORM_SERVICE_PROXY_FIX_X_FOR", "one"),
    ],
)
def test_an_invalid_value_refuses_to_start(name: str, value: str) -> None:
    with pytest.raises(SettingsError):
        IntakeSettings.from_env(environment(**{name: value}))


def test_secrets_never_show_in_repr() -> None:
    settings = IntakeSettings.from_env(environment())
    assert "k" * 40 not in repr(settings)
    assert "p" * 40 not in repr(settings)


def test_settings_are_frozen() -> None:
    settings = IntakeSettings.from_env(environment())
    with pytest.raises(AttributeError):
        settings.debug = True  # type: ignore[misc]


def test_every_variable_is_documented_in_env_example() -> None:
    from form_service.settings import PREFIX, PROJECT_DIR

    documented = (PROJECT_DIR / ".env.example").read_text(encoding="utf-8")
    names = {var.name for kind in (IntakeSettings, ReviewSettings) for var in kind.variables()}
    for name in sorted(names):
        assert f"{PREFIX}{name}=" in documented, f"{PREFIX}{name} is not in .env.example"


def test_every_variable_read_anywhere_is_documented_in_env_example() -> None:
    from form_service.settings import PROJECT_DIR

    documented = set(
        re.findall(
            r"^(FORM_SERVICE_[A-Z0-9_]+)=",
            (PROJECT_DIR / ".env.example").read_text(encoding="utf-8"),
            flags=re.MULTILINE,
        )
    )
    read = set()
    for source in (PROJECT_DIR / "form_service").rglob("*.py"):
        read |= set(re.findall(r"\"(FORM_SERVICE_[A-Z0-9_]+)\"", source.read_text("utf-8")))
    assert read, "the scan found no variables at all"
    assert read - documented == set()
