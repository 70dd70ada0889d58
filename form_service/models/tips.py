"""Tips and their attachments: what stays in clear is only what triage needs."""

from __future__ import annotations

import datetime as dt
import secrets
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Index, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from form_service.models.base import Base, enum_column


class TipStatus(StrEnum):
    """Where a tip is in the desk's work."""

    NEW = "new"
    TRIAGED = "triaged"
    IN_PROGRESS = "in_progress"
    FORWARDED = "forwarded"
    CLOSED = "closed"


class TipTopic(StrEnum):
    """What a tip is about, as the tipster chose it."""

    PERSON = "person"
    SIGHTING = "sighting"
    DOCUMENT = "document"
    OTHER = "other"


# Tip ids are random, not a sequence: a sequence would give the order in which tips came.
# They stay below 2**31 (every database's INTEGER); a clash is drawn again (intake.submit).
MAX_TIP_ID = 2**31 - 1


def new_tip_id() -> int:
    """Draw a random tip id."""
    return secrets.randbelow(MAX_TIP_ID) + 1


class Tip(Base):
    """One tip: sealed to the desk key; the day, language, topic and status stay in clear."""

    __tablename__ = "tips"

    tip_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False, default=new_tip_id)
    # The day only, in UTC: the time of day could help identify a tipster.
    received_on: Mapped[dt.date] = mapped_column(Date)
    language: Mapped[str] = mapped_column(String(16))
    topic: Mapped[TipTopic] = mapped_column(enum_column(TipTopic, "topic", 32))
    status: Mapped[TipStatus] = mapped_column(
        enum_column(TipStatus, "status", 32), default=TipStatus.NEW, index=True
    )
    # The tip's random key, sealed to the desk's public key (X25519 sealed box).
    sealed_key: Mapped[bytes] = mapped_column(LargeBinary)
    # JSON of every text field, encrypted with the tip's key (XSalsa20-Poly1305).
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)
    # HMAC-SHA256 of the receipt code with the server-side pepper; never the code.
    receipt_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)

    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="tip",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Attachment.attachment_id",
    )

    # The desk's inbox lists newest first and filters by status, topic or language: without
    # these composite indexes a page over 100,000 tips sorts the whole table.
    __table_args__ = (
        Index("ix_review_tips_received", "received_on", "tip_id"),
        Index("ix_review_tips_status_received", "status", "received_on", "tip_id"),
        Index("ix_review_tips_topic_received", "topic", "received_on", "tip_id"),
        Index("ix_review_tips_language_received", "language", "received_on", "tip_id"),
    )


class Attachment(Base):
    """One file of a tip, encrypted with the tip's key together with its metadata."""

    __tablename__ = "attachments"

    attachment_id: Mapped[int] = mapped_column(primary_key=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey("tips.tip_id", ondelete="CASCADE"), index=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)

    tip: Mapped[Tip] = relationship(back_populates="attachments")
