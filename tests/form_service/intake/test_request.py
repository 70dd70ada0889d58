"""Uploads stay in memory: no part of a tip is spooled to a temporary file before sealing."""

from __future__ import annotations

import io
import tempfile
from typing import Any

import pytest

from form_service.settings import Settings
from tests.form_service.intake.helpers import form_token, post_tip, stored_tips


def test_uploads_never_go_to_a_temporary_file(
    client: Any, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an upload was about to be written to a temporary file")

    token = form_token(client)
    for name in ("TemporaryFile", "NamedTemporaryFile", "SpooledTemporaryFile", "mkstemp"):
        monkeypatch.setattr(tempfile, name, refuse)
    files = [(io.BytesIO(b"x" * (4 * 1024 * 1024)), "big.txt", "text/plain")]
    response = post_tip(client, token=token, attachments=files)
    assert response.status_code == 200
    assert len(stored_tips(settings)) == 1
