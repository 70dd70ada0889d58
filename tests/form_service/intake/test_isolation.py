"""The public app never imports the staff side or anything that can open a private key.

A behaviour suite about the intake package as a whole (create_app and every import under
it), so it keeps a behaviour name.
"""

from __future__ import annotations

import json
import subprocess
import sys

from form_service.frame import STATE_KEY
from form_service.intake import create_app

# The desk, the key-file code and the maintenance commands (which reach both apps).
FORBIDDEN = ("form_service.review", "form_service.deskkey", "form_service.cli")
PROBE = """
import json, sys
import form_service.intake
from form_service.intake import create_app
from form_service.settings import IntakeSettings
app = create_app(IntakeSettings(
    secret_key="k" * 40, receipt_pepper="p" * 40,
    desk_public_key="q4Fq8yXy3m5O0N4l1fI2XGm0Xo3y9p7C3fP9u2b1w0U=",
    database_url=sys.argv[1], cookie_secure=False,
))
print(json.dumps(sorted(name for name in sys.modules)))
"""


def test_importing_and_creating_the_intake_never_loads_the_desk(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/isolation.sqlite3"
    completed = subprocess.run(
        [sys.executable, "-c", PROBE, url], capture_output=True, text=True, check=True
    )
    modules = json.loads(completed.stdout)
    assert "form_service.intake" in modules
    for name in modules:
        assert not name.startswith(FORBIDDEN), f"the intake imported {name}"
    # The Argon2id code that unlocks the key file is the desk's business too.
    assert "nacl.pwhash" not in modules


def test_the_intake_registers_only_public_routes(intake_app: object) -> None:
    rules = {rule.rule for rule in intake_app.url_map.iter_rules()}  # type: ignore[attr-defined]
    assert rules == {
        "/form/",
        "/form/<lang>/",
        "/form/<lang>/check/",
        "/form/<lang>/check/more",
        "/form/<lang>/check/delete",
        "/form/<lang>/check/leave",
    }


def test_the_intake_app_holds_no_private_key(intake_app: object) -> None:
    state = intake_app.extensions[STATE_KEY]  # type: ignore[attr-defined]
    assert type(state.desk_public_key).__name__ == "PublicKey"
    assert not any(type(value).__name__ == "PrivateKey" for value in vars(state).values())
    assert create_app is not None
