"""Staff accounts of the review desk and their server-side sessions."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from form_service.clock import utcnow
from form_service.models.base import Base, enum_column


class StaffRole(StrEnum):
    """What a staff member may do: admins also export, read the audit log, see the dashboard."""

    ADMIN = "admin"
    REVIEWER = "reviewer"


class SessionStage(StrEnum):
    """How far a sign-in has come: password checked, or both factors done."""

    PASSWORD = "password"  # noqa: S105 - a stage name, not a secret
    SIGNED_IN = "signed_in"


class Staff(Base):
    """A desk account. There is no default account; the CLI creates them."""

    __tablename__ = "staff"

    staff_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    role: Mapped[StaffRole] = mapped_column(
        enum_column(StaffRole, "role", 16), default=StaffRole.REVIEWER
    )
    password_hash: Mapped[str] = mapped_column(String(256))
    # The TOTP secret is sealed to the desk key: a copy of the database alone cannot mint codes.
    sealed_totp_secret: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    totp_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    totp_last_step: Mapped[int | None] = mapped_column(Integer, default=None)
    # SHA-256 of the one-time code that lets this account enrol an authenticator (CLI-issued).
    enrolment_code_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    # The code (or invitation link) dies at this moment; staff rows may be dated, tips not.
    enrolment_code_expires_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), default=None
    )
    # The day only: enough to see a dormant account, no finer trace of anyone's hours.
    last_sign_in_on: Mapped[date | None] = mapped_column(Date, default=None)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str | None] = mapped_column(String(16), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class StaffSession(Base):
    """A server-side session; the cookie holds a random token whose SHA-256 is the key here."""

    __tablename__ = "staff_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff.staff_id", ondelete="CASCADE"), index=True
    )
    stage: Mapped[SessionStage] = mapped_column(
        enum_column(SessionStage, "stage", 16), default=SessionStage.PASSWORD
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The desk language the session was started in: told on the owner's page, no address.
    language: Mapped[str | None] = mapped_column(String(16), default=None)


class RecoveryCode(Base):
    """A one-time code that stands in for the authenticator at sign-in (its SHA-256 only)."""

    __tablename__ = "staff_recovery_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(
        ForeignKey("staff.staff_id", ondelete="CASCADE"), index=True
    )
