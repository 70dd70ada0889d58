"""The invitee's side of an invitation: the link's page sets a password, then TOTP enrolment.

Reachable without signing in (guard.PUBLIC_ENDPOINTS). The code rides in the query string,
which the desk's nginx access log leaves out, and is posted back in a hidden field; it is
used up only when the password is set, so a link checker opening the page spends nothing.
"""

from __future__ import annotations

from flask import redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from form_service.review.account_forms import NewPasswordForm, password_message
from form_service.review.auth import invitations, signin
from form_service.review.state import db, desk
from form_service.review.views import bp
from form_service.review.views.auth import ENROLMENT_KEY, fresh_cookie


def _gone() -> ResponseReturnValue:
    """Say kindly that the link no longer works."""
    return render_template("review/invitation_gone.html"), 404, {"Cache-Control": "no-store"}


@bp.route("/invitation", methods=["GET", "POST"])
def accept_invitation() -> ResponseReturnValue:
    """Let an invitee set a password through their link, then enrol an authenticator."""
    form = NewPasswordForm(code=request.args.get("code", ""))
    now = desk().clock.now()
    staff = invitations.find_invitation(db(), form.code.data or "", now)
    if staff is None:
        return _gone()
    error = None
    if form.validate_on_submit():
        new = form.new_password.data or ""
        if new != form.repeat_password.data:
            error = _("The two passwords differ. Type the same new password twice.")
        else:
            error = password_message(new, staff.email)
        if error is None:
            if not invitations.accept_invitation(db(), staff, form.code.data or "", new, now):
                db().rollback()
                return _gone()
            # The link proved the invitee, as an enrolment code would on the sign-in page.
            fresh_cookie(signin.start_half_session(db(), staff, now))
            session[ENROLMENT_KEY] = staff.staff_id
            return redirect(url_for("review.enrol_second_factor"))
    elif form.is_submitted():
        error = _("Type the new password twice.")
    page = render_template("review/invitation.html", form=form, staff=staff, error=error)
    return page, 200 if error is None else 400, {"Cache-Control": "no-store"}
