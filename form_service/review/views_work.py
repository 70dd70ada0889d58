"""Changes on a tip (status, assignee, labels, notes) and attachment downloads."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Response, abort, flash, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select

from form_service import audit
from form_service.models import Tip, TipStatus
from form_service.review import tips, workflow
from form_service.review.forms import AssignForm, LabelForm, NoteForm, StatusForm, options
from form_service.review.views_auth import bp
from form_service.review.web import current_staff, db, desk
from form_service.staff import Staff


def _tip(tip_id: int) -> Tip:
    """Return the tip or answer 404."""
    return db().get(Tip, tip_id) or abort(404)


def _back(tip_id: int, error: str | None = None) -> ResponseReturnValue:
    """Commit (or report the error) and return to the tip page."""
    if error:
        db().rollback()
        flash(error, "error")
    else:
        db().commit()
        flash(_("Saved."), "info")
    return redirect(url_for("review.show_tip", tip_id=tip_id))


@bp.route("/tips/<int:tip_id>/status", methods=["POST"])
def change_status(tip_id: int) -> ResponseReturnValue:
    """Move the tip to another status (closing asks for a reason)."""
    tip, form = _tip(tip_id), StatusForm()
    if not form.validate_on_submit():
        return _back(tip_id, _("Choose a status."))
    today = datetime.now(UTC).date()
    try:
        workflow.change_status(
            db(), tip, current_staff(), TipStatus(form.status.data), form.reason.data or "", today
        )
    except workflow.WorkflowError:
        return _back(tip_id, _("Give a reason for closing the tip."))
    return _back(tip_id)


@bp.route("/tips/<int:tip_id>/assignee", methods=["POST"])
def assign_tip(tip_id: int) -> ResponseReturnValue:
    """Assign the tip to a staff member, or to nobody."""
    tip, form = _tip(tip_id), AssignForm()
    active = db().scalars(select(Staff.staff_id).where(Staff.disabled.is_(False)))
    form.assignee.choices = options([("", "-")] + [(staff_id, "") for staff_id in active])
    if not form.validate_on_submit():
        return _back(tip_id, _("Choose a staff member."))
    assignee = db().get(Staff, int(form.assignee.data)) if form.assignee.data else None
    workflow.assign(db(), tip, current_staff(), assignee)
    return _back(tip_id)


@bp.route("/tips/<int:tip_id>/labels", methods=["POST"])
def add_label(tip_id: int) -> ResponseReturnValue:
    """Put a free label on the tip."""
    tip, form = _tip(tip_id), LabelForm()
    if not form.validate_on_submit():
        return _back(tip_id, _("A label has 1 to 64 characters."))
    workflow.add_label(db(), tip, current_staff(), form.label.data or "")
    return _back(tip_id)


@bp.route("/tips/<int:tip_id>/labels/remove", methods=["POST"])
def remove_label(tip_id: int) -> ResponseReturnValue:
    """Take a label off the tip."""
    tip, form = _tip(tip_id), LabelForm()
    if not form.validate_on_submit():
        return _back(tip_id, _("A label has 1 to 64 characters."))
    workflow.remove_label(db(), tip, current_staff(), form.label.data or "")
    return _back(tip_id)


@bp.route("/tips/<int:tip_id>/notes", methods=["POST"])
def add_note(tip_id: int) -> ResponseReturnValue:
    """Add an internal note, sealed to the desk key."""
    tip, form = _tip(tip_id), NoteForm()
    if not form.validate_on_submit():
        return _back(tip_id, _("Write the note first."))
    workflow.add_note(
        db(), tip, current_staff(), desk().private_key.public_key, form.note_text.data or ""
    )
    return _back(tip_id)


@bp.route("/tips/<int:tip_id>/attachments/<int:attachment_id>")
def download_attachment(tip_id: int, attachment_id: int) -> ResponseReturnValue:
    """Send one attachment as a download only, never rendered in the browser."""
    plain = tips.open_download(db(), desk().private_key, tip_id, attachment_id) or abort(404)
    audit.record(
        db(), current_staff().email, "attachment.download", tip_id, attachment_id=attachment_id
    )
    db().commit()
    name = tips.download_name(tip_id, attachment_id, plain.content_type)
    response = Response(plain.data, mimetype="application/octet-stream")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    # Even if a browser ignored the disposition, a sandboxed, script-less document is harmless.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
