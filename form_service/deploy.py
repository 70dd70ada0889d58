"""Write a new Compose deployment: secrets/, the desk key pair, env files, a placeholder
certificate and `.env`, all that docker-compose.yml reads before its first `up`.

Nothing that exists is ever replaced: a second run fills in only what is missing and reuses
the passwords and the public key already written, so the env files always agree with them.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from form_service import deskkey
from form_service.files import FileExists, write_private

# Who reads each file inside its container (docker-compose.yml mounts them as Compose
# secrets, which keep the owner and mode they have on the host): nginx runs as www-data (33),
# the app image as 10001, PostgreSQL as postgres (999 in the official image).
WEB_UID, APP_UID, POSTGRES_UID = 33, 10001, 999
DATABASE = "formservice"
# The database roles and their password files. The owner runs the migrations and owns
# every table; `form-service db roles` gives intake and desk only what each app needs.
ROLES = {
    "owner": ("formservice", "db_owner_password"),
    "intake": ("formservice_intake", "db_intake_password"),
    "desk": ("formservice_desk", "db_desk_password"),
}
# The role each app's env file connects as: the Compose `migrate` job creates the intake's
# and the desk's roles after each upgrade (`form-service db roles`, with these passwords), and
# the `spool` batch shares intake.env.
APP_ROLES = {"migrate": "owner", "intake": "intake", "review": "desk"}
HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(:[0-9]{1,5})?$")
PLACEHOLDER_DAYS = 30


class DeployError(ValueError):
    """The deployment cannot be written as asked; the message says why."""


@dataclass
class Report:
    """What `init_deployment` wrote and what it found there already."""

    written: list[Path] = field(default_factory=list)
    kept: list[Path] = field(default_factory=list)
    # Files a container user must own (when this ran without root, it could not hand them over).
    owners: dict[Path, int] = field(default_factory=dict)
    passphrase: str | None = None  # set only when no passphrase file was asked for
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Plan:
    """Where the deployment goes and what it is for."""

    folder: Path
    site_host: str
    desk_host: str
    passphrase_file: Path | None = None
    desk_publish_address: str = "127.0.0.1"
    key_strength: deskkey.KdfStrength = deskkey.MODERATE

    @property
    def secrets(self) -> Path:
        """Return the secrets folder next to docker-compose.yml."""
        return self.folder / "secrets"


def check_plan(plan: Plan) -> None:
    """Refuse host names Compose or nginx would choke on, and a passphrase beside the key."""
    for name, host in (("site", plan.site_host), ("desk", plan.desk_host)):
        if not HOST.match(host):
            raise DeployError(f"the {name} host must be a DNS name (optionally :port): {host!r}")
    chosen = plan.passphrase_file
    if chosen is not None and chosen.resolve().is_relative_to(plan.folder.resolve()):
        raise DeployError(
            "keep the passphrase apart from the key: give a path outside this deployment "
            "(another disk or mount), not under it"
        )


def init_deployment(plan: Plan) -> Report:
    """Write every secret and setting the Compose stack needs, keeping what exists."""
    check_plan(plan)
    report = Report()
    plan.secrets.mkdir(mode=0o700, parents=True, exist_ok=True)
    (plan.secrets / "tls").mkdir(mode=0o700, exist_ok=True)
    readers = {"db_owner_password": POSTGRES_UID, "db_intake_password": APP_UID}
    readers["db_desk_password"] = APP_UID
    passwords = {
        role: _secret(report, plan.secrets / file, readers[file])
        for role, (_, file) in ROLES.items()
    }
    public_key = _desk_key(plan, report)
    # The audit chain's HMAC key: read by the desk, never by the database (docs/security.md).
    _file(report, plan.secrets / "audit-key", lambda: secrets.token_urlsafe(48).encode(), APP_UID)
    urls = {app: _database_url(role, passwords[role]) for app, role in APP_ROLES.items()}
    intake = {
        "FORM_SERVICE_SECRET_KEY": secrets.token_urlsafe(48),
        "FORM_SERVICE_RECEIPT_PEPPER": secrets.token_urlsafe(48),
        "FORM_SERVICE_DESK_PUBLIC_KEY": public_key,
        "FORM_SERVICE_DATABASE_URL": urls["intake"],
    }
    review = {
        "FORM_SERVICE_REVIEW_SECRET_KEY": secrets.token_urlsafe(48),
        "FORM_SERVICE_DESK_PUBLIC_KEY": public_key,
        "FORM_SERVICE_DATABASE_URL": urls["review"],
    }
    _file(report, plan.secrets / "intake.env", lambda: env_text(intake))
    _file(report, plan.secrets / "review.env", lambda: env_text(review))
    check_own_secrets(plan.secrets / "intake.env", plan.secrets / "review.env")
    migrate = {"FORM_SERVICE_DATABASE_URL": urls["migrate"]}
    _file(report, plan.secrets / "migrate.env", lambda: env_text(migrate))
    for kind in ("ec", "rsa"):
        _certificate(plan, report, kind)
    compose = {
        "SITE_HOST": plan.site_host,
        "DESK_HOST": plan.desk_host,
        "DESK_PUBLISH_ADDRESS": plan.desk_publish_address,
    }
    if plan.passphrase_file is not None:
        compose["DESK_PASSPHRASE_FILE"] = str(plan.passphrase_file.resolve())
    _file(report, plan.folder / ".env", lambda: env_text(compose))
    if plan.passphrase_file is not None and same_disk(plan.passphrase_file, plan.secrets):
        report.warnings.append(
            f"{plan.passphrase_file} is on the same filesystem as the key: a copy of that disk "
            "opens every tip; move it to a tmpfs (/run/...) written at each start, or a "
            "removable medium (docs/deployment.md)"
        )
    return report


def same_disk(path: Path, other: Path) -> bool:
    """Tell whether two paths live on one filesystem (the same device)."""
    return os.stat(path).st_dev == os.stat(other).st_dev


def check_own_secrets(intake_env: Path, review_env: Path) -> None:
    """Refuse a desk secret equal to an intake secret (an env file edited by hand, say)."""
    intake, review = read_env(intake_env), read_env(review_env)
    desk = review.get("FORM_SERVICE_REVIEW_SECRET_KEY")
    shared = [intake.get(f"FORM_SERVICE_{name}") for name in ("SECRET_KEY", "RECEIPT_PEPPER")]
    if desk and desk in shared:
        raise DeployError(
            f"{review_env.name} gives the desk the same secret key as {intake_env.name}: a taken "
            "intake could forge desk sessions; give the desk its own (production refuses it)"
        )


def env_text(values: dict[str, str]) -> bytes:
    """Return KEY=value lines as Compose reads them."""
    return "".join(f"{key}={value}\n" for key, value in values.items()).encode("utf-8")


def read_env(path: Path) -> dict[str, str]:
    """Read KEY=value lines (comments and blank lines skipped)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    pairs = (line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))
    return {key.strip(): value.strip() for key, value in pairs}


