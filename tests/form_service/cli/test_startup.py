"""A service that could only fail later refuses to start: exit 4, one line that says why."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path
from typing import Any

import pytest

from form_service.cli.startup import EXIT_UNUSABLE, check_or_exit
from form_service.deskkey import INTERACTIVE, generate_key_pair
from tests.conftest import ROOT
from tests.form_service.factories import make_settings
from tests.reliability.servers import free_port, intake_environment, settings_environment

PASSPHRASE = "correct horse battery staple, twice over"  # noqa: S105 - a test key's passphrase


@pytest.fixture
def intake_env(db_url: str, desk_public_key: str, tmp_path: Path) -> dict[str, str]:
    """Return a working development intake's environment on a migrated database."""
    settings = make_settings(db_url, desk_public_key, instance_dir=tmp_path)
    # SQLite and http cookies: production refuses those (test_production_refuses_*).
    return {**settings_environment(settings), "FORM_SERVICE_ENV": "development"}


@pytest.fixture
def review_env(db_url: str, tmp_path: Path) -> dict[str, str]:
    """Return a working development desk's environment: a key file, its passphrase, the database."""
    public_key, key_file = generate_key_pair(PASSPHRASE, INTERACTIVE)
    (tmp_path / "desk.key").write_bytes(key_file)
    return {
        "FORM_SERVICE_ENV": "development",
        "FORM_SERVICE_DATABASE_URL": db_url,
        "FORM_SERVICE_REVIEW_SECRET_KEY": "review-secret-" + "r" * 32,
        "FORM_SERVICE_DESK_KEY_FILE": str(tmp_path / "desk.key"),
        "FORM_SERVICE_DESK_PASSPHRASE": PASSPHRASE,
        "FORM_SERVICE_DESK_PUBLIC_KEY": public_key,
    }


def refusal(app: str, env: dict[str, str], capsys: Any) -> str:
    """Run the check, expect exit 4 and return its one line."""
    with pytest.raises(SystemExit) as stopped:
        check_or_exit(app, env)
    assert stopped.value.code == EXIT_UNUSABLE
    line = capsys.readouterr().err
    assert line.count("\n") == 1 and line.startswith(f"form-service {app}: refusing to start: ")
    return line


