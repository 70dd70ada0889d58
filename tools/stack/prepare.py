"""Prepare what the local stack's apps need: certificates, secrets, desk keys, database, Redis."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

from form_service.deskkey import generate_key_pair
from form_service.files import write_private
from form_service.intake.request import MAX_BODY_BYTES
from tools.stack import HOST, HTTPS_PORT, OFFSET, ROOT, STACK

VENV_BIN = Path(sys.executable).parent
SECRETS = STACK / "secrets"
PUBLIC_ORIGIN = f"https://{HOST}:{HTTPS_PORT}"
# The stack's own database and Redis database number, never the tests' `test` database.
DATABASE_NAME = "form_service_stack" + (f"_{OFFSET}" if OFFSET else "")
ADMIN_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
# The owner's URL (migrations, tests that look inside); each app connects as its own role,
# created by `form-service db roles` as in Compose. Roles are cluster-wide, hence the offset
# in their names; this machine's PostgreSQL trusts local connections, so no passwords.
DATABASE_URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{DATABASE_NAME}"
ROLE_SUFFIX = f"_{OFFSET}" if OFFSET else ""
ROLES = {"intake": f"form_stack_intake{ROLE_SUFFIX}", "desk": f"form_stack_desk{ROLE_SUFFIX}"}
APP_DATABASE_URLS = {
    app: f"postgresql+psycopg://{role}@127.0.0.1:5432/{DATABASE_NAME}"
    for app, role in ROLES.items()
}
# The intake's Redis database and the desk's own (databases 5-9 and 11-15 by offset).
REDIS_URL = f"redis://127.0.0.1:6379/{5 + OFFSET % 11}"
DESK_REDIS_URL = f"redis://127.0.0.1:6379/{15 - (OFFSET // 100) % 5}"
CERT_DAYS = 30


def openssl(*args: str) -> None:
    """Run the openssl command line tool quietly, failing loudly; its files are owner-only."""
    # umask, not a chmod afterwards: a private key is never readable by others, not even
    # for the moment between writing and changing its mode.
    subprocess.run(["openssl", *args], check=True, capture_output=True, umask=0o077)


def make_certificates(folder: Path, host: str) -> None:
    """Create a throwaway CA and two server certificates for host (ECDSA, RSA), unless they exist.

    nginx serves both, as the TLS profile expects: ECDSA to clients that offer it, RSA to the
    rest, so the tests exercise both halves of the cipher list.
    """
    ca_key, ca = folder / "ca-key.pem", folder / "ca.pem"
    if all((folder / name).exists() for name in ("ca.pem", "cert.pem", "rsa-cert.pem")):
        return
    # A CA plus leaves, not one self-signed leaf: clients (Python's ssl, Node through
    # NODE_EXTRA_CA_CERTS) then verify the chain as they would a real one.
    openssl(
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-days",
        str(CERT_DAYS),
        "-subj",
        "/CN=abduction-info local stack CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        "-keyout",
        str(ca_key),
        "-out",
        str(ca),
    )
    extensions = folder / "server.ext"
    extensions.write_text(
        f"subjectAltName=IP:{host},DNS:localhost\nbasicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
    )
    leaves = {
        "": ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
        "rsa-": ("-newkey", "rsa:2048"),
    }
    for prefix, new_key in leaves.items():
        key, csr, cert = (
            folder / f"{prefix}{name}" for name in ("key.pem", "server.csr", "cert.pem")
        )
        openssl(
            "req",
            "-new",
            *new_key,
            "-nodes",
            "-subj",
            f"/CN={host}",
            "-keyout",
            str(key),
            "-out",
            str(csr),
        )
        openssl(
            "x509",
            "-req",
            "-in",
            str(csr),
            "-CA",
            str(ca),
            "-CAkey",
            str(ca_key),
            "-CAcreateserial",
            "-days",
            str(CERT_DAYS),
            "-extfile",
            str(extensions),
            "-out",
            str(cert),
        )


def form_max_body() -> str:
    """Return nginx's client_max_body_size for /form/: the intake app's own request limit."""
    return str(MAX_BODY_BYTES)


def secret(name: str) -> str:
    """Return a random secret kept in var/stack/secrets/<name>, creating it on first use."""
    path = SECRETS / name
    if not path.exists():
        write_private(path, secrets.token_urlsafe(48).encode("ascii"))
    return path.read_text().strip()


def shared_env() -> dict[str, str]:
    """Return the settings both apps read: production mode, database, Redis, one proxy."""
    return {
        "FORM_SERVICE_ENV": "production",
        "FORM_SERVICE_DATABASE_URL": DATABASE_URL,
        "FORM_SERVICE_RATELIMIT_STORAGE_URL": REDIS_URL,
        "FORM_SERVICE_PROXY_FIX_X_FOR": "1",
        "FORM_SERVICE_SITE_URL": PUBLIC_ORIGIN,
        "FORM_SERVICE_INSTANCE_DIR": str(STACK / "instance"),
        "FORM_SERVICE_LOG_LEVEL": "INFO",
    }


def desk_public_key() -> str:
    """Return the desk's public key, which both apps are given."""
    return (SECRETS / "desk-public-key").read_text().strip()


