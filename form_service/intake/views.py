"""The intake's routes: show the form, take a tip, and answer every failure with the text kept."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, abort, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, generate_csrf
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge, UnsupportedMediaType

from form_service.intake.check_forms import ReceiptForm
from form_service.intake.check_views import show_lookup
from form_service.intake.formparser import MalformedForm
from form_service.intake.forms import TipForm
from form_service.intake.limits import Decision, session_key
from form_service.intake.pages import current_language, render_cached, render_page
from form_service.intake.records import SpoolUnavailable
from form_service.intake.salvage import salvage_text_fields
from form_service.intake.state import intake_state
from form_service.intake.submit import new_nonce, spool_tip
from form_service.languages import find_language

log = logging.getLogger(__name__)
bp = Blueprint("intake", __name__, url_prefix="/form")
# Placeholders of the values that differ between two renders of a cached page.
TOKEN_SLOT = "CSRF-TOKEN-SLOT-5a1e"  # noqa: S105 - a placeholder, not a secret
RECEIPT_SLOT = "RECEIPT-CODE-SLOT-5a1e"
NONCE_SLOT = "FORM-NONCE-SLOT-5a1e"
# Seconds a tipster is asked to wait when the database is down.
RETRY_AFTER_UNAVAILABLE = 120
# The only bodies the form takes: what a browser sends for it. Anything else (JSON, text)
# would be a second way in that skips what the page promises, so it is refused outright.
FORM_MIMETYPES = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})


@bp.url_value_preprocessor
def pull_language(endpoint: str | None, values: dict[str, Any] | None) -> None:
    """Resolve the language in the URL; an unknown one is a 404."""
    if values and "lang" in values:
        g.language = find_language(intake_state().languages, values.pop("lang"))
        if g.language is None:
            abort(404)


@bp.get("/")
def choose_language() -> Response:
    """Send visitors of /form/ to the form in the site's first language."""
    default = intake_state().languages[0]
    return redirect(url_for("intake.new_tip", lang=default.code))  # type: ignore[return-value]


@bp.route("/<lang>/", methods=["GET", "POST"])
def new_tip() -> Response:
    """Show the form, or seal and spool a tip and show its receipt code."""
    if request.method != "POST":
        return blank_form()
    form = TipForm()
    if not form.validate():
        return show_form(form, status=400)
    state = intake_state()
    decision = spend_submit()
    if not decision.allowed:
        return show_form(form, status=429, notice="rate_limited", retry_after=decision.retry_after)
    try:
        code = spool_tip(
            state.settings.spool_path,
            state.desk_public_key,
            state.settings.secret_key,
            state.settings.receipt_pepper,
            form.to_new_tip(current_language().code),
            form.nonce.data,
            state.clock,
        )
    except SpoolUnavailable as error:
        log.warning("spool unavailable (%s); the tip was given back, not kept", error)
        return show_form(form, status=503, notice="unavailable")
    return render_cached(
        "received",
        "intake/tip_received.html",
        lambda: _("Information received"),
        {RECEIPT_SLOT: code},
        lambda: {"receipt_code": RECEIPT_SLOT},
    )


def spend_submit() -> Decision:
    """Count this post against its form session and everyone (only valid posts count)."""
    state = intake_state()
    key = session_key(state.settings.secret_key, str(session.get("csrf_token", "")))
    return state.limits.spend("submit", key)


def blank_form() -> Response:
    """Show the empty form with a fresh CSRF token (the page itself is rendered once)."""
    return render_cached(
        "form",
        "intake/new_tip.html",
        lambda: _("Send information"),
        {TOKEN_SLOT: generate_csrf(), NONCE_SLOT: new_nonce()},
        blank_form_context,
    )


def blank_form_context() -> dict[str, Any]:
    """Build the context of the empty form, its token replaced by the slot."""
    form = TipForm(formdata=None)
    form.csrf_token.current_token = TOKEN_SLOT
    form.nonce.data = NONCE_SLOT
    return {"form": form, "notice": None, "files_dropped": False}


def show_form(
    form: TipForm, *, status: int, notice: str | None = None, retry_after: int = 0
) -> Response:
    """Render the form with its errors and a notice; files are never echoed back."""
    files_dropped = status != 200 and (notice == "too_large" or files_were_sent())
    response = render_page(
        "intake/new_tip.html",
        _("Send information"),
        status=status,
        indexable=status == 200,
        form=form,
        notice=notice,
        files_dropped=files_dropped,
    )
    if status == 503:
        response.headers["Retry-After"] = str(RETRY_AFTER_UNAVAILABLE)
    if retry_after:
        response.headers["Retry-After"] = str(retry_after)
    return response


def files_were_sent() -> bool:
    """Tell whether the post carried files (which the re-shown form cannot keep)."""
    try:
        return any(item.filename for item in request.files.getlist("attachments"))
    except RequestEntityTooLarge:
        return True


def posted_form(formdata: MultiDict[str, Any]) -> TipForm:
    """Rebuild the form from what was posted, to give the text back."""
    form = TipForm(formdata=formdata)
    form.homepage.data = ""
    return form


def refuse_other_bodies() -> None:
    """Refuse a post whose body is not a browser's form (checked before the CSRF token)."""
    if request.method == "POST" and request.mimetype not in FORM_MIMETYPES:
        raise UnsupportedMediaType()


def posted_text() -> MultiDict[str, Any]:
    """Return the posted fields, recovered from the raw body when it is too large to parse."""
    try:
        return request.form
    except MalformedForm as error:
        return MultiDict(error.fields)
    except RequestEntityTooLarge:
        return salvage_text_fields(
            request.environ["wsgi.input"], request.content_type, request.content_length
        )


def is_tip_post() -> bool:
    """Tell whether this request is a post of the tip form."""
    return request.method == "POST" and request.endpoint == "intake.new_tip"


@bp.app_errorhandler(CSRFError)
def csrf_failed(error: CSRFError) -> Response:
    """Give the form back with its text when the token expired or the cookie is gone."""
    if (request.endpoint or "").startswith("check."):
        return show_lookup(ReceiptForm(formdata=None), notice="expired", status=400)
    if not is_tip_post():
        return show_error(400)
    return show_form(posted_form(posted_text()), status=400, notice="expired")


@bp.app_errorhandler(MalformedForm)
def malformed(error: MalformedForm) -> Response:
    """Give the form back with the text that could be read when the body was not whole."""
    if not is_tip_post():
        return show_error(400)
    return show_form(posted_form(MultiDict(error.fields)), status=400, notice=error.problem)


@bp.app_errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge) -> Response:
    """Give the form back with its text when the upload is too large to read."""
    if not is_tip_post():
        return show_error(413)
    return show_form(posted_form(posted_text()), status=413, notice="too_large")


@bp.app_errorhandler(HTTPException)
def http_error(error: HTTPException) -> Response:
    """Answer any other HTTP error with a page in the site's style."""
    return show_error(error.code or 500)


def show_error(status: int) -> Response:
    """Render the error page for a status code."""
    if status == 404:
        return render_page("intake/not_found.html", _("Page not found"), status=404)
    return render_page(
        "intake/error.html",
        _("Sorry, something went wrong"),
        status=status,
        not_a_form=status == 415,
    )
