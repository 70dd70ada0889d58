"""Every staff member's own page: password, authenticator, sessions, recovery codes.

Changing the password or the second factor, and making recovery codes, need the current
password: a session left open on a desk must not be enough to take the account over.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import flash, redirect, render_template, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from form_service.models import StaffSession
from form_service.review.account_forms import (
    ChangePasswordForm,
    CurrentPasswordForm,
    password_message,
)
from form_service.review.auth import own_account as own
from form_service.review.auth import passwords, recovery, sessions, signin
from form_service.review.guard import TOKEN_KEY
from form_service.review.state import current_staff, db, desk, staff_sessions
from form_service.review.views import bp
from form_service.review.views.auth import ENROLMENT_KEY, fresh_cookie


@dataclass(frozen=True)
class SessionRow:
    """One of the staff member's sessions as the page shows it."""

    record: StaffSession
    public_id: str
    current: bool


def _page(password_form: ChangePasswordForm | None = None) -> ResponseReturnValue:
    """Render the own page; a refused password form comes back with its messages."""
    staff = current_staff()
    current = sessions.token_hash(session.get(TOKEN_KEY, ""))
    rows = [
        SessionRow(item, sessions.public_id(item), item.token_hash == current)
        for item in staff_sessions(staff.staff_id)
    ]
    page = render_template(
        "review/own_account.html",
        sessions=rows,
        language_names={item.code: item.name for item in desk().languages},
        password_form=password_form or ChangePasswordForm(formdata=None),
        factor_form=CurrentPasswordForm(formdata=None, prefix="factor"),
        codes_form=CurrentPasswordForm(formdata=None, prefix="codes"),
        recovery_left=recovery.remaining(db(), staff.staff_id),
    )
    return page, 200 if password_form is None else 400


def _password_ok(given: str | None) -> bool:
    """Tell whether the current password was given right; flash why not."""
    if given and passwords.verify_password(current_staff().password_hash, given):
        return True
    flash(_("Your current password was not right. Nothing was changed."), "error")
    return False


@bp.route("/account")
def own_account() -> ResponseReturnValue:
    """Show the staff member's own page."""
    return _page()


@bp.route("/account/password", methods=["POST"])
def change_own_password() -> ResponseReturnValue:
    """Change the password: the current one first, the new one twice, the same rules."""
    form, staff = ChangePasswordForm(), current_staff()
    if not form.validate_on_submit():
        form.new_password.errors = [_("Fill in all three password fields.")]
        return _page(form)
    if not passwords.verify_password(staff.password_hash, form.current_password.data or ""):
        form.current_password.errors = [_("This is not your current password.")]
        return _page(form)
    new = form.new_password.data or ""
    problem = password_message(new, staff.email)
    if new != form.repeat_password.data:
        problem = _("The two passwords differ. Type the same new password twice.")
    if problem:
        form.new_password.errors = [problem]
        return _page(form)
    own.change_password(db(), staff, new, session.get(TOKEN_KEY))
    db().commit()
    flash(_("Password changed. Your other sessions have ended."), "info")
    return redirect(url_for("review.own_account"))


@bp.route("/account/second-factor", methods=["POST"])
def reenrol_own_second_factor() -> ResponseReturnValue:
    """Drop the current authenticator and go straight to enrolling a new one."""
    form, staff = CurrentPasswordForm(prefix="factor"), current_staff()
    if not form.validate_on_submit() or not _password_ok(form.current_password.data):
        return redirect(url_for("review.own_account"))
    own.restart_enrolment(db(), staff)
    # The password was just checked: this browser may enrol without an enrolment code.
    fresh_cookie(signin.start_half_session(db(), staff, desk().clock.now()))
    session[ENROLMENT_KEY] = staff.staff_id
    return redirect(url_for("review.enrol_second_factor"))


@bp.route("/account/sessions/<public_id>/end", methods=["POST"])
def end_own_session(public_id: str) -> ResponseReturnValue:
    """End one of the staff member's other sessions."""
    staff = current_staff()
    if own.end_own_session(db(), staff, public_id, staff_sessions(staff.staff_id)):
        db().commit()
        flash(_("Session ended."), "info")
    else:
        flash(_("That session had ended already."), "info")
    return redirect(url_for("review.own_account"))


@bp.route("/account/sessions/end-others", methods=["POST"])
def end_other_sessions() -> ResponseReturnValue:
    """End every session of the staff member but this one."""
    own.end_other_sessions(db(), current_staff(), session.get(TOKEN_KEY))
    db().commit()
    flash(_("Your other sessions have ended."), "info")
    return redirect(url_for("review.own_account"))


@bp.route("/account/recovery-codes", methods=["POST"])
def new_recovery_codes() -> ResponseReturnValue:
    """Make a new set of recovery codes and show it, this once only."""
    form = CurrentPasswordForm(prefix="codes")
    if not form.validate_on_submit() or not _password_ok(form.current_password.data):
        return redirect(url_for("review.own_account"))
    codes = recovery.new_codes(db(), current_staff())
    db().commit()
    page = render_template("review/recovery_codes.html", codes=codes)
    return page, 200, {"Cache-Control": "no-store"}
