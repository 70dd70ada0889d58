"""Tell staff that the desk may have something for them, and nothing more.

`run()` sends at most one message per period (FORM_SERVICE_NOTIFY_PERIOD_DAYS) to each
recipient. The message is a constant: the same subject, body and size every time, whatever
arrived, so someone reading the mail (a provider, a mailbox taken over) learns nothing
about tips: no count, language, topic or content. In "always" mode a message goes out
every period whether or not anything arrived, so even its existence says nothing; in
"activity" mode it goes out only in a period after something arrived, which does tell a
reader of the mail that something arrived (docs/notifications.md).

This runs in its own process (`form-service notify`); neither app imports it, so a mail
server that fails or hangs can never slow down the intake or the desk. A failure is logged
by its kind only: smtplib's exceptions carry addresses in their text.
"""

from __future__ import annotations

import logging
import secrets
import smtplib
import ssl
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from enum import StrEnum

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from form_service.clock import Clock
from form_service.models import NotifyState, Tip
from form_service.settings import ReviewSettings

CHANNEL = "staff"
TIMEOUT_SECONDS = 30
SUBJECT = "Tip desk notice / 受付窓口からのお知らせ"
BODY = """\
This is the tip desk's scheduled notice. Please sign in to the desk to see whether
anything needs attention. This message never says what, if anything, has arrived.

受付窓口からの定期のお知らせです。対応が必要なものがあるかどうかは、窓口に
サインインしてご確認ください。このお知らせには、届いたものの有無や内容は記載されません。
"""
logger = logging.getLogger(__name__)

# How many items arrived on or after a day. Tips are known to the day only, so "since the
# last message" is "after its day, or on its day beyond the number seen when it was sent".
ActivityCount = Callable[[Session, date], int]


def tips_since(session: Session, day: date) -> int:
    """Count the tips received on or after a day."""
    return session.scalar(select(func.count()).where(Tip.received_on >= day)) or 0


ACTIVITY_COUNTS: list[ActivityCount] = [tips_since]


def register_activity(count: ActivityCount) -> None:
    """Count something else as activity (the tipsters' follow-up messages plug in here)."""
    ACTIVITY_COUNTS.append(count)


def arrived_since(session: Session, day: date) -> int:
    """Count everything that arrived on or after a day."""
    return sum(count(session, day) for count in ACTIVITY_COUNTS)


class Outcome(StrEnum):
    """What one run did."""

    OFF = "off"
    NOT_DUE = "not_due"
    NOTHING_NEW = "nothing_new"
    SENT = "sent"
    FAILED = "failed"


def build_message(settings: ReviewSettings, recipient: str, today: date) -> EmailMessage:
    """Return the constant message for one recipient (fixed-length date and message id)."""
    sender = settings.notify_from or ""
    message = EmailMessage()
    message["Subject"] = SUBJECT
    message["From"] = sender
    message["To"] = recipient
    # Midnight UTC of the day: the mail never dates anything finer than the day.
    message["Date"] = format_datetime(datetime.combine(today, time(), UTC), usegmt=True)
    message["Message-ID"] = f"<{secrets.token_hex(16)}@{sender.rpartition('@')[2]}>"
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(BODY, charset="utf-8", cte="base64")
    return message


def _connect(settings: ReviewSettings) -> smtplib.SMTP:
    """Open an SMTP connection as configured; STARTTLS is required, never skipped."""
    host, port = settings.notify_smtp_host or "", settings.notify_smtp_port
    context = ssl.create_default_context()
    if settings.notify_smtp_tls == "tls":
        return smtplib.SMTP_SSL(host, port, timeout=TIMEOUT_SECONDS, context=context)
    connection = smtplib.SMTP(host, port, timeout=TIMEOUT_SECONDS)
    if settings.notify_smtp_tls == "starttls":
        try:
            connection.starttls(context=context)
        except BaseException:
            connection.close()
            raise
    return connection