def intake_env() -> dict[str, str]:
    """Return the intake app's environment: the desk's public key and no private secret."""
    env = {
        **shared_env(),
        "FORM_SERVICE_DATABASE_URL": APP_DATABASE_URLS["intake"],
        "FORM_SERVICE_SECRET_KEY": secret("intake-secret-key"),
        "FORM_SERVICE_RECEIPT_PEPPER": secret("receipt-pepper"),
        "FORM_SERVICE_DESK_PUBLIC_KEY": desk_public_key(),
    }
    # The benchmark posts thousands of tips from one address; nothing else should set this.
    if os.environ.get("STACK_RATELIMIT_SUBMIT"):
        env["FORM_SERVICE_RATELIMIT_SUBMIT"] = os.environ["STACK_RATELIMIT_SUBMIT"]
    return env


def review_env() -> dict[str, str]:
    """Return the review app's environment: its secret, the encrypted desk key, the audit key."""
    secret("audit-key")  # created on first use; the database never holds it
    return {
        **shared_env(),
        "FORM_SERVICE_DATABASE_URL": APP_DATABASE_URLS["desk"],
        "FORM_SERVICE_RATELIMIT_STORAGE_URL": DESK_REDIS_URL,
        "FORM_SERVICE_REVIEW_SECRET_KEY": secret("review-secret-key"),
        "FORM_SERVICE_DESK_PUBLIC_KEY": desk_public_key(),
        "FORM_SERVICE_DESK_KEY_FILE": str(SECRETS / "desk-key.json"),
        "FORM_SERVICE_DESK_PASSPHRASE_FILE": str(SECRETS / "desk-passphrase"),
        "FORM_SERVICE_AUDIT_KEY_FILE": str(SECRETS / "audit-key"),
    }


def make_desk_keys() -> None:
    """Create the desk key pair (encrypted private key file, public key) unless it exists."""
    if (SECRETS / "desk-key.json").exists():
        return
    public_key, key_file = generate_key_pair(secret("desk-passphrase"))
    write_private(SECRETS / "desk-key.json", key_file)
    (SECRETS / "desk-public-key").write_text(public_key + "\n")


def reset_database(fresh: bool) -> None:
    """Create the stack's database (dropping it first when fresh) and empty its Redis db."""
    import psycopg

    with psycopg.connect(ADMIN_DSN, autocommit=True) as conn:
        if fresh:
            conn.execute(f'DROP DATABASE IF EXISTS "{DATABASE_NAME}" WITH (FORCE)')
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE_NAME,)
        ).fetchone()
        if exists is None:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    if fresh:
        import redis

        for url in (REDIS_URL, DESK_REDIS_URL):
            redis.Redis.from_url(url).flushdb()


def migrate() -> None:
    """Run the migrations, then give the apps their roles, as the compose `migrate` job does."""
    env = {**shared_env(), "PATH": str(VENV_BIN)}
    form_service = str(VENV_BIN / "form-service")
    subprocess.run([form_service, "db", "upgrade"], check=True, env=env, cwd=ROOT)
    roles = ["--intake", ROLES["intake"], "--desk", ROLES["desk"]]
    subprocess.run([form_service, "db", "roles", *roles], check=True, env=env, cwd=ROOT)


def prepare_apps(folder: Path, fresh: bool) -> None:
    """Make secrets and keys, create the database and migrate it."""
    folder.mkdir(parents=True, exist_ok=True)
    (STACK / "instance").mkdir(parents=True, exist_ok=True)
    make_desk_keys()
    reset_database(fresh)
    migrate()
