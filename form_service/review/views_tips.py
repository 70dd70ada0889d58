"""The inbox and the tip page: read views (every tip view is audited)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort, render_template, request
from flask.typing import ResponseReturnValue

from form_service import audit
from form_service.models import Tip
from form_service.review import filters, tips
from form_service.review import inbox as listing
from form_service.review.forms import ExportForm, FilterForm
from form_service.review.pages import desk_languages
from form_service.review.views_auth import bp
from form_service.review.web import current_staff, db, desk


@bp.route("/")
def inbox() -> ResponseReturnValue:
    """List tips newest first, 50 a page, filtered and optionally searched."""
    form = FilterForm(request.args)
    filters.fill_choices(form, db(), desk_languages())
    flt = filters.to_filter(form)
    page = request.args.get("page", 1, type=int) or 1
    if flt.search:
        result = listing.search_page(db(), flt, page, tips.opener(desk().private_key))
    else:
        result = listing.list_page(db(), flt, page)
    today = datetime.now(UTC).date()
    return render_template(
        "review/inbox.html",
        form=form,
        result=result,
        active=filters.active_filters(form),
        counts=listing.status_counts(db()),
        export_form=ExportForm(),
        due=listing.due_for_deletion(db(), desk().review.retention_days, today),
    )


@bp.route("/tips/<int:tip_id>")
def show_tip(tip_id: int) -> ResponseReturnValue:
    """Show every field of a tip as inert text, with its workflow, notes and history."""
    tip = db().get(Tip, tip_id) or abort(404)
    view = tips.tip_view(db(), tip, desk().private_key)
    audit.record(db(), current_staff().email, "tip.view", tip.tip_id)
    db().commit()
    return render_template("review/tip.html", tip=tip, view=view, **tips.tip_forms(db(), tip, view))