class DeliveryError(Exception):
    """Sending failed; `delivered` recipients had already been given the message."""

    def __init__(self, cause: BaseException, delivered: int) -> None:
        super().__init__(describe_failure(cause))
        self.delivered = delivered


def send(settings: ReviewSettings, today: date) -> None:
    """Deliver the message to every recipient over one connection; raise DeliveryError."""
    deliver(settings, lambda recipient: build_message(settings, recipient, today))


def deliver(settings: ReviewSettings, message_for: Callable[[str], EmailMessage]) -> None:
    """Send each recipient its message over one connection; raise DeliveryError."""
    delivered = 0
    try:
        with _connect(settings) as connection:
            password = settings.read_notify_password()
            if settings.notify_smtp_user and password is not None:
                connection.login(settings.notify_smtp_user, password)
            for recipient in settings.notify_recipients:
                connection.send_message(message_for(recipient))
                delivered += 1
    except (OSError, smtplib.SMTPException) as error:
        raise DeliveryError(error, delivered) from None


def describe_failure(error: BaseException) -> str:
    """Name a failure by its kind and SMTP code only (the text may hold addresses)."""
    code = getattr(error, "smtp_code", None)
    return type(error).__name__ + (f" {code}" if isinstance(code, int) else "")


def _state(session: Session) -> NotifyState:
    """Return the channel's state row, creating it the first time."""
    state = session.get(NotifyState, CHANNEL)
    if state is None:
        try:
            with session.begin_nested():
                session.add(NotifyState(channel=CHANNEL, last_sent_on=None, seen_that_day=0))
        except IntegrityError:
            pass  # Another run created it at the same moment.
        session.commit()
        state = session.get(NotifyState, CHANNEL, populate_existing=True)
        assert state is not None
    return state


def _claim(session: Session, today: date, period_days: int) -> bool:
    """Mark today as sent if the period is over; only one concurrent run can win."""
    due_before = today - timedelta(days=period_days)
    result = session.execute(
        update(NotifyState)
        .where(NotifyState.channel == CHANNEL)
        .where(or_(NotifyState.last_sent_on.is_(None), NotifyState.last_sent_on <= due_before))
        .values(last_sent_on=today, seen_that_day=arrived_since(session, today))
    )
    session.commit()
    return bool(getattr(result, "rowcount", 0) == 1)


def _release(session: Session, previous: NotifyState, today: date) -> None:
    """Give the period back after a failed send, so the next run tries again."""
    session.execute(
        update(NotifyState)
        .where(NotifyState.channel == CHANNEL, NotifyState.last_sent_on == today)
        .values(last_sent_on=previous.last_sent_on, seen_that_day=previous.seen_that_day)
    )
    session.commit()


def anything_new(session: Session, state: NotifyState) -> bool:
    """Tell whether anything arrived since the last message (ever, before the first)."""
    if state.last_sent_on is None:
        return arrived_since(session, date.min) > 0
    return arrived_since(session, state.last_sent_on) > state.seen_that_day


def run(session: Session, settings: ReviewSettings, clock: Clock) -> Outcome:
    """Send this period's message if it is due (and, in activity mode, if anything arrived)."""
    if not settings.notify_smtp_host:
        return Outcome.OFF
    today = clock.today()
    state = _state(session)
    previous = NotifyState(last_sent_on=state.last_sent_on, seen_that_day=state.seen_that_day)
    last = previous.last_sent_on
    if last is not None and last > today - timedelta(days=settings.notify_period_days):
        return Outcome.NOT_DUE
    if settings.notify_mode == "activity" and not anything_new(session, state):
        return Outcome.NOTHING_NEW
    if not _claim(session, today, settings.notify_period_days):
        return Outcome.NOT_DUE
    try:
        send(settings, today)
    except DeliveryError as error:
        # Someone already has this period's message: keep the period, or they get two.
        if error.delivered == 0:
            _release(session, previous, today)
        logger.warning(
            "notification not sent to every recipient (%d delivered): %s", error.delivered, error
        )
        return Outcome.FAILED
    return Outcome.SENT
