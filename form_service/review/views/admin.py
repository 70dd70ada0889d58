"""Dashboard, exports (admins, POST only) and the audit log (admins)."""

from __future__ import annotations

from flask import Response, abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from form_service.review import audit, chart, deadlines, export, replies, reports
from form_service.review import inbox as listing
from form_service.review.forms import (
    AuditFilterForm,
    ExportForm,
    FilterForm,
    fill_choices,
    filter_names,
    to_audit_query,
    to_filter,
)
from form_service.review.state import as_of, current_staff, db, desk
from form_service.review.views import bp, page_number


@bp.route("/dashboard")
def dashboard() -> ResponseReturnValue:
    """Show counts by status and tips per week over 12 weeks (SVG chart and table)."""
    weeks = reports.weekly_counts(db(), desk().clock.today())
    svg = chart.weekly_chart(weeks, _("Tips received per week, last 12 weeks"), "weekly-title")
    when = as_of()
    return render_template(
        "review/dashboard.html",
        counts=listing.status_counts(db()),
        weeks=weeks,
        chart=svg,
        unread=replies.unread_count(db()),
        deadline_counts=deadlines.counts(db(), when.policy, when.today),
    )


@bp.route("/export", methods=["POST"])
def export_tips() -> ResponseReturnValue:
    """Send the filtered selection as CSV or JSON, and record the export in the audit log."""
    form = ExportForm()
    if not form.validate_on_submit():
        abort(400)
    filter_form = FilterForm(request.form)
    fill_choices(filter_form, db(), desk().languages)
    flt = to_filter(filter_form)
    rows = reports.export_rows(db(), flt, desk().private_key, as_of())
    fmt = form.file_format.data
    audit.record(
        db(),
        current_staff().email,
        "export",
        format=fmt,
        tips=len(rows),
        filters=filter_names(filter_form),
    )
    db().commit()
    body = export.to_csv(rows) if fmt == "csv" else export.to_json(rows)
    stamp = desk().clock.now().strftime("%Y%m%d-%H%M%S")
    mimetype = "text/csv" if fmt == "csv" else "application/json"
    response = Response(body.encode("utf-8"), mimetype=f"{mimetype}; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="tips-{stamp}.{fmt}"'
    return response


@bp.route("/audit")
def audit_log() -> ResponseReturnValue:
    """List audit entries newest first, filtered by who, what, tip and date."""
    form = AuditFilterForm(request.args)
    page = page_number()
    entries, total = audit.audit_page(db(), to_audit_query(form), page)
    return render_template("review/audit.html", form=form, entries=entries, total=total, page=page)
