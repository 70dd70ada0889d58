"""Content-free notices: one identical message per period, through a real SMTP server."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Any

import pytest
from nacl.public import PrivateKey
from sqlalchemy.orm import Session

from form_service import notify
from form_service.clock import FixedClock
from form_service.models import NotifyState, TipTopic
from form_service.settings import ReviewSettings, SettingsError
from tests.form_service.factories import make_review_settings, make_tip
from tests.form_service.smtp import Sink, free_port

DAY = dt.date(2026, 3, 2)
RECIPIENTS = ("desk-one@example.org", "desk-two@example.org")


def notify_settings(base: ReviewSettings, port: int, **overrides: Any) -> ReviewSettings:
    """Return the desk's settings with notices going to the loopback sink."""
    options: dict[str, Any] = {
        "notify_smtp_host": "127.0.0.1",
        "notify_smtp_port": port,
        "notify_smtp_tls": "none",
        "notify_from": "desk@example.org",
        "notify_recipients": RECIPIENTS,
        "environment": "development",
    }
    options.update(overrides)
    return make_review_settings(base.database_url, **options)


def clock_on(day: dt.date) -> FixedClock:
    """Return a clock standing at an odd time of a day (the mail must not show it)."""
    return FixedClock(dt.datetime.combine(day, dt.time(17, 43, 9), dt.UTC))


def test_always_mode_sends_the_same_message_each_period_whatever_arrived(
    review_settings: ReviewSettings, db: Session, desk_private_key: PrivateKey, smtp_sink: Sink
) -> None:
    settings = notify_settings(review_settings, smtp_sink.port)
    assert notify.run(db, settings, clock_on(DAY)) == notify.Outcome.SENT
    quiet = smtp_sink.deliveries[:]
    arrivals = (("ja", TipTopic.PERSON), ("ko", TipTopic.DOCUMENT), ("en", TipTopic.OTHER))
    for language, topic in arrivals:
        make_tip(db, desk_private_key, received_on=DAY, language=language, topic=topic)
    assert notify.run(db, settings, clock_on(DAY)) == notify.Outcome.NOT_DUE
    assert notify.run(db, settings, clock_on(DAY + dt.timedelta(days=1))) == notify.Outcome.SENT
    busy = smtp_sink.deliveries[len(quiet) :]
    assert [d.recipients for d in quiet] == [[r] for r in RECIPIENTS]
    for before, after in zip(quiet, busy, strict=True):
        assert len(before.data) == len(after.data)
        assert before.message["Subject"] == after.message["Subject"] == notify.SUBJECT
        assert after.message.get_content() == before.message.get_content() == notify.BODY
        assert " 00:00:00 " in after.message["Date"]
    texts = b"".join(d.data for d in busy).decode()
    for leak in ("17:43", " ja", "person", "document", " 3 "):
        assert leak not in texts


def test_activity_mode_sends_only_after_something_arrived(
    review_settings: ReviewSettings, db: Session, desk_private_key: PrivateKey, smtp_sink: Sink
) -> None:
    settings = notify_settings(review_settings, smtp_sink.port, notify_mode="activity")
    assert notify.run(db, settings, clock_on(DAY)) == notify.Outcome.NOTHING_NEW
    make_tip(db, desk_private_key, received_on=DAY)
    assert notify.run(db, settings, clock_on(DAY)) == notify.Outcome.SENT
    # The same tip is not news the next day; a second one of the same day is.
    next_day = clock_on(DAY + dt.timedelta(days=1))
    assert notify.run(db, settings, next_day) == notify.Outcome.NOTHING_NEW
    make_tip(db, desk_private_key, received_on=DAY)
    assert notify.run(db, settings, next_day) == notify.Outcome.SENT
    assert len(smtp_sink.deliveries) == 2 * len(RECIPIENTS)


def test_a_longer_period_waits_its_days(
    review_settings: ReviewSettings, db: Session, smtp_sink: Sink
) -> None:
    settings = notify_settings(review_settings, smtp_sink.port, notify_period_days=7)
    assert notify.run(db, settings, clock_on(DAY)) == notify.Outcome.SENT
    assert notify.run(db, settings, clock_on(DAY + dt.timedelta(days=6))) == notify.Outcome.NOT_DUE
    assert notify.run(db, settings, clock_on(DAY + dt.timedelta(days=7))) == notify.Outcome.SENT


