"""Tables of the tip service: what stays in clear is only what triage needs."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import Date, Enum, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from form_service.db import Base


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


def _enum_column(enum: type[StrEnum], name: str) -> Enum:
    """Store a StrEnum by value in a VARCHAR with a CHECK, the same on both databases."""
    return Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        validate_strings=True,
        values_callable=lambda members: [member.value for member in members],
    )


class Tip(Base):
    """One tip: sealed to the desk key; the day, language, topic and status stay in clear."""

    __tablename__ = "tips"

    tip_id: Mapped[int] = mapped_column(primary_key=True)
    # The day only, in UTC: the time of day could help identify a tipster.
    received_on: Mapped[dt.date] = mapped_column(Date)
    language: Mapped[str] = mapped_column(String(16))
    topic: Mapped[TipTopic] = mapped_column(_enum_column(TipTopic, "topic"))
    status: Mapped[TipStatus] = mapped_column(
        _enum_column(TipStatus, "status"), default=TipStatus.NEW, index=True
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


class Attachment(Base):
    """One file of a tip, encrypted with the tip's key together with its metadata."""

    __tablename__ = "attachments"

    attachment_id: Mapped[int] = mapped_column(primary_key=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey("tips.tip_id", ondelete="CASCADE"), index=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)

    tip: Mapped[Tip] = relationship(back_populates="attachments")
