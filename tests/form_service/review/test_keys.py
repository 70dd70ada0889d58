"""The desk key's passphrase: read into a buffer that is zeroed, removable once read by the
gunicorn master, whose workers inherit the unlocked key, and no core dumps or ptrace."""

from __future__ import annotations

import http.client
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from form_service import deskkey, migrate
from form_service.cli.startup import review_problems
from form_service.deskkey import INTERACTIVE, generate_key_pair
from form_service.review import keys
from form_service.settings import ReviewSettings
from tests.conftest import ROOT
from tests.form_service.factories import make_review_settings, make_settings
from tests.reliability.servers import free_port

PASSPHRASE = "correct horse battery staple, kept apart"  # noqa: S105 - a test key's passphrase
REMOVE = {"FORM_SERVICE_DESK_PASSPHRASE_REMOVE": "true"}


def key_settings(tmp_path: Path, content: bytes, **overrides: Any) -> ReviewSettings:
    """Return desk settings with a fresh key file and its passphrase file holding `content`."""
    public_key, key_file = generate_key_pair(PASSPHRASE, INTERACTIVE)
    (tmp_path / "desk.key").write_bytes(key_file)
    (tmp_path / "passphrase").write_bytes(content)
    return make_review_settings(
        f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        desk_key_file=tmp_path / "desk.key",
        desk_passphrase_file=tmp_path / "passphrase",
        desk_public_key=public_key,
        **overrides,
    )


def test_the_passphrase_buffer_is_zeroed_once_the_key_is_unlocked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[Any] = []
    unlock = deskkey.unlock_private_key

    def spy(key_file: bytes, passphrase: Any) -> Any:
        """Unlock as usual and keep the buffer the desk handed over."""
        assert isinstance(passphrase, memoryview) and bytes(passphrase) == PASSPHRASE.encode()
        seen.append(passphrase.obj)
        return unlock(key_file, passphrase)

    monkeypatch.setattr(keys, "unlock_private_key", spy)
    settings = key_settings(tmp_path, PASSPHRASE.encode() + b"\r\n")
    keys.unlock_desk_key(settings)
    [buffer] = seen
    assert isinstance(buffer, bytearray) and len(buffer) == len(PASSPHRASE) + 2
    assert buffer == bytearray(len(buffer))  # every byte zero


def test_a_wrong_passphrase_is_zeroed_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []
    unlock = deskkey.unlock_private_key
    monkeypatch.setattr(keys, "unlock_private_key", lambda f, p: seen.append(p.obj) or unlock(f, p))
    settings = key_settings(tmp_path, b"not the passphrase at all\n")
    with pytest.raises(deskkey.KeyFileError):
        keys.unlock_desk_key(settings)
    assert seen[0] == bytearray(len(seen[0]))


def desk_environment(settings: ReviewSettings, url: str, **extra: str) -> dict[str, str]:
    """Return the environment of a development desk with these settings' key and passphrase."""
    return {
        "FORM_SERVICE_ENV": "development",
        "FORM_SERVICE_DATABASE_URL": url,
        "FORM_SERVICE_COOKIE_SECURE": "false",
        "FORM_SERVICE_REVIEW_SECRET_KEY": settings.secret_key,
        "FORM_SERVICE_DESK_KEY_FILE": str(settings.desk_key_file),
        "FORM_SERVICE_DESK_PASSPHRASE_FILE": str(settings.desk_passphrase_file),
        **extra,
    }


def test_the_passphrase_file_goes_only_once_a_served_desk_passed_its_checks(
    tmp_path: Path, desk_public_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keys, "refuse_inspection", lambda: True)  # not on the test runner
    monkeypatch.setattr(keys, "_held", [])
    url = f"sqlite:///{tmp_path / 'desk.sqlite3'}"
    settings = key_settings(tmp_path, PASSPHRASE.encode())
    env = desk_environment(settings, url, **REMOVE)
    passphrase = tmp_path / "passphrase"
    # A refusal (here: the database is not migrated) keeps the file for the next start.
    assert "db upgrade" in review_problems(env, serving=True)[0]
    assert passphrase.exists() and keys.held_key() is None
    migrate.upgrade(make_settings(url, desk_public_key))
    assert review_problems(env) == []  # a check from the command line: the file stays
    assert passphrase.exists() and keys.held_key() is None
    assert review_problems(env, serving=True) == []
    assert not passphrase.exists() and keys.held_key() is not None


def test_inspection_is_refused_core_dumps_and_ptrace() -> None:
    probe = (
        "import ctypes, ctypes.util, resource\n"
        "from form_service.review.keys import refuse_inspection\n"
        "applied = refuse_inspection()\n"
        "libc = ctypes.CDLL(ctypes.util.find_library('c'))\n"
        "print(applied, resource.getrlimit(resource.RLIMIT_CORE), libc.prctl(3, 0, 0, 0, 0))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    # PR_GET_DUMPABLE (3) answers 0: no core file, no ptrace or /proc/<pid>/mem by the user.
    assert result.stdout.split() == ["True", "(0,", "0)", "0"], result.stderr


def children(pid: int) -> list[int]:
    """Return the live child processes of pid (gunicorn's workers)."""
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def sign_in_status(port: int) -> int | None:
    """Return the status of the desk's sign-in page, or None while nothing answers."""
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", "/sign-in")
        status = connection.getresponse().status
        connection.close()
        return status
    except OSError:
        return None


def poll(condition: Any, bound: float = 60.0) -> bool:
    """Wait (bounded) until condition() is true."""
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_gunicorn_workers_inherit_the_key_after_the_passphrase_file_is_gone(
    tmp_path: Path, desk_public_key: str
) -> None:
    url = f"sqlite:///{tmp_path / 'desk.sqlite3'}"
    migrate.upgrade(make_settings(url, desk_public_key))
    settings = key_settings(tmp_path, PASSPHRASE.encode() + b"\n")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORM_SERVICE_")}
    env.update(desk_environment(settings, url, **REMOVE))
    env.update(GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS="2", GUNICORN_LOGLEVEL="info")
    log = tmp_path / "gunicorn.log"
    command = [str(ROOT / ".venv" / "bin" / "gunicorn"), "-c", "deploy/gunicorn.conf.py"]
    with log.open("wb") as output:
        server = subprocess.Popen(
            [*command, "form_service.review:create_app()"],
            env=env,
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        assert poll(lambda: sign_in_status(port) == 200), log.read_text()
        assert not (tmp_path / "passphrase").exists()  # read once by the master, removed
        assert poll(lambda: len(children(server.pid)) == 2), log.read_text()
        for pid in (server.pid, *children(server.pid)):
            limits = Path(f"/proc/{pid}/limits").read_text()
            assert any(
                line.startswith("Max core file size") and line.split()[4:6] == ["0", "0"]
                for line in limits.splitlines()
            ), limits
        # A worker dies; its replacement cannot read the passphrase (gone) and needs none.
        victim = children(server.pid)[0]
        os.kill(victim, signal.SIGKILL)
        assert poll(lambda: len(set(children(server.pid)) - {victim}) == 2), log.read_text()
        assert server.poll() is None, log.read_text()
        assert log.read_text().count("Booting worker") == 3
        assert sign_in_status(port) == 200
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