def test_a_failing_mail_server_is_logged_without_addresses_and_retried(
    review_settings: ReviewSettings,
    db: Session,
    smtp_sink: Sink,
    caplog: pytest.LogCaptureFixture,
) -> None:
    smtp_sink.refuse = True
    settings = notify_settings(review_settings, smtp_sink.port)
    with caplog.at_level(logging.WARNING, logger="form_service.notify"):
        assert notify.run(db, settings, clock_on(DAY)) == notify.Outcome.FAILED
    assert "SMTPRecipientsRefused" in caplog.text
    assert "@" not in caplog.text and "example.org" not in caplog.text
    smtp_sink.refuse = False
    assert notify.run(db, settings, clock_on(DAY)) == notify.Outcome.SENT


def test_nothing_listening_fails_cleanly_and_keeps_the_period_open(
    review_settings: ReviewSettings, db: Session, caplog: pytest.LogCaptureFixture
) -> None:
    settings = notify_settings(review_settings, free_port())
    with caplog.at_level(logging.WARNING, logger="form_service.notify"):
        assert notify.run(db, settings, clock_on(DAY)) == notify.Outcome.FAILED
    assert "ConnectionRefusedError" in caplog.text and "@" not in caplog.text
    state = db.get(NotifyState, notify.CHANNEL, populate_existing=True)
    assert state is not None and state.last_sent_on is None


def test_starttls_is_never_skipped_when_the_server_lacks_it(
    review_settings: ReviewSettings, db: Session, smtp_sink: Sink
) -> None:
    settings = notify_settings(review_settings, smtp_sink.port, notify_smtp_tls="starttls")
    assert notify.run(db, settings, clock_on(DAY)) == notify.Outcome.FAILED
    assert smtp_sink.deliveries == []


def test_it_signs_in_with_the_password_from_its_file(
    review_settings: ReviewSettings, db: Session, smtp_sink: Sink, tmp_path: Path
) -> None:
    secret = tmp_path / "smtp-password"
    secret.write_text("mail-pass-word\n", encoding="utf-8")
    settings = notify_settings(
        review_settings,
        smtp_sink.port,
        notify_smtp_user="desk-mailer",
        notify_smtp_password_file=secret,
    )
    assert notify.run(db, settings, clock_on(DAY)) == notify.Outcome.SENT
    assert smtp_sink.logins == [("desk-mailer", "mail-pass-word")]


def test_without_a_host_notices_are_off(review_settings: ReviewSettings, db: Session) -> None:
    assert notify.run(db, review_settings, clock_on(DAY)) == notify.Outcome.OFF


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"notify_mode": "sometimes"}, "NOTIFY_MODE"),
        ({"notify_smtp_tls": "maybe"}, "NOTIFY_SMTP_TLS"),
        ({"notify_recipients": ()}, "NOTIFY_RECIPIENTS"),
        ({"notify_from": "desk"}, "NOTIFY_FROM"),
        ({"notify_period_days": 0}, "NOTIFY_PERIOD_DAYS"),
        ({"notify_smtp_user": "someone"}, "go together"),
        ({"notify_smtp_host": "mail.example.org", "environment": "production"}, "plain SMTP"),
    ],
)
def test_wrong_notice_settings_are_refused(
    review_settings: ReviewSettings, overrides: dict[str, Any], problem: str
) -> None:
    with pytest.raises(SettingsError, match=problem):
        notify_settings(review_settings, 2525, **overrides)


def test_notice_settings_are_read_from_the_environment() -> None:
    settings = ReviewSettings.from_env(
        {
            "FORM_SERVICE_REVIEW_SECRET_KEY": "r" * 40,
            "FORM_SERVICE_NOTIFY_SMTP_HOST": "mail.example.org",
            "FORM_SERVICE_NOTIFY_FROM": "desk@example.org",
            "FORM_SERVICE_NOTIFY_RECIPIENTS": "a@example.org, b@example.org,",
            "FORM_SERVICE_NOTIFY_MODE": "activity",
        }
    )
    assert settings.notify_recipients == ("a@example.org", "b@example.org")
    assert settings.notify_smtp_port == 587 and settings.notify_smtp_tls == "starttls"
