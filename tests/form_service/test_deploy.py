"""`form_service.deploy` writes a Compose deployment that the apps accept, and never replaces
a secret that exists."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

from form_service import deploy
from form_service.cli.startup import production_problems
from form_service.deploy import DeployError, Plan, init_deployment, read_env
from form_service.deskkey import INTERACTIVE, unlock_private_key
from form_service.settings import IntakeSettings, ReviewSettings


def plan_for(tmp_path: Path, **overrides: object) -> Plan:
    """Return a plan for a deployment under tmp_path, passphrase on a second 'mount'."""
    values: dict[str, object] = {
        "folder": tmp_path / "office",
        "site_host": "tips.example.org",
        "desk_host": "desk.example.org",
        "passphrase_file": tmp_path / "offline" / "desk-passphrase",
        "key_strength": INTERACTIVE,
    }
    values.update(overrides)
    return Plan(**values)  # type: ignore[arg-type]


def test_every_file_compose_reads_is_written_owner_only(tmp_path: Path) -> None:
    plan = plan_for(tmp_path)
    report = init_deployment(plan)
    secrets = plan.secrets
    expected = {
        *(secrets / name for name in ("db_owner_password", "db_intake_password")),
        secrets / "db_desk_password",
        *(secrets / name for name in ("desk-key.json", "intake.env", "review.env")),
        secrets / "audit-key",
        secrets / "migrate.env",
        *(secrets / "tls" / name for name in ("fullchain.pem", "privkey.pem")),
        *(secrets / "tls" / name for name in ("rsa-fullchain.pem", "rsa-privkey.pem")),
        plan.folder / ".env",
        tmp_path / "offline" / "desk-passphrase",
    }
    assert set(report.written) == expected
    assert report.kept == []
    for path in expected:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(secrets.stat().st_mode) == 0o700


def test_the_apps_accept_the_env_files_and_the_key_unlocks(tmp_path: Path) -> None:
    plan = plan_for(tmp_path)
    init_deployment(plan)
    intake = read_env(plan.secrets / "intake.env")
    review = read_env(plan.secrets / "review.env")
    assert IntakeSettings.from_env({"FORM_SERVICE_ENV": "production", **intake}).problems() == []
    review_settings = ReviewSettings.from_env({"FORM_SERVICE_ENV": "production", **review})
    assert review_settings.problems() == []
    # Each app gets its own secrets only.
    assert "FORM_SERVICE_RECEIPT_PEPPER" not in review
    assert "FORM_SERVICE_REVIEW_SECRET_KEY" not in intake
    passphrase = plan.passphrase_file.read_text()  # type: ignore[union-attr]
    key = unlock_private_key((plan.secrets / "desk-key.json").read_bytes(), passphrase)
    assert key.public_key.encode().hex() and intake["FORM_SERVICE_DESK_PUBLIC_KEY"]
    # Each app connects as its own role, with that role's password; migrations as the owner.
    for env, role, file in (
        (intake, "formservice_intake", "db_intake_password"),
        (review, "formservice_desk", "db_desk_password"),
    ):
        secret = (plan.secrets / file).read_text()
        assert f"//{role}:{secret}@db:5432/formservice" in env["FORM_SERVICE_DATABASE_URL"]
    password = (plan.secrets / "db_owner_password").read_text()
    assert read_env(plan.secrets / "migrate.env") == {
        "FORM_SERVICE_DATABASE_URL": f"postgresql+psycopg://formservice:{password}@db:5432/formservice"
    }


def test_production_accepts_the_env_files_with_composes_environment(tmp_path: Path) -> None:
    plan = plan_for(tmp_path)
    init_deployment(plan)
    # What docker-compose.yml adds to each app's env file.
    compose = {
        "FORM_SERVICE_ENV": "production",
        "FORM_SERVICE_RATELIMIT_STORAGE_URL": "redis://redis:6379/0",
        "FORM_SERVICE_DESK_PASSPHRASE_FILE": "/run/secrets/desk_passphrase",
        "FORM_SERVICE_AUDIT_KEY_FILE": str(plan.secrets / "audit-key"),
    }
    intake = {**read_env(plan.secrets / "intake.env"), **compose}
    review = {**read_env(plan.secrets / "review.env"), **compose}
    assert production_problems(IntakeSettings.from_env(intake), intake) == []
    assert production_problems(ReviewSettings.from_env(review), review) == []


@pytest.mark.parametrize("secret", ["FORM_SERVICE_SECRET_KEY", "FORM_SERVICE_RECEIPT_PEPPER"])
def test_a_desk_secret_equal_to_the_intakes_is_refused(tmp_path: Path, secret: str) -> None:
    plan = plan_for(tmp_path)
    init_deployment(plan)
    review = read_env(plan.secrets / "review.env")
    review["FORM_SERVICE_REVIEW_SECRET_KEY"] = read_env(plan.secrets / "intake.env")[secret]
    (plan.secrets / "review.env").write_bytes(deploy.env_text(review))
    with pytest.raises(DeployError, match="same secret key"):
        init_deployment(plan)


def test_a_passphrase_on_the_keys_filesystem_is_warned_about(tmp_path: Path) -> None:
    report = init_deployment(plan_for(tmp_path))  # tmp_path: one filesystem for both
    assert any("same filesystem as the key" in warning for warning in report.warnings)
    memory = Path("/dev/shm")  # a tmpfs, as the docs advise
    if memory.is_dir() and os.stat(memory).st_dev != os.stat(tmp_path).st_dev:
        apart = memory / f"test-passphrase-{os.getpid()}-{tmp_path.name}"
        try:
            report = init_deployment(plan_for(tmp_path / "second", passphrase_file=apart))
            assert report.warnings == []
        finally:
            apart.unlink(missing_ok=True)


def test_the_passphrase_is_never_written_beside_the_key(tmp_path: Path) -> None:
    plan = plan_for(tmp_path, passphrase_file=None)
    report = init_deployment(plan)
    assert report.passphrase and len(report.passphrase) >= 32
    unlock_private_key((plan.secrets / "desk-key.json").read_bytes(), report.passphrase)
    everything = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert not any(report.passphrase.encode() in path.read_bytes() for path in everything)
    assert "DESK_PASSPHRASE_FILE" not in read_env(plan.folder / ".env")


@pytest.mark.parametrize("inside", ["secrets/desk-passphrase", "desk-passphrase"])
def test_a_passphrase_file_inside_the_deployment_is_refused(tmp_path: Path, inside: str) -> None:
    plan = plan_for(tmp_path, passphrase_file=tmp_path / "office" / inside)
    with pytest.raises(DeployError, match="apart from the key"):
        init_deployment(plan)
    assert not (tmp_path / "office" / "secrets").exists()


@pytest.mark.parametrize("host", ["", "tips example.org", "tips.example.org/", "-x.org", "a;b"])
def test_a_malformed_host_is_refused(tmp_path: Path, host: str) -> None:
    with pytest.raises(DeployError, match="site host"):
        init_deployment(plan_for(tmp_path, site_host=host))


def test_a_second_run_keeps_every_secret_and_fills_in_what_is_missing(tmp_path: Path) -> None:
    plan = plan_for(tmp_path)
    init_deployment(plan)
    before = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()}
    (plan.secrets / "review.env").unlink()
    report = init_deployment(plan)
    assert report.written == [plan.secrets / "review.env"]
    after = {path: path.read_bytes() for path in tmp_path.rglob("*") if path.is_file()}
    for path, content in before.items():
        if path.name != "review.env":
            assert after[path] == content, path
    # The new review.env agrees with what was kept: same public key, the desk's password.
    review, intake = read_env(plan.secrets / "review.env"), read_env(plan.secrets / "intake.env")
    assert review["FORM_SERVICE_DESK_PUBLIC_KEY"] == intake["FORM_SERVICE_DESK_PUBLIC_KEY"]
    desk_password = (plan.secrets / "db_desk_password").read_text()
    assert f":{desk_password}@" in review["FORM_SERVICE_DATABASE_URL"]


def test_an_existing_passphrase_file_is_used_for_a_new_key(tmp_path: Path) -> None:
    plan = plan_for(tmp_path)
    plan.passphrase_file.parent.mkdir()  # type: ignore[union-attr]
    plan.passphrase_file.write_text("an office's own long passphrase\n")  # type: ignore[union-attr]
    init_deployment(plan)
    key_file = (plan.secrets / "desk-key.json").read_bytes()
    unlock_private_key(key_file, "an office's own long passphrase")


@pytest.mark.parametrize(("name", "algorithm"), [("", "prime256v1"), ("rsa-", "(3072 bit)")])
def test_the_certificates_say_they_are_placeholders_for_both_hosts(
    tmp_path: Path, name: str, algorithm: str
) -> None:
    plan = plan_for(tmp_path, site_host="localhost:19443", desk_host="desk.example.org")
    init_deployment(plan)
    shown = subprocess.run(
        ["openssl", "x509", "-noout", "-subject", "-ext", "subjectAltName", "-text"],
        input=(plan.secrets / "tls" / f"{name}fullchain.pem").read_bytes(),
        capture_output=True,
        check=True,
    ).stdout.decode()
    assert "PLACEHOLDER" in shown
    assert "DNS:localhost, DNS:desk.example.org" in shown
    assert algorithm in shown


def test_each_mounted_file_goes_to_the_container_user_reading_it(tmp_path: Path) -> None:
    plan = plan_for(tmp_path)
    report = init_deployment(plan)
    readers = {
        plan.secrets / "tls" / "privkey.pem": deploy.WEB_UID,
        plan.secrets / "desk-key.json": deploy.APP_UID,
        plan.passphrase_file: deploy.APP_UID,
        plan.secrets / "db_owner_password": deploy.POSTGRES_UID,
    }
    if os.geteuid() == 0:
        assert report.owners == {}
        for path, uid in readers.items():
            assert path.stat().st_uid == uid, path  # type: ignore[union-attr]
        assert (plan.secrets / "intake.env").stat().st_uid == 0  # read by Compose, as root
    else:
        # Without root nothing can be handed over: the command lists what to chown.
        assert {path: report.owners[path] for path in readers} == readers  # type: ignore[index]
