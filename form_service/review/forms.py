"""Forms of the review desk (labels lazily translated), and turning filter forms into queries."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, cast

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from form_service.languages import Language
from form_service.models import Staff
from form_service.models.base import MAX_ROW_ID
from form_service.review.audit import AuditQuery
from form_service.review.auth.passwords import MAX_LENGTH
from form_service.review.inbox import InboxFilter
from form_service.review.labels import STATUS_LABELS, TOPIC_LABELS
from form_service.review.workflow import MAX_LABEL


def options(pairs: Iterable[tuple[object, object]]) -> list[SelectChoice]:
    """Turn (value, label) pairs into select options; lazy labels stay lazy (translated late)."""
    return [SelectChoice(str(value), cast(str, label)) for value, label in pairs]


# PostgreSQL refuses NUL in text outright; the other control characters are never meant.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _control_message() -> str:
    """Return the message for a value holding control characters."""
    return str(_("Remove the control characters (such as NUL) from this field."))


def no_control_characters(form: Any, field: Any) -> None:
    """Refuse a one-line value holding NUL or another control character."""
    if field.data and _CONTROL.search(str(field.data)):
        raise ValidationError(_control_message())


def control_problem(form: Any) -> str | None:
    """Return the control-character message if any field of the form was refused for it."""
    refused = any(_control_message() in messages for messages in form.errors.values())
    return _control_message() if refused else None


class SignInForm(FlaskForm):  # type: ignore[misc]
    """E-mail address and password, the first factor."""

    email = EmailField(
        _l("E-mail address"),
        validators=[DataRequired(), Length(max=320), no_control_characters],
    )
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=MAX_LENGTH)])
    next = HiddenField()


class CodeForm(FlaskForm):  # type: ignore[misc]
    """A six-digit code from the authenticator app, the second factor."""

    code = StringField(
        _l("Six-digit code from your authenticator app"),
        validators=[DataRequired(), Length(min=6, max=8)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
    next = HiddenField()


class EnrolmentCodeForm(FlaskForm):  # type: ignore[misc]
    """The one-time code an administrator hands over with a new account."""

    enrolment_code = StringField(
        _l("Enrolment code"),
        validators=[DataRequired(), Length(max=64), no_control_characters],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    next = HiddenField()


class StatusForm(FlaskForm):  # type: ignore[misc]
    """A new status for a tip; closing needs a reason."""

    status = SelectField(
        # No InputRequired: it would render `required`, invalid on a select without a
        # placeholder; the choice check already refuses anything not listed.
        _l("Status"),
        choices=options(STATUS_LABELS.items()),
    )
    reason = StringField(
        _l("Reason for closing"), validators=[Optional(), Length(max=500), no_control_characters]
    )


class AssignForm(FlaskForm):  # type: ignore[misc]
    """Who works the tip ("" for nobody); choices are filled from the staff list."""

    assignee = SelectField(_l("Assigned to"), choices=[], validate_choice=True)


class LabelForm(FlaskForm):  # type: ignore[misc]
    """A free label to add to (or remove from) a tip."""

    label = StringField(
        _l("Label"), validators=[DataRequired(), Length(max=MAX_LABEL), no_control_characters]
    )


class NoteForm(FlaskForm):  # type: ignore[misc]
    """An internal note, sealed to the desk key."""

    note_text = TextAreaField(_l("Internal note"), validators=[DataRequired(), Length(max=20000)])


class BulkForm(FlaskForm):  # type: ignore[misc]
    """One change for the tips ticked in the inbox; which one is the button pressed."""

    class Meta:
        # Its fields are prefixed, which would rename the token field too; the app-wide
        # CSRFProtect checks the page's plain csrf_token on this post like on every other.
        csrf = False

    assignee = SelectField(_l("Assign to"), choices=[], validate_choice=True)
    label = StringField(_l("Label to add"), validators=[Optional(), Length(max=MAX_LABEL)])
    status = SelectField(_l("New status"), choices=options(STATUS_LABELS.items()))
    reason = StringField(_l("Reason for closing"), validators=[Optional(), Length(max=500)])


def bulk_form(db: Session, formdata: object = None) -> BulkForm:
    """Build the bulk form (fields prefixed: the inbox's filter form uses the same names)."""
    form = BulkForm(prefix="bulk") if formdata is None else BulkForm(formdata, prefix="bulk")
    staff = db.scalars(select(Staff).where(Staff.disabled.is_(False)).order_by(Staff.email))
    form.assignee.choices = options([("", _("Nobody"))] + [(s.staff_id, s.email) for s in staff])
    return form


class FilterForm(FlaskForm):  # type: ignore[misc]
    """The inbox filters; read from the query string, so without a CSRF token."""

    class Meta:
        csrf = False

    status = SelectField(_l("Status"), choices=[], validators=[Optional()])
    topic = SelectField(_l("Topic"), choices=[], validators=[Optional()])
    language = SelectField(_l("Language"), choices=[], validators=[Optional()])
    received_from = DateField(_l("Received from"), validators=[Optional()])
    received_to = DateField(_l("Received until"), validators=[Optional()])
    assignee = SelectField(_l("Assigned to"), choices=[], validators=[Optional()])
    label = StringField(
        _l("Label"), validators=[Optional(), Length(max=MAX_LABEL), no_control_characters]
    )
    search = StringField(_l("Search the message text"), validators=[Optional(), Length(max=200)])
    unread = BooleanField(_l("Only tips with unread follow-ups"))
    deadline = SelectField(_l("Deadlines"), choices=[], validators=[Optional()])
    sort = SelectField(_l("Order"), choices=[], validators=[Optional()])


class ExportForm(FlaskForm):  # type: ignore[misc]
    """Export the current selection; the filters ride along as hidden fields."""

    file_format = SelectField(_l("Format"), choices=options([("csv", "CSV"), ("json", "JSON")]))


class AuditFilterForm(FlaskForm):  # type: ignore[misc]
    """Filters of the audit log page (query string, no CSRF token)."""

    class Meta:
        csrf = False

    actor = StringField(_l("Who"), validators=[Optional(), Length(max=320), no_control_characters])
    action = StringField(
        _l("Action"), validators=[Optional(), Length(max=64), no_control_characters]
    )
    tip_id = StringField(
        _l("Tip number"), validators=[Optional(), Length(max=20), no_control_characters]
    )
    recorded_from = DateField(_l("From"), validators=[Optional()])
    recorded_to = DateField(_l("Until"), validators=[Optional()])


class ReplyForm(FlaskForm):  # type: ignore[misc]
    """A reply to the tipster, sealed to the tip's reply key and to the desk."""

    reply_text = TextAreaField(
        _l("Reply to the tipster"), validators=[DataRequired(), Length(max=10_000)]
    )


class ReplyTemplateForm(FlaskForm):  # type: ignore[misc]
    """A reply template: its language, a short title and the text."""

    language = SelectField(_l("Language"), choices=[])
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=120)])
    body = TextAreaField(_l("Text"), validators=[DataRequired(), Length(max=10_000)])


