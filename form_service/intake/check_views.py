"""The "Check on your tip" pages: type the code, read replies, add more, delete, leave.

They live under /form/<lang>/check/ so the intake's rules for /form/ (no access log, no
timestamped error line) cover them. The code is only ever posted, never put in a URL or a
cookie; the browser gets a random session token, which opens nothing by itself.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, g, redirect, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from form_service.intake.check_forms import DeleteReplyForm, FollowUpForm, LeaveForm, ReceiptForm
from form_service.intake.checks import CheckSession
from form_service.intake.followup import (
    deletion_waits,
    spool_follow_up,
    spool_reply_deletion,
    spool_reply_key,
)
from form_service.intake.limits import session_key
from form_service.intake.lookup import find_tip, read_tip
from form_service.intake.pages import current_language, render_page
from form_service.intake.records import RECORD_ID, SpoolUnavailable
from form_service.intake.state import intake_state
from form_service.languages import find_language

bp = Blueprint("check", __name__, url_prefix="/form/<lang>/check")
COOKIE = "check_session"
NOTICES = frozenset({"sent", "deleted"})


@bp.url_value_preprocessor
def pull_language(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """Resolve the language in the URL; an unknown one is a 404."""
    if values and "lang" in values:
        g.language = find_language(intake_state().languages, values.pop("lang"))
        if g.language is None:
            abort(404)


@bp.url_defaults
def add_language(endpoint: str, values: dict[str, Any]) -> None:
    """Keep the page's language in the URLs it links to."""
    values.setdefault("lang", current_language().code)


def current_check() -> CheckSession | None:
    """Return this browser's session after a lookup, if it is still open."""
    return intake_state().check_sessions.load(request.cookies.get(COOKIE))


@bp.get("/")
def check_tip() -> ResponseReturnValue:
    """Show the lookup form, or the tip of the open session."""
    found = current_check()
    if found is None:
        return show_lookup(ReceiptForm(formdata=None), notice=request.args.get("ended"))
    return show_tip(found, FollowUpForm(formdata=None), notice=request.args.get("notice"))


@bp.post("/")
def look_up() -> ResponseReturnValue:
    """Look the posted code up: open a session, or the same answer for any failure."""
    form = ReceiptForm()
    state = intake_state()
    # Keyed by the form session, never the address: Tor users share one address.
    key = session_key(state.settings.secret_key, str(session.get("csrf_token", "")))
    decision = state.lookup_limits("lookup", key)
    if not decision.allowed:
        refused = show_lookup(ReceiptForm(formdata=None), notice="rate_limited", status=429)
        refused.headers["Retry-After"] = str(decision.retry_after)
        return refused
    secrets = (state.settings.receipt_pepper, state.settings.secret_key)
    with state.engine.connect() as connection:
        found = find_tip(connection, *secrets, form.receipt.data or "")
    if found is None:
        return show_lookup(ReceiptForm(formdata=None), notice="not_found")
    try:
        spool_reply_key(state.settings.spool_path, secrets[1], found, state.clock.today())
    except SpoolUnavailable:
        return show_lookup(ReceiptForm(formdata=None), notice="unavailable", status=503)
    token = state.check_sessions.open(found.receipt_hash, found.private_key)
    response = redirect(url_for("check.check_tip"), code=303)
    set_cookie(response, token)
    return response


@bp.post("/more")
def add_follow_up() -> ResponseReturnValue:
    """Seal more information to the desk and spool it for the next batch."""
    found = current_check()
    if found is None:
        return ended()
    form = FollowUpForm()
    if not form.validate():
        return show_tip(found, form, status=400)
    state = intake_state()
    try:
        spool_follow_up(
            state.settings.spool_path,
            state.desk_public_key,
            found.receipt_hash,
            form.message.data,
            form.clean_attachments,
            state.clock.today(),
        )
    except SpoolUnavailable:
        return show_tip(found, form, notice="unavailable", status=503)
    return redirect(url_for("check.check_tip", notice="sent"), code=303)


@bp.post("/delete")
def delete_reply() -> ResponseReturnValue:
    """Spool the deletion of the tipster's copy of one reply of their tip."""
    found = current_check()
    if found is None:
        return ended()
    form = DeleteReplyForm()
    message_id = str(form.message_id.data or "")
    state = intake_state()
    if not (form.validate() and RECORD_ID.fullmatch(message_id)):
        return show_tip(found, FollowUpForm(formdata=None), notice="unavailable", status=503)
    try:
        spool_reply_deletion(
            state.settings.spool_path,
            state.settings.secret_key,
            found.receipt_hash,
            message_id,
            state.clock.today(),
        )
    except SpoolUnavailable:
        return show_tip(found, FollowUpForm(formdata=None), notice="unavailable", status=503)
    return redirect(url_for("check.check_tip", notice="deleted"), code=303)


@bp.post("/leave")
def leave() -> ResponseReturnValue:
    """End the session and forget its cookie."""
    LeaveForm().validate()
    intake_state().check_sessions.end(request.cookies.get(COOKIE))
    response = render_page("intake/check_left.html", _("You have left"))
    response.delete_cookie(COOKIE, path="/form/")
    return response


def ended() -> BaseResponse:
    """Send a browser whose session ended back to the lookup form, saying so."""
    response = redirect(url_for("check.check_tip", ended="ended"), code=303)
    response.delete_cookie(COOKIE, path="/form/")
    return response


def set_cookie(response: BaseResponse, token: str) -> None:
    """Give the browser the session token: no lifetime, so it ends with the browser."""
    response.set_cookie(
        COOKIE,
        token,
        path="/form/",
        httponly=True,
        secure=intake_state().settings.cookie_secure,
        samesite="Strict",
    )


def show_lookup(form: ReceiptForm, *, notice: str | None = None, status: int = 200) -> Response:
    """Render the lookup form with an optional notice."""
    known = {"not_found", "rate_limited", "unavailable", "ended", "expired"}
    return render_page(
        "intake/check_lookup.html",
        _("Check on your tip"),
        status=status,
        form=form,
        notice=notice if notice in known else None,
    )


def show_tip(
    found: CheckSession, form: FollowUpForm, *, notice: str | None = None, status: int = 200
) -> ResponseReturnValue:
    """Render a tip's status and conversation with the follow-up form."""
    state = intake_state()
    with state.engine.connect() as connection:
        tip = read_tip(connection, found.receipt_hash, found.private_key)
    if tip is None:
        return ended()
    # Deleted replies whose deletion waits for the next batch: shown as deleted already.
    deleting = {
        message.message_id
        for message in tip.messages
        if message.text is not None
        and deletion_waits(state.settings.spool_path, state.settings.secret_key, message.message_id)
    }
    return render_page(
        "intake/check_tip.html",
        _("Your tip"),
        status=status,
        tip=tip,
        deleting=deleting,
        form=form,
        notice=notice if notice in NOTICES | {"unavailable"} else None,
    )
