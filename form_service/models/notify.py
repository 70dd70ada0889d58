"""What `form-service notify` remembers between runs: the day it last sent a message."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from form_service.models.base import Base


class NotifyState(Base):
    """One row per notification channel; the day only, like everything else the desk keeps."""

    __tablename__ = "notify_state"

    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_sent_on: Mapped[date | None] = mapped_column(Date, default=None)
    # How many items had arrived on that day when it sent: tips carry the day only, so this
    # is what tells a later arrival on the same day from the ones already announced.
    seen_that_day: Mapped[int] = mapped_column(Integer, default=0)