def _database_url(role: str, password: str) -> str:
    """Return the app's PostgreSQL URL for a role (the `db` service on the backend network)."""
    user = ROLES[role][0]
    return f"postgresql+psycopg://{user}:{password}@db:5432/{DATABASE}"


def _secret(report: Report, path: Path, reader: int) -> str:
    """Return the random password in path, creating it if missing."""
    _file(report, path, lambda: secrets.token_urlsafe(32).encode("ascii"), reader)
    return path.read_text(encoding="ascii").strip()


def _desk_key(plan: Plan, report: Report) -> str:
    """Create the desk key pair unless its file exists; return its public key."""
    key_file = plan.secrets / "desk-key.json"
    if key_file.exists():
        report.kept.append(key_file)
        return deskkey.read_public_key(key_file.read_bytes())
    chosen = plan.passphrase_file
    if chosen is not None and chosen.exists():
        passphrase = chosen.read_text(encoding="utf-8").rstrip("\r\n")
    else:
        passphrase = secrets.token_urlsafe(32)
    public_key, content = deskkey.generate_key_pair(passphrase, plan.key_strength)
    if chosen is None:
        report.passphrase = passphrase
    else:
        # The passphrase goes first: a key without its passphrase would be useless.
        _file(report, chosen, lambda: passphrase.encode("utf-8"), APP_UID)
    _file(report, key_file, lambda: content, APP_UID)
    return public_key


def _certificate(plan: Plan, report: Report, kind: str) -> None:
    """Write a self-signed placeholder certificate unless one exists.

    Two: ECDSA P-256 (fullchain.pem), which nginx prefers, and RSA 3072 (rsa-fullchain.pem)
    beside it for clients without ECDSA.
    """
    prefix = "rsa-" if kind == "rsa" else ""
    cert = plan.secrets / "tls" / f"{prefix}fullchain.pem"
    key = plan.secrets / "tls" / f"{prefix}privkey.pem"
    if cert.exists() or key.exists():
        report.kept += [path for path in (cert, key) if path.exists()]
        return
    new_key = ["-newkey", "rsa:3072"]
    if kind == "ec":
        new_key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
    names = [f"DNS:{host.split(':')[0]}" for host in (plan.site_host, plan.desk_host)]
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch)
        # The subject says what this is to anyone who looks at the certificate.
        subject = f"/O=PLACEHOLDER - replace before going public/CN={plan.site_host.split(':')[0]}"
        command = ["openssl", "req", "-x509", *new_key, "-nodes", "-days", str(PLACEHOLDER_DAYS)]
        command += ["-subj", subject, "-addext", f"subjectAltName={','.join(dict.fromkeys(names))}"]
        command += ["-keyout", str(out / "key.pem"), "-out", str(out / "cert.pem")]
        subprocess.run(command, check=True, capture_output=True, umask=0o077)  # noqa: S603
        _file(report, key, (out / "key.pem").read_bytes, WEB_UID)
        _file(report, cert, (out / "cert.pem").read_bytes, WEB_UID)


def _file(report: Report, path: Path, content: Callable[[], bytes], reader: int = -1) -> None:
    """Write an owner-only file unless it exists, and hand it to the container user reading it."""
    try:
        write_private(path, content())
    except FileExists:
        report.kept.append(path)
        return
    report.written.append(path)
    if reader < 0:
        return  # read by Compose itself, as the user who runs it
    try:
        os.chown(path, reader, -1)
    except PermissionError:
        report.owners[path] = reader
