"""The inbox and the tip page, and the changes staff make on a tip (every view is audited)."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from form_service.models import ReplyTemplate, Staff, Tip, TipStatus
from form_service.review import audit, bulk, deadlines, replies, tipview, workflow
from form_service.review import inbox as listing
from form_service.review.forms import (
    AssignForm,
    ExportForm,
    FilterForm,
    LabelForm,
    NoteForm,
    ReplyForm,
    StatusForm,
    active_filters,
    bulk_form,
    control_problem,
    fill_choices,
    options,
    to_filter,
)
from form_service.review.state import as_of, current_staff, db, desk
from form_service.review.views import bp, page_number


@bp.route("/")
def inbox() -> ResponseReturnValue:
    """List tips newest first, 50 a page, filtered and optionally searched."""
    form = FilterForm(request.args)
    fill_choices(form, db(), desk().languages)
    flt = to_filter(form)
    page = page_number()
    when = as_of()
    if flt.search:
        result = listing.search_page(db(), flt, page, desk().search_texts, when)
    else:
        result = listing.list_page(db(), flt, page, when)
    return render_template(
        "review/inbox.html",
        form=form,
        result=result,
        today=when.today,
        bulk=bulk_form(db()),
        bulk_max=bulk.MAX_TIPS,
        due_dates={
            row.tip.tip_id: deadlines.of(row.tip, row.triage, when.policy) for row in result.rows
        },
        active=active_filters(form),
        counts=listing.status_counts(db()),
        export_form=ExportForm(),
        due=listing.due_for_deletion(db(), desk().settings.retention_days, desk().clock.today()),
        unread=replies.unread_count(db()),
    )


@bp.route("/tips/<row_id:tip_id>")
def show_tip(tip_id: int) -> ResponseReturnValue:
    """Show every field of a tip as inert text, with its workflow, notes and history."""
    tip = db().get(Tip, tip_id) or abort(404)
    view = tipview.tip_view(db(), tip, desk().private_key)
    thread = replies.thread(db(), tip.tip_id, desk().private_key)
    # Opening the page reads the follow-ups: the inbox stops marking the tip.
    newly_read = replies.mark_seen(db(), tip.tip_id)
    audit.record(db(), current_staff().email, "tip.view", tip.tip_id, follow_ups_read=newly_read)
    db().commit()
    when = as_of()
    return render_template(
        "review/tip.html",
        tip=tip,
        view=view,
        today=when.today,
        due=deadlines.of(tip, view.triage, when.policy),
        thread=thread,
        can_reply=replies.can_reply(db(), tip.tip_id),
        templates=replies.templates_for(db(), tip.language),
        reply_form=reply_form(tip),
        **tip_forms(db(), tip, view),
    )


def reply_form(tip: Tip) -> ReplyForm:
    """Build the reply form, filled from a template of the tip's language when one is chosen."""
    form = ReplyForm(formdata=None)
    chosen = request.args.get("template", type=int)
    template = db().get(ReplyTemplate, chosen) if chosen else None
    if template is not None and template.language == tip.language:
        form.reply_text.data = template.body
    return form


def tip_forms(db: Session, tip: Tip, view: tipview.TipView) -> dict[str, Any]:
    """Build the workflow forms of the tip page, preset to the tip's state."""
    assign = AssignForm()
    staff = db.scalars(select(Staff).where(Staff.disabled.is_(False)).order_by(Staff.email))
    assign.assignee.choices = options([("", "-")] + [(s.staff_id, s.email) for s in staff])
    if view.triage and view.triage.assignee_id:
        assign.assignee.data = str(view.triage.assignee_id)
    status = StatusForm()
    status.status.data = str(tip.status)
    return {
        "status_form": status,
        "assign_form": assign,
        "label_form": LabelForm(),
        "note_form": NoteForm(),
    }


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


@bp.route("/tips/<row_id:tip_id>/status", methods=["POST"])
def change_status(tip_id: int) -> ResponseReturnValue:
    """Move the tip to another status (closing asks for a reason)."""
    tip, form = _tip(tip_id), StatusForm()
    if not form.validate_on_submit():
        return _back(tip_id, control_problem(form) or _("Choose a status."))
    try:
        workflow.change_status(
            db(),
            tip,
            current_staff(),
            TipStatus(form.status.data),
            form.reason.data or "",
            desk().clock.today(),
        )
    except workflow.WorkflowError:
        return _back(tip_id, _("Give a reason for closing the tip."))
    return _back(tip_id)


@bp.route("/tips/<row_id:tip_id>/assignee", methods=["POST"])
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


@bp.route("/tips/<row_id:tip_id>/labels", methods=["POST"])
def add_label(tip_id: int) -> ResponseReturnValue:
    """Put a free label on the tip."""
    tip, form = _tip(tip_id), LabelForm()
    if not form.validate_on_submit():
        return _back(tip_id, control_problem(form) or _("A label has 1 to 64 characters."))
    workflow.add_label(db(), tip, current_staff(), form.label.data or "")
    return _back(tip_id)


@bp.route("/tips/<row_id:tip_id>/labels/remove", methods=["POST"])
def remove_label(tip_id: int) -> ResponseReturnValue:
    """Take a label off the tip."""
    tip, form = _tip(tip_id), LabelForm()
    if not form.validate_on_submit():
        return _back(tip_id, control_problem(form) or _("A label has 1 to 64 characters."))
    workflow.remove_label(db(), tip, current_staff(), form.label.data or "")
    return _back(tip_id)


@bp.route("/tips/<row_id:tip_id>/notes", methods=["POST"])
def add_note(tip_id: int) -> ResponseReturnValue:
    """Add an internal note, sealed to the desk key."""
    tip, form = _tip(tip_id), NoteForm()
    if not form.validate_on_submit():
        return _back(tip_id, _("Write the note first."))
    workflow.add_note(
        db(), tip, current_staff(), desk().private_key.public_key, form.note_text.data or ""
    )
    return _back(tip_id)


@bp.route("/tips/<row_id:tip_id>/attachments/<row_id:attachment_id>")
def download_attachment(tip_id: int, attachment_id: int) -> ResponseReturnValue:
    """Send one attachment as a download only, never rendered in the browser."""
    plain = tipview.open_download(db(), desk().private_key, tip_id, attachment_id) or abort(404)
    audit.record(
        db(), current_staff().email, "attachment.download", tip_id, attachment_id=attachment_id
    )
    db().commit()
    name = tipview.download_name(tip_id, attachment_id, plain.content_type)
    response = Response(plain.data, mimetype="application/octet-stream")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    # Even if a browser ignored the disposition, a sandboxed, script-less document is harmless.
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.route("/tips/<int:tip_id>/messages/<message_id>/files/<int:number>")
def download_message_attachment(tip_id: int, message_id: str, number: int) -> ResponseReturnValue:
    """Send one file of a follow-up as a download only, never rendered in the browser."""
    plain = replies.open_message_file(db(), desk().private_key, tip_id, message_id, number)
    if plain is None:
        abort(404)
    audit.record(
        db(),
        current_staff().email,
        "attachment.download",
        tip_id,
        message=message_id,
        number=number,
    )
    db().commit()
    name = (
        f"tip-{tip_id}-follow-up-file-{number}.{tipview.EXTENSIONS.get(plain.content_type, 'bin')}"
    )
    response = Response(plain.data, mimetype="application/octet-stream")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
