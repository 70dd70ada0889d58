"""Dashboard, exports (admins, POST only), the audit log (admins) and the stylesheet."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Response, abort, render_template, request, send_file
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from form_service import audit
from form_service.review import chart, export, filters, reports
from form_service.review import inbox as listing
from form_service.review.auditlog import audit_page
from form_service.review.forms import AuditFilterForm, ExportForm, FilterForm
from form_service.review.pages import desk_languages
from form_service.review.views_auth import bp
from form_service.review.web import current_staff, db, desk


@bp.route("/dashboard")
def dashboard() -> ResponseReturnValue:
    """Show counts by status and tips per week over 12 weeks (SVG chart and table)."""
    weeks = reports.weekly_counts(db(), datetime.now(UTC).date())
    svg = chart.weekly_chart(weeks, _("Tips received per week, last 12 weeks"), "weekly-title")
    return render_template(
        "review/dashboard.html", counts=listing.status_counts(db()), weeks=weeks, chart=svg
    )


@bp.route("/export", methods=["POST"])
def export_tips() -> ResponseReturnValue:
    """Send the filtered selection as CSV or JSON, and record the export in the audit log."""
    form = ExportForm()
    if not form.validate_on_submit():
        abort(400)
    filter_form = FilterForm(request.form)
    filters.fill_choices(filter_form, db(), desk_languages())
    flt = filters.to_filter(filter_form)
    rows = reports.export_rows(db(), flt, desk().private_key)
    fmt = form.file_format.data
    audit.record(
        db(),
        current_staff().email,
        "export",
        format=fmt,
        tips=len(rows),
        filters=filters.active_filters(filter_form),
    )
    db().commit()
    body = export.to_csv(rows) if fmt == "csv" else export.to_json(rows)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    mimetype = "text/csv" if fmt == "csv" else "application/json"
    response = Response(body.encode("utf-8"), mimetype=f"{mimetype}; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="tips-{stamp}.{fmt}"'
    return response


@bp.route("/audit")
def audit_log() -> ResponseReturnValue:
    """List audit entries newest first, filtered by who, what, tip and date."""
    form = AuditFilterForm(request.args)
    page = request.args.get("page", 1, type=int) or 1
    entries, total = audit_page(db(), form, page)
    return render_template("review/audit.html", form=form, entries=entries, total=total, page=page)


@bp.route("/site.css")
def stylesheet() -> ResponseReturnValue:
    """Serve the theme's one stylesheet, so the desk looks right as its own process too."""
    path = desk().settings.theme_dir / "static" / "css" / "site.css"
    if not path.is_file():
        abort(404)
    return send_file(path, mimetype="text/css", max_age=0)
