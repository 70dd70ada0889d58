"""Reading the audit log on the desk: filters and pages."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from form_service.audit import AuditEntry
from form_service.review.forms import AuditFilterForm

PAGE_SIZE = 100


def audit_page(db: Session, form: AuditFilterForm, page: int) -> tuple[list[AuditEntry], int]:
    """Return one page of entries (newest first) matching the form, and the total count."""
    query = select(AuditEntry)
    if form.validate():
        if form.actor.data:
            query = query.where(AuditEntry.actor == form.actor.data.strip().casefold())
        if form.action.data:
            query = query.where(AuditEntry.action == form.action.data.strip())
        if form.tip_id.data and form.tip_id.data.strip().isdigit():
            query = query.where(AuditEntry.tip_id == int(form.tip_id.data.strip()))
        if form.recorded_from.data:
            query = query.where(
                AuditEntry.recorded_at >= datetime.combine(form.recorded_from.data, time(), UTC)
            )
        if form.recorded_to.data:
            end = datetime.combine(form.recorded_to.data, time(), UTC) + timedelta(days=1)
            query = query.where(AuditEntry.recorded_at < end)
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = max(1, page)
    entries = db.scalars(
        query.order_by(AuditEntry.entry_id.desc()).limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)
    )
    return list(entries), total
