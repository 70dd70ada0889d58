"""Sign-in, second factor (enrolment and check), sign-out and the language switch."""

from __future__ import annotations

from flask import flash, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from markupsafe import Markup

from form_service.models import SessionStage, Staff
from form_service.review.account_forms import RecoveryCodeForm
from form_service.review.auth import accounts, signin, totp
from form_service.review.context import DESK_LANGUAGES
from form_service.review.forms import CodeForm, EnrolmentCodeForm, SignInForm
from form_service.review.guard import TOKEN_KEY, safe_next
from form_service.review.state import current_staff, db, desk
from form_service.review.views import bp

# In the signed cookie: the staff id whose enrolment code this browser has given.
ENROLMENT_KEY = "enrolment_proven"


def _after_sign_in(next_path: str | None) -> ResponseReturnValue:
    """Redirect to the desk page asked for, or the inbox."""
    path = safe_next(next_path)
    return redirect(request.script_root + path if path else url_for("review.inbox"))


def _start_again(message: str) -> ResponseReturnValue:
    """Send the visitor back to the password step with a message."""
    fresh_cookie()
    flash(message, "error")
    return redirect(url_for("review.sign_in"))


def fresh_cookie(token: str | None = None) -> None:
    """Empty the cookie (a new CSRF secret too), keep the chosen language, set the token."""
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    if token:
        session[TOKEN_KEY] = token


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> ResponseReturnValue:
    """Check the e-mail address and password, then ask for the second factor."""
    if g.stage == SessionStage.SIGNED_IN:
        return redirect(url_for("review.inbox"))
    form = SignInForm(next=safe_next(request.args.get("next")) or "")
    error = None
    if form.validate_on_submit():
        staff, error = signin.check_password(
            db(),
            desk().throttle,
            form.email.data or "",
            form.password.data or "",
            request.remote_addr or "",
        )
        if staff is not None:
            fresh_cookie(signin.start_half_session(db(), staff, desk().clock.now()))
            step = "verify" if staff.totp_confirmed else "enrol"
            return redirect(url_for(f"review.{step}_second_factor", next=safe_next(form.next.data)))
    return render_template("review/sign_in.html", form=form, error=error), 200 if not error else 401


def _second_factor(staff: Staff, form: CodeForm, enrolled: bool) -> str | ResponseReturnValue:
    """Check the posted code; sign in completely on success, else return the error to show."""
    half_token = session.get(TOKEN_KEY)
    error = signin.check_code(
        db(),
        desk().throttle,
        desk().private_key,
        staff,
        form.code.data or "",
        half_token,
        desk().clock.now(),
    )
    if error is not None:
        return _start_again(error) if signin.needs_password(db(), half_token) else error
    return _finish_sign_in(staff, form.next.data, enrolled)


def _finish_sign_in(staff: Staff, next_path: str | None, enrolled: bool) -> ResponseReturnValue:
    """Replace the half session with a signed-in one and go where the staff member was going."""
    token = signin.complete_sign_in(
        db(),
        desk().throttle,
        staff,
        session.get(TOKEN_KEY),
        enrolled=enrolled,
        now=desk().clock.now(),
        language=str(get_locale() or DESK_LANGUAGES[0]),
    )
    fresh_cookie(token)
    return _after_sign_in(next_path)


@bp.route("/sign-in/enrol", methods=["GET", "POST"])
def enrol_second_factor() -> ResponseReturnValue:
    """Show a new authenticator secret (QR code and text) and confirm it with a first code."""
    staff = current_staff()
    if staff.totp_confirmed:
        return redirect(url_for("review.verify_second_factor"))
    if session.get(ENROLMENT_KEY) != staff.staff_id:
        return _enrolment_code(staff)
    secret = accounts.begin_enrolment(db(), staff, desk().private_key)
    db().commit()
    form = CodeForm(next=safe_next(request.args.get("next")) or "")
    error = None
    if form.validate_on_submit():
        outcome = _second_factor(staff, form, enrolled=True)
        if not isinstance(outcome, str):
            return outcome
        error = outcome
    qr = Markup(totp.qr_svg(totp.provisioning_uri(secret, staff.email)))  # noqa: S704  # nosec B704 - our SVG
    grouped = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    return render_template("review/enrol.html", form=form, error=error, qr=qr, secret=grouped)


def _enrolment_code(staff: Staff) -> ResponseReturnValue:
    """Ask for the one-time code the administrator gave; only then show a new secret."""
    form = EnrolmentCodeForm(next=safe_next(request.args.get("next")) or "")
    error = None
    if form.validate_on_submit():
        half_token = session.get(TOKEN_KEY)
        error = signin.check_enrolment_code(
            db(),
            desk().throttle,
            staff,
            form.enrolment_code.data or "",
            half_token,
            desk().clock.now(),
        )
        if error is not None and signin.needs_password(db(), half_token):
            return _start_again(error)
        if error is None:
            session[ENROLMENT_KEY] = staff.staff_id
            return redirect(url_for("review.enrol_second_factor", next=safe_next(form.next.data)))
    page = render_template("review/enrol_code.html", form=form, error=error)
    return page, 200 if not error else 401


@bp.route("/sign-in/code", methods=["GET", "POST"])
def verify_second_factor() -> ResponseReturnValue:
    """Ask for the current code from the staff member's authenticator."""
    staff = current_staff()
    if not staff.totp_confirmed:
        return redirect(url_for("review.enrol_second_factor"))
    form = CodeForm(next=safe_next(request.args.get("next")) or "")
    error = None
    if form.validate_on_submit():
        outcome = _second_factor(staff, form, enrolled=False)
        if not isinstance(outcome, str):
            return outcome
        error = outcome
    return render_template("review/code.html", form=form, error=error), 200 if not error else 401


@bp.route("/sign-in/recovery", methods=["GET", "POST"])
def recovery_second_factor() -> ResponseReturnValue:
    """Accept a one-time recovery code in place of the authenticator's code."""
    staff = current_staff()
    if not staff.totp_confirmed:
        return redirect(url_for("review.enrol_second_factor"))
    form = RecoveryCodeForm(next=safe_next(request.args.get("next")) or "")
    error = None
    if form.validate_on_submit():
        half_token = session.get(TOKEN_KEY)
        code = form.recovery_code.data or ""
        error = signin.check_recovery_code(db(), desk().throttle, staff, code, half_token)
        if error is None:
            return _finish_sign_in(staff, form.next.data, enrolled=False)
        if signin.needs_password(db(), half_token):
            return _start_again(error)
    page = render_template("review/recovery.html", form=form, error=error)
    return page, 200 if not error else 401


@bp.route("/sign-out", methods=["POST"])
def sign_out() -> ResponseReturnValue:
    """End the session on the server, so a copied cookie stops working too."""
    signin.sign_out(db(), g.staff, session.get(TOKEN_KEY))
    fresh_cookie()
    return redirect(url_for("review.sign_in"))


@bp.route("/language/<code>")
def set_language(code: str) -> ResponseReturnValue:
    """Switch the desk's language (a preference only) and go back to the page."""
    if code in DESK_LANGUAGES:
        session["lang"] = code
        if g.staff is not None:
            g.staff.language = code
            # The own page tells sessions apart by their desk language: keep it current.
            g.session_record.language = code
            db().commit()
    path = safe_next(request.args.get("next"))
    return redirect(request.script_root + path if path else url_for("review.inbox"))
