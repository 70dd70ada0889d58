"""Error pages of the desk, inside the site's frame, saying nothing about internals."""

from __future__ import annotations

from flask import Flask, render_template
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException


def _page(title: str, message: str, status: int) -> ResponseReturnValue:
    """Render one error page."""
    return render_template("review/error.html", title=title, message=message), status


def http_error(error: HTTPException) -> ResponseReturnValue:
    """Show a plain page for 403, 404, 405 and other HTTP errors."""
    status = error.code or 500
    if status == 403:
        return _page(_("Not allowed"), _("Your role does not allow this page."), 403)
    if status == 404:
        return _page(_("Not found"), _("There is nothing at this address."), 404)
    return _page(_("Request refused"), _("The desk could not handle this request."), status)


def csrf_error(error: CSRFError) -> ResponseReturnValue:
    """Explain an expired or missing form token instead of a bare 400."""
    return _page(
        _("Form expired"),
        _("The form was too old or came from elsewhere. Load the page again."),
        400,
    )


def register(app: Flask) -> None:
    """Attach the error handlers to the desk app."""
    app.register_error_handler(CSRFError, csrf_error)
    app.register_error_handler(HTTPException, http_error)
