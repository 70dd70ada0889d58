"""Workflow state the desk keeps beside each tip: triage, labels, sealed notes, history."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from form_service.clock import utcnow
from form_service.models.base import Base, enum_column

TIP_FK = "tips.tip_id"
STAFF_FK = "staff.staff_id"


class TipChangeKind(StrEnum):
    """What one entry of a tip's history records."""

    STATUS = "status"
    ASSIGNEE = "assignee"
    LABEL_ADDED = "label+"
    LABEL_REMOVED = "label-"
    NOTE = "note"


class TipTriage(Base):
    """Who works a tip, and why and when it was closed (the retention clock starts then)."""

    __tablename__ = "tip_triage"

    tip_id: Mapped[int] = mapped_column(ForeignKey(TIP_FK, ondelete="CASCADE"), primary_key=True)
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey(STAFF_FK, ondelete="SET NULL"), index=True, default=None
    )
    close_reason: Mapped[str | None] = mapped_column(String(500), default=None)
    closed_on: Mapped[date | None] = mapped_column(Date, index=True, default=None)
    # The days the tipster's deadlines were met (form_service/review/deadlines.py).
    acknowledged_on: Mapped[date | None] = mapped_column(Date, default=None)
    fed_back_on: Mapped[date | None] = mapped_column(Date, index=True, default=None)


class TipLabel(Base):
    """A free label on a tip."""

    __tablename__ = "tip_labels"

    tip_id: Mapped[int] = mapped_column(ForeignKey(TIP_FK, ondelete="CASCADE"), primary_key=True)
    label: Mapped[str] = mapped_column(String(64), primary_key=True)

    __table_args__ = (Index("ix_tip_labels_label", "label"),)


class TipNote(Base):
    """An internal note, sealed to the desk key exactly like the tip itself."""

    __tablename__ = "tip_notes"

    note_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey(TIP_FK, ondelete="CASCADE"), index=True)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey(STAFF_FK, ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sealed_key: Mapped[bytes] = mapped_column(LargeBinary)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)


class TipChange(Base):
    """One change on a tip (status, assignee, label, note) for the history on its page."""

    __tablename__ = "tip_changes"

    change_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tip_id: Mapped[int] = mapped_column(ForeignKey(TIP_FK, ondelete="CASCADE"), index=True)
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey(STAFF_FK, ondelete="SET NULL"), default=None
    )
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    kind: Mapped[TipChangeKind] = mapped_column(enum_column(TipChangeKind, "kind", 32))
    detail: Mapped[str] = mapped_column(Text, default="")
