"""One-time recovery codes: each stands in once for the authenticator at sign-in.

A new set replaces the old one and is shown once; the table keeps SHA-256 digests only
(80 random bits each, so a fast hash is enough). Using a code is audited with how many
are left, so an admin reading the log sees an account living on its last codes.
"""

from __future__ import annotations

import base64
import secrets

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from form_service.models import RecoveryCode, Staff
from form_service.review import audit
from form_service.review.auth.accounts import code_hash

CODES_PER_SET = 10


def _new_code() -> str:
    """Return one code: 80 random bits in base32, in four groups of four."""
    raw = base64.b32encode(secrets.token_bytes(10)).decode("ascii")
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def new_codes(db: Session, staff: Staff) -> list[str]:
    """Replace the staff member's recovery codes with a new set and return it (shown once)."""
    db.execute(delete(RecoveryCode).where(RecoveryCode.staff_id == staff.staff_id))
    codes = [_new_code() for _ in range(CODES_PER_SET)]
    db.add_all(RecoveryCode(code_hash=code_hash(code), staff_id=staff.staff_id) for code in codes)
    db.flush()
    audit.record(db, staff.email, "staff.recovery_codes", staff=staff.email, codes=len(codes))
    return codes


def remaining(db: Session, staff_id: int) -> int:
    """Return how many unused recovery codes a staff member holds."""
    count = select(func.count()).select_from(RecoveryCode)
    return db.scalar(count.where(RecoveryCode.staff_id == staff_id)) or 0


def use_code(db: Session, staff: Staff, code: str) -> bool:
    """Spend one recovery code of this staff member; of two racing requests only one wins."""
    result = db.execute(
        delete(RecoveryCode).where(
            RecoveryCode.staff_id == staff.staff_id, RecoveryCode.code_hash == code_hash(code)
        )
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    audit.record(
        db,
        staff.email,
        "sign_in.recovery_code_used",
        staff=staff.email,
        left=remaining(db, staff.staff_id),
    )
    return True
