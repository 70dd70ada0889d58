"""`form-service notify`: one notice per period through a real SMTP server, or a clean failure."""

from __future__ import annotations

from tests.form_service.smtp import Sink, free_port


def mail_env(port: int) -> dict[str, str]:
    """Return the variables that point notices at a loopback mail server."""
    return {
        "FORM_SERVICE_ENV": "development",
        "FORM_SERVICE_NOTIFY_SMTP_HOST": "127.0.0.1",
        "FORM_SERVICE_NOTIFY_SMTP_PORT": str(port),
        "FORM_SERVICE_NOTIFY_SMTP_TLS": "none",
        "FORM_SERVICE_NOTIFY_FROM": "desk@example.org",
        "FORM_SERVICE_NOTIFY_RECIPIENTS": "staff@example.org",
    }


def test_notify_sends_once_per_period(run: object, smtp_sink: Sink) -> None:
    first = run("notify", extra_env=mail_env(smtp_sink.port))  # type: ignore[operator]
    again = run("notify", extra_env=mail_env(smtp_sink.port))  # type: ignore[operator]
    assert first.exit_code == 0 and "Notice sent." in first.output
    assert again.exit_code == 0 and "already been sent" in again.output
    assert [d.recipients for d in smtp_sink.deliveries] == [["staff@example.org"]]


def test_notify_without_a_mail_server_says_notices_are_off(run: object) -> None:
    result = run("notify")  # type: ignore[operator]
    assert result.exit_code == 0 and "off" in result.output


def test_a_failed_notice_exits_1_without_naming_addresses(run: object) -> None:
    result = run("notify", extra_env=mail_env(free_port()))  # type: ignore[operator]
    assert result.exit_code == 1
    assert "next run tries again" in result.output and "@" not in result.output
