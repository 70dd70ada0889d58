"""Admins manage accounts in the desk: list, invite, role, disable/enable, reset, sessions.

Every change goes through review.auth.accounts (shared with the CLI), which audits it and
keeps the last active admin. Codes and links are shown once, in the answer to the post.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from form_service.models import Staff, StaffRole
from form_service.review.account_forms import ActionForm, InviteForm, RoleForm, state_label
from form_service.review.auth import accounts, invitations
from form_service.review.auth.accounts import AccountError, Change, LastAdminError
from form_service.review.state import current_staff, db, desk, staff_sessions
from form_service.review.views import bp


def _staff(staff_id: int) -> Staff:
    """Return the account or answer 404."""
    return db().get(Staff, staff_id) or abort(404)


@bp.route("/accounts")
def list_accounts(form: InviteForm | None = None, error: str | None = None) -> ResponseReturnValue:
    """List every account (role, state, last sign-in day) with the invitation form."""
    page = render_template(
        "review/accounts.html",
        accounts=accounts.list_staff(db()),
        form=form or InviteForm(formdata=None),
        error=error,
        now=desk().clock.now(),
        state=state_label,
    )
    return page, 200 if error is None else 400


@bp.route("/accounts/invite", methods=["POST"])
def invite_staff() -> ResponseReturnValue:
    """Create an invited account and show its one-time enrolment link, this once only."""
    form = InviteForm()
    if not form.validate_on_submit():
        return list_accounts(form, _("Give the e-mail address and the role of the new account."))
    address = accounts.normalise_email(form.email.data or "")
    try:
        staff, code = invitations.invite_staff(
            db(), address, StaffRole(form.role.data), current_staff().email, clock=desk().clock
        )
    except AccountError:
        db().rollback()
        return list_accounts(form, _("There is an account for this address already."))
    db().commit()
    return _show_code(staff, code)


def _show_code(staff: Staff, code: str) -> ResponseReturnValue:
    """Render the page that shows an invitation link or enrolment code once."""
    link = url_for("review.accept_invitation", code=code, _external=True)
    page = render_template(
        "review/enrolment_link.html",
        staff=staff,
        code=code,
        link=link if invitations.is_invited(staff) else None,
        expires=staff.enrolment_code_expires_at,
    )
    # Shown once: no copy may stay in a cache or in the browser's history of pages.
    return page, 200, {"Cache-Control": "no-store"}


@bp.route("/accounts/<row_id:staff_id>")
def show_account(staff_id: int) -> ResponseReturnValue:
    """Show one account and the changes an admin can make to it."""
    staff = _staff(staff_id)
    role_form = RoleForm(formdata=None)
    role_form.role.data = str(staff.role)
    return render_template(
        "review/account.html",
        staff=staff,
        role_form=role_form,
        action_form=ActionForm(formdata=None),
        invited=invitations.is_invited(staff),
        now=desk().clock.now(),
        state=state_label,
        session_count=len(staff_sessions(staff.staff_id)),
    )


def _apply(staff_id: int, change: Change, done: str) -> ResponseReturnValue:
    """Apply one audited change to an account and return to its page."""
    staff = _staff(staff_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        change(db(), staff.email, current_staff().email)
    except LastAdminError:
        db().rollback()
        flash(_("This is the last active administrator: make another admin first."), "error")
    else:
        db().commit()
        flash(done, "info")
    return redirect(url_for("review.show_account", staff_id=staff_id))


@bp.route("/accounts/<row_id:staff_id>/role", methods=["POST"])
def change_role(staff_id: int) -> ResponseReturnValue:
    """Give the account another role (never the last active admin's)."""
    form = RoleForm()
    if not form.validate_on_submit():
        flash(_("Choose a role."), "error")
        return redirect(url_for("review.show_account", staff_id=staff_id))
    role = StaffRole(form.role.data)
    return _apply(
        staff_id,
        lambda session, email, actor: accounts.change_role(session, email, role, actor),
        _("Role changed."),
    )


@bp.route("/accounts/<row_id:staff_id>/disable", methods=["POST"])
def disable_account(staff_id: int) -> ResponseReturnValue:
    """Disable the account and end its sessions (never the last active admin)."""
    return _apply(staff_id, accounts.disable_staff, _("Account disabled; its sessions ended."))


@bp.route("/accounts/<row_id:staff_id>/enable", methods=["POST"])
def enable_account(staff_id: int) -> ResponseReturnValue:
    """Let a disabled account sign in again."""
    return _apply(staff_id, accounts.enable_staff, _("Account enabled again."))


@bp.route("/accounts/<row_id:staff_id>/sessions/end", methods=["POST"])
def end_account_sessions(staff_id: int) -> ResponseReturnValue:
    """End every session of the account."""
    return _apply(staff_id, accounts.end_staff_sessions, _("All its sessions ended."))


@bp.route("/accounts/<row_id:staff_id>/second-factor", methods=["POST"])
def reset_account_second_factor(staff_id: int) -> ResponseReturnValue:
    """Forget the authenticator and show a new enrolment code (or invitation link) once."""
    staff = _staff(staff_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    actor = current_staff().email
    accounts.reset_second_factor(db(), staff.email, actor)
    code = accounts.issue_enrolment_code(db(), staff, actor, clock=desk().clock)
    db().commit()
    return _show_code(staff, code)