def gunicorn(app: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run gunicorn with the production settings file on `app` until it exits."""
    command = [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", "deploy/gunicorn.conf.py"]
    return subprocess.run(
        [*command, f"form_service.{app}:create_app()"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_usable_intake_and_desk_start(
    intake_env: dict[str, str], review_env: dict[str, str]
) -> None:
    check_or_exit("intake", intake_env)
    check_or_exit("review", review_env)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"FORM_SERVICE_SECRET_KEY": ""}, "FORM_SERVICE_SECRET_KEY"),
        ({"FORM_SERVICE_DEBUG": "true", "FORM_SERVICE_ENV": "production"}, "debug mode"),
        ({"FORM_SERVICE_DESK_PUBLIC_KEY": "not a key"}, "public key"),
        ({"FORM_SERVICE_DATABASE_URL": "mysql://db/tips"}, "scheme"),
        ({"FORM_SERVICE_CSRF_TIME_LIMIT": "soon"}, "integer"),
    ],
    ids=["empty-secret", "debug-in-production", "bad-public-key", "unknown-scheme", "bad-int"],
)
def test_a_broken_intake_setting_refuses_to_start(
    intake_env: dict[str, str], capsys: Any, change: dict[str, str], reason: str
) -> None:
    assert reason in refusal("intake", {**intake_env, **change}, capsys)


def test_an_unmigrated_database_refuses_to_start(
    intake_env: dict[str, str], tmp_path: Path, capsys: Any
) -> None:
    empty = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    line = refusal("intake", {**intake_env, "FORM_SERVICE_DATABASE_URL": empty}, capsys)
    assert "run db upgrade" in line


def test_an_unreachable_database_refuses_to_start(intake_env: dict[str, str], capsys: Any) -> None:
    gone = f"postgresql+psycopg://nobody@127.0.0.1:{free_port()}/none"
    line = refusal("intake", {**intake_env, "FORM_SERVICE_DATABASE_URL": gone}, capsys)
    assert "cannot be reached" in line


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"FORM_SERVICE_DESK_KEY_FILE": "/nonexistent/desk.key"}, "cannot be read"),
        ({"FORM_SERVICE_DESK_PASSPHRASE": "wrong passphrase, quite wrong"}, "wrong passphrase"),
        ({"FORM_SERVICE_REVIEW_SECRET_KEY": ""}, "FORM_SERVICE_REVIEW_SECRET_KEY"),
        (
            {"FORM_SERVICE_DESK_PUBLIC_KEY": base64.b64encode(b"k" * 32).decode()},
            "does not match",
        ),
    ],
    ids=["missing-key-file", "wrong-passphrase", "empty-secret", "other-public-key"],
)
def test_a_broken_desk_setting_refuses_to_start(
    review_env: dict[str, str], capsys: Any, change: dict[str, str], reason: str
) -> None:
    assert reason in refusal("review", {**review_env, **change}, capsys)


def test_gunicorn_exits_4_before_any_worker_starts(
    intake_env: dict[str, str], tmp_path: Path
) -> None:
    env = intake_environment({**intake_env, "FORM_SERVICE_SECRET_KEY": ""}, free_port(), 1)
    completed = gunicorn("intake", env)
    assert completed.returncode == EXIT_UNUSABLE
    assert "form-service intake: refusing to start: " in completed.stderr
    assert "Booting worker" not in completed.stderr


@pytest.fixture
def production_env(migrated_postgres: str, desk_public_key: str, tmp_path: Path) -> dict[str, str]:
    """Return the environment of an intake and a desk as production runs them, side by side."""
    public_key, key_file = generate_key_pair(PASSPHRASE, INTERACTIVE)
    (tmp_path / "desk.key").write_bytes(key_file)
    (tmp_path / "passphrase").write_text(PASSPHRASE + "\n")
    (tmp_path / "audit-key").write_text("audit-key-" + "a" * 40)
    return {
        "FORM_SERVICE_ENV": "production",
        "FORM_SERVICE_DATABASE_URL": migrated_postgres,
        "FORM_SERVICE_RATELIMIT_STORAGE_URL": "redis://127.0.0.1:6379/9",
        "FORM_SERVICE_SECRET_KEY": "intake-secret-" + "s" * 32,
        "FORM_SERVICE_RECEIPT_PEPPER": "intake-pepper-" + "p" * 32,
        "FORM_SERVICE_REVIEW_SECRET_KEY": "review-secret-" + "r" * 32,
        "FORM_SERVICE_DESK_PUBLIC_KEY": public_key,
        "FORM_SERVICE_DESK_KEY_FILE": str(tmp_path / "desk.key"),
        "FORM_SERVICE_DESK_PASSPHRASE_FILE": str(tmp_path / "passphrase"),
        "FORM_SERVICE_AUDIT_KEY_FILE": str(tmp_path / "audit-key"),
    }


def test_production_starts_with_its_settings(production_env: dict[str, str]) -> None:
    check_or_exit("intake", production_env)
    check_or_exit("review", production_env)


PRODUCTION_REFUSALS = {
    "cookie-not-secure": ({"FORM_SERVICE_COOKIE_SECURE": "false"}, "COOKIE_SECURE=false"),
    "memory-storage": ({"FORM_SERVICE_RATELIMIT_STORAGE_URL": "memory://"}, "memory://"),
    "sqlite": ({"FORM_SERVICE_DATABASE_URL": "sqlite:////tmp/never.sqlite3"}, "SQLite"),
    "desk-secret-is-intake-secret": (
        {"FORM_SERVICE_REVIEW_SECRET_KEY": "intake-secret-" + "s" * 32},
        "the desk's secret key equals",
    ),
    "desk-secret-is-pepper": (
        {"FORM_SERVICE_REVIEW_SECRET_KEY": "intake-pepper-" + "p" * 32},
        "the desk's secret key equals",
    ),
}


@pytest.mark.parametrize("app", ["intake", "review"])
@pytest.mark.parametrize(
    ("change", "reason"), PRODUCTION_REFUSALS.values(), ids=PRODUCTION_REFUSALS.keys()
)
def test_production_refuses_an_insecure_setting(
    production_env: dict[str, str], capsys: Any, app: str, change: dict[str, str], reason: str
) -> None:
    assert reason in refusal(app, {**production_env, **change}, capsys)


def test_production_refuses_a_desk_passphrase_from_the_environment(
    production_env: dict[str, str], capsys: Any
) -> None:
    env = {**production_env, "FORM_SERVICE_DESK_PASSPHRASE": PASSPHRASE}
    del env["FORM_SERVICE_DESK_PASSPHRASE_FILE"]
    assert "FORM_SERVICE_DESK_PASSPHRASE_FILE" in refusal("review", env, capsys)


def test_production_refuses_a_desk_without_an_audit_key(
    production_env: dict[str, str], capsys: Any
) -> None:
    env = {**production_env}
    del env["FORM_SERVICE_AUDIT_KEY_FILE"]
    assert "FORM_SERVICE_AUDIT_KEY_FILE" in refusal("review", env, capsys)


def test_a_short_audit_key_refuses_to_start(
    production_env: dict[str, str], tmp_path: Path, capsys: Any
) -> None:
    (tmp_path / "audit-key").write_text("short")
    assert "audit key" in refusal("review", production_env, capsys)


def test_development_accepts_what_production_refuses(production_env: dict[str, str]) -> None:
    env = {**production_env, "FORM_SERVICE_ENV": "development"}
    env.update(FORM_SERVICE_COOKIE_SECURE="false", FORM_SERVICE_RATELIMIT_STORAGE_URL="memory://")
    env["FORM_SERVICE_DESK_PASSPHRASE"] = PASSPHRASE
    del env["FORM_SERVICE_DESK_PASSPHRASE_FILE"]
    check_or_exit("intake", env)
    check_or_exit("review", env)


def test_gunicorn_refuses_memory_storage_in_production(
    production_env: dict[str, str],
) -> None:
    env = intake_environment({}, free_port(), 1)
    env.update(production_env, FORM_SERVICE_RATELIMIT_STORAGE_URL="memory://")
    completed = gunicorn("review", env)
    assert completed.returncode == EXIT_UNUSABLE
    assert "form-service review: refusing to start: memory://" in completed.stderr
