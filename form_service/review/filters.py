"""Turn the inbox filter form into an InboxFilter, and fill its choices."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from form_service.languages import Language
from form_service.review.forms import STATUS_LABELS, TOPIC_LABELS, FilterForm, options
from form_service.review.inbox import InboxFilter
from form_service.staff import Staff

FILTER_FIELDS = (
    "status",
    "topic",
    "language",
    "received_from",
    "received_to",
    "assignee",
    "label",
    "search",
)


def fill_choices(form: FilterForm, db: Session, languages: Iterable[Language]) -> None:
    """Offer every status, topic, site language and staff member in the filter form."""
    anything = [("", _("Any"))]
    form.status.choices = options(anything + list(STATUS_LABELS.items()))
    form.topic.choices = options(anything + list(TOPIC_LABELS.items()))
    # The site's languages, not SELECT DISTINCT: that scans every tip on each inbox view.
    form.language.choices = options(anything + [(item.code, item.name) for item in languages])
    staff = db.scalars(select(Staff).order_by(Staff.email))
    nobody = [("0", _("Nobody"))]
    form.assignee.choices = options(anything + nobody + [(s.staff_id, s.email) for s in staff])


def to_filter(form: FilterForm) -> InboxFilter:
    """Return the filter the form describes; fields that failed validation are ignored."""
    valid = form.validate()
    errors = form.errors if not valid else {}

    def value(name: str) -> object:
        return None if name in errors else (getattr(form, name).data or None)

    assignee = value("assignee")
    return InboxFilter(
        status=value("status"),  # type: ignore[arg-type]
        topic=value("topic"),  # type: ignore[arg-type]
        language=value("language"),  # type: ignore[arg-type]
        received_from=value("received_from"),  # type: ignore[arg-type]
        received_to=value("received_to"),  # type: ignore[arg-type]
        assignee_id=int(str(assignee)) if assignee is not None else None,
        label=value("label"),  # type: ignore[arg-type]
        search=value("search"),  # type: ignore[arg-type]
    )


def active_filters(form: FilterForm) -> dict[str, str]:
    """Return the filter values in use, as text, to carry into paging links and exports."""
    return {
        name: str(form[name].raw_data[0])
        for name in FILTER_FIELDS
        if form[name].raw_data and form[name].raw_data[0]
    }