FILTER_FIELDS = (
    "status",
    "topic",
    "language",
    "received_from",
    "received_to",
    "assignee",
    "label",
    "search",
    "unread",
    "deadline",
    "sort",
)
DEADLINE_CHOICES = (
    ("overdue", _l("Overdue")),
    ("soon", _l("Due within 7 days")),
    ("open", _l("Feedback not given yet")),
)
SORT_CHOICES = (("", _l("Newest first")), ("deadline", _l("Next deadline first")))


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
    form.deadline.choices = options(anything + list(DEADLINE_CHOICES))
    form.sort.choices = options(SORT_CHOICES)


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
        unread=bool(value("unread")),
        deadline=value("deadline"),  # type: ignore[arg-type]
        sort=value("sort"),  # type: ignore[arg-type]
    )


def active_filters(form: FilterForm) -> dict[str, str]:
    """Return the filter values in use, as text, to carry into paging links and exports."""
    return {
        name: str(form[name].raw_data[0])
        for name in FILTER_FIELDS
        if form[name].raw_data and form[name].raw_data[0]
    }


def filter_names(form: FilterForm) -> list[str]:
    """Return the names of the filters in use, never their values: what the audit log keeps.

    A search text or a label can name a source ("defector-source-X", a person's name); the
    audit log outlives the tips and is read by every admin, so it records only which
    filters narrowed an export.
    """
    return sorted(active_filters(form))


def to_audit_query(form: AuditFilterForm) -> AuditQuery:
    """Return the audit log query the form describes (nothing when it does not validate)."""
    if not form.validate():
        return AuditQuery()
    tip_id = (form.tip_id.data or "").strip()
    number = int(tip_id) if tip_id.isdecimal() and tip_id.isascii() else None
    return AuditQuery(
        actor=(form.actor.data or "").strip().casefold() or None,
        action=(form.action.data or "").strip() or None,
        # A number no row can have matches nothing, rather than overflowing the query.
        tip_id=min(number, MAX_ROW_ID + 1) if number is not None else None,
        recorded_from=form.recorded_from.data,
        recorded_to=form.recorded_to.data,
    )
