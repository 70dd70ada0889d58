"""Forms of the account pages (admins' and each staff member's own), and password messages."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from form_service.models import Staff
from form_service.review.auth import accounts, invitations, passwords
from form_service.review.forms import no_control_characters, options
from form_service.review.labels import ROLE_LABELS


def state_label(staff: Staff, now: datetime) -> str:
    """Return what an account's state is, for the admins' pages."""
    if staff.disabled:
        return str(_("Disabled"))
    live = accounts.code_is_live(staff, now)
    if invitations.is_invited(staff):
        return str(_("Invited, link still valid") if live else _("Invited, link expired"))
    if not staff.totp_confirmed:
        return str(
            _("Must enrol an authenticator, code still valid")
            if live
            else _("Must enrol an authenticator, no valid code")
        )
    return str(_("Active"))


def password_message(password: str, email: str) -> str | None:
    """Return why a new password is refused, in the desk's language, or None if it is fine."""
    if passwords.password_problem(password, context=(email, email.split("@")[0])) is None:
        return None
    if len(password) < passwords.MIN_LENGTH:
        return str(_("Use at least %(num)s characters.", num=passwords.MIN_LENGTH))
    if len(password) > passwords.MAX_LENGTH:
        return str(_("Use at most %(num)s characters.", num=passwords.MAX_LENGTH))
    return str(
        _(
            "This password is too easy to guess (common words, names, patterns or a known "
            "breached password). Try a longer phrase of unrelated words."
        )
    )


def _password(label: str) -> PasswordField:
    """Return a password field of the desk's length limits."""
    return PasswordField(label, validators=[DataRequired(), Length(max=passwords.MAX_LENGTH)])


class InviteForm(FlaskForm):  # type: ignore[misc]
    """Who to invite, and with which role."""

    email = EmailField(
        _l("E-mail address"), validators=[DataRequired(), Length(max=320), no_control_characters]
    )
    role = SelectField(_l("Role"), choices=options(ROLE_LABELS.items()))


class RoleForm(FlaskForm):  # type: ignore[misc]
    """Another role for an account."""

    role = SelectField(_l("Role"), choices=options(ROLE_LABELS.items()))


class ActionForm(FlaskForm):  # type: ignore[misc]
    """A button only (disable, enable, end sessions...): the CSRF token is the whole form."""


class NewPasswordForm(FlaskForm):  # type: ignore[misc]
    """A new password, typed twice (the invitation page)."""

    code = HiddenField(validators=[DataRequired(), Length(max=64)])
    new_password = _password(_l("New password"))
    repeat_password = _password(_l("New password again"))


class ChangePasswordForm(FlaskForm):  # type: ignore[misc]
    """The current password, and a new one typed twice."""

    current_password = _password(_l("Current password"))
    new_password = _password(_l("New password"))
    repeat_password = _password(_l("New password again"))


class CurrentPasswordForm(FlaskForm):  # type: ignore[misc]
    """The current password, confirming a change to the second factor (used with a prefix)."""

    class Meta:
        # A prefix would rename the token field too; the app-wide CSRFProtect checks the
        # page's plain csrf_token on this post like on every other (as forms.BulkForm).
        csrf = False

    current_password = _password(_l("Current password"))


class RecoveryCodeForm(FlaskForm):  # type: ignore[misc]
    """A one-time recovery code, in place of the authenticator's code."""

    recovery_code = StringField(
        _l("Recovery code"),
        validators=[DataRequired(), Length(max=64), no_control_characters],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    next = HiddenField()
