"""`make run`: first start creates a development instance; one server for site, form and desk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from werkzeug.test import Client

from form_service import migrate
from form_service.cli import dev
from form_service.deskkey import unlock_private_key
from tools import devserver


@pytest.fixture
def site_dir(tmp_path: Path) -> Path:
    """Build a tiny stand-in for the Pelican output."""
    root = tmp_path / "output"
    for code in ("en", "ja"):
        (root / code).mkdir(parents=True)
        (root / code / "index.html").write_text(f"<p>home {code}</p>")
        (root / code / "404.html").write_text(f"<p>missing {code}</p>")
    (root / "index.html").write_text("<p>choose a language</p>")
    (root / "theme" / "css").mkdir(parents=True)
    (root / "theme" / "css" / "site.css").write_text("body{}")
    return root


def test_first_start_creates_dev_secrets_keys_and_database(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    settings = dev.bootstrap(instance, 8123)
    assert settings.environment == "development"
    assert migrate.current_revisions(settings) == migrate.head_revisions(settings)
    for name in (dev.DEV_SECRETS_FILE, dev.DEV_KEY_FILE, dev.DEV_PASSPHRASE_FILE):
        assert (instance / name).stat().st_mode & 0o077 == 0
    passphrase = (instance / dev.DEV_PASSPHRASE_FILE).read_text().strip()
    key = unlock_private_key((instance / dev.DEV_KEY_FILE).read_bytes(), passphrase)
    assert json.loads((instance / dev.DEV_KEY_FILE).read_text())["public_key"] == (
        settings.desk_public_key
    )
    assert key is not None
    # A second start reuses everything.
    again = dev.bootstrap(instance, 8123)
    assert again.secret_key == settings.secret_key
    assert again.desk_public_key == settings.desk_public_key


def test_one_server_serves_the_site_and_the_form(tmp_path: Path, site_dir: Path) -> None:
    settings = dev.bootstrap(tmp_path / "instance", 8123)
    desk = dev.desk_settings(tmp_path / "instance", 8123)
    client = Client(devserver.build_app(settings, desk, site_dir))

    assert client.get("/").get_data() == b"<p>choose a language</p>"
    assert client.get("/ja/").get_data() == b"<p>home ja</p>"
    assert client.get("/ja").status_code == 308
    assert client.get("/theme/css/site.css").status_code == 200
    form = client.get("/form/ja/")
    assert form.status_code == 200 and b'<html lang="ja">' in form.get_data()

    missing = client.get("/ja/no-such-page/")
    assert missing.status_code == 404 and missing.get_data() == b"<p>missing ja</p>"
    assert client.get("/xx/nothing").get_data() == b"<p>missing en</p>"
    assert client.get("/../../etc/passwd").status_code == 404
    assert client.get("/%2e%2e/instance/secrets.DEV-ONLY.json").status_code == 404


def test_the_request_log_records_no_client_address(capsys: pytest.CaptureFixture[str]) -> None:
    handler = devserver.QuietRequestHandler.__new__(devserver.QuietRequestHandler)
    handler.log_request(200, 123)
    assert capsys.readouterr().err == ""
