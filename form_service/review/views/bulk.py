"""Bulk triage from the inbox: the ticked tips get one change, each audited on its own."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import ngettext

from form_service.models import Staff, TipStatus
from form_service.review import bulk, workflow
from form_service.review.forms import FILTER_FIELDS, bulk_form
from form_service.review.state import current_staff, db, desk
from form_service.review.views import bp


def _back_to_inbox() -> ResponseReturnValue:
    """Return to the inbox with the filters the form carried."""
    kept: dict[str, Any] = {
        name: request.form[name] for name in FILTER_FIELDS if request.form.get(name)
    }
    return redirect(url_for("review.inbox", **kept))


@bp.route("/tips/bulk", methods=["POST"])
def bulk_triage() -> ResponseReturnValue:
    """Assign, label or move every ticked tip (at most bulk.MAX_TIPS), all or nothing."""
    form = bulk_form(db(), request.form)
    action = request.form.get("bulk-action", "")
    raw_ids = request.form.getlist("tip_id")
    # Only the pressed button's fields count: the others may be left as they are.
    needed = {"assign": ("assignee",), "label": ("label",), "status": ("status", "reason")}
    fields = [form[name] for name in needed.get(action, ())]
    if not fields or not all(item.validate(form) for item in fields):
        flash(_("Choose a change for the selected tips."), "error")
        return _back_to_inbox()
    if not raw_ids or not all(value.isdigit() for value in raw_ids):
        flash(_("Select at least one tip."), "error")
        return _back_to_inbox()
    if len(set(raw_ids)) > bulk.MAX_TIPS:
        flash(_("Select at most %(num)s tips at once.", num=bulk.MAX_TIPS), "error")
        return _back_to_inbox()
    if action == "assign":
        assignee = db().get(Staff, int(form.assignee.data)) if form.assignee.data else None
        change = bulk.BulkChange(assignee=assignee, unassign=assignee is None)
    elif action == "label":
        change = bulk.BulkChange(label=form.label.data or "")
    else:
        change = bulk.BulkChange(status=TipStatus(form.status.data), reason=form.reason.data or "")
    try:
        tips = bulk.selected_tips(db(), (int(value) for value in raw_ids))
        count = bulk.apply(db(), current_staff(), tips, change, desk().clock.today())
    except (workflow.WorkflowError, bulk.BulkError):
        db().rollback()
        flash(
            _("Nothing was changed: closing needs a reason, a label 1 to 64 characters."), "error"
        )
        return _back_to_inbox()
    db().commit()
    flash(ngettext("Changed %(num)s tip.", "Changed %(num)s tips.", count), "info")
    return _back_to_inbox()
