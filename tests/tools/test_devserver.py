"""`make run`: one server for the site, the form and the desk.

The development instance it starts from (form_service/cli/dev.py) is tested in
tests/form_service/cli/test_dev.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from werkzeug.test import Client

from form_service.cli import dev
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
