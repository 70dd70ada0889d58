"""Plain functions that build what the tip service's tests need: settings, staff, tips, a photo.

Fixtures (tests/form_service/conftest.py) call these too; tests import them from here.
"""

from __future__ import annotations

import datetime as dt
import io
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nacl.public import PrivateKey
from PIL import Image
from sqlalchemy.orm import Session

from form_service.clock import FixedClock
from form_service.crypto import seal_tip
from form_service.models import Attachment, StaffRole, Tip, TipStatus, TipTopic
from form_service.review.auth import accounts, totp
from form_service.settings import IntakeSettings, ReviewSettings

# The moment every test's clock stands at (a FixedClock; see the `clock` fixture): five
# seconds into a TOTP step, so a code drawn now is mid-window, never at a boundary.
FIXED_MOMENT = dt.datetime(2026, 5, 13, 12, 0, 5, tzinfo=dt.UTC)
PASSWORD = "tangerine ocelot fjord quiver"  # noqa: S105 - a test account's password
GPS_IFD = 0x8825


def make_settings(database_url: str, desk_public_key: str, **overrides: Any) -> IntakeSettings:
    """Build test settings: real secrets, no Secure cookie over the test client's http."""
    options: dict[str, Any] = {
        "secret_key": "test-secret-key-" + "s" * 32,
        "receipt_pepper": "test-receipt-pepper-" + "p" * 32,
        "desk_public_key": desk_public_key,
        "database_url": database_url,
        "cookie_secure": False,
        "ratelimit_session": "1000 per hour",
        "ratelimit_global": "1000 per hour",
    }
    options.update(overrides)
    if "spool_dir" not in options and "instance_dir" not in options:
        # Never the project's own instance/spool: each app gets a spool of its own.
        options["spool_dir"] = Path(tempfile.mkdtemp(prefix="spool-"))
    return IntakeSettings(**options)


def make_review_settings(database_url: str, **overrides: Any) -> ReviewSettings:
    """Build the desk's test settings: its own secret, no Secure cookie over http."""
    options: dict[str, Any] = {
        "secret_key": "review-secret-" + "r" * 32,
        "database_url": database_url,
        "cookie_secure": False,
    }
    options.update(overrides)
    return ReviewSettings(**options)


@dataclass
class StaffAccount:
    """A test account: its address, password and TOTP secret (None before enrolment)."""

    staff_id: int
    email: str
    password: str
    secret: str | None
    enrolment_code: str | None = None


def make_staff(
    db: Session,
    key: PrivateKey,
    email: str = "reviewer@example.org",
    role: StaffRole = StaffRole.REVIEWER,
    enrolled: bool = True,
) -> StaffAccount:
    """Create a staff account, enrolled in TOTP unless told otherwise."""
    staff = accounts.add_staff(db, email, role, PASSWORD, actor="test")
    secret = code = None
    if enrolled:
        secret = totp.new_secret()
        staff.sealed_totp_secret = accounts.seal_secret(key.public_key, secret)
        staff.totp_confirmed = True
    else:
        code = accounts.issue_enrolment_code(
            db, staff, actor="test", clock=FixedClock(FIXED_MOMENT)
        )
    db.commit()
    return StaffAccount(staff.staff_id, staff.email, PASSWORD, secret, code)


def make_tip(db: Session, key: PrivateKey, **overrides: Any) -> Tip:
    """Seal and store a tip directly, the way the intake does."""
    fields = overrides.pop(
        "fields", {"message": "I saw something.", "when_where": "", "how_known": "", "contact": ""}
    )
    files = overrides.pop("files", ())
    sealed = seal_tip(key.public_key, fields, files)
    tip = Tip(
        received_on=overrides.pop("received_on", FIXED_MOMENT.date()),
        language=overrides.pop("language", "en"),
        topic=overrides.pop("topic", TipTopic.SIGHTING),
        status=overrides.pop("status", TipStatus.NEW),
        sealed_key=sealed.sealed_key,
        ciphertext=sealed.ciphertext,
        receipt_hash=secrets.token_bytes(32),
        attachments=[Attachment(ciphertext=item) for item in sealed.attachments],
    )
    db.add(tip)
    db.commit()
    return tip


def jpeg_with_gps() -> bytes:
    """Make a JPEG whose EXIF holds a camera name and a GPS position."""
    image = Image.new("RGB", (32, 24), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "MARKER-CAMERA-MAKER"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90°
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (35.0, 41.0, 22.0), 3: "E", 4: (139.0, 41.0, 30.0)})
    output = io.BytesIO()
    image.save(output, format="JPEG", exif=exif, comment=b"MARKER-COMMENT")
    return output.getvalue()
