"""Forms of the review desk; labels are lazily translated."""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    EmailField,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from form_service.models import TipStatus, TipTopic
from form_service.review.passwords import MAX_LENGTH
from form_service.review.workflow import MAX_LABEL

STATUS_LABELS = {
    TipStatus.NEW: _l("New"),
    TipStatus.TRIAGED: _l("Triaged"),
    TipStatus.IN_PROGRESS: _l("In progress"),
    TipStatus.FORWARDED: _l("Forwarded"),
    TipStatus.CLOSED: _l("Closed"),
}
TOPIC_LABELS = {
    TipTopic.PERSON: _l("A person"),
    TipTopic.SIGHTING: _l("A sighting"),
    TipTopic.DOCUMENT: _l("A document"),
    TipTopic.OTHER: _l("Other"),
}


def options(pairs: Iterable[tuple[object, object]]) -> list[SelectChoice]:
    """Turn (value, label) pairs into select options; lazy labels stay lazy (translated late)."""
    return [SelectChoice(str(value), cast(str, label)) for value, label in pairs]


class SignInForm(FlaskForm):  # type: ignore[misc]
    """E-mail address and password, the first factor."""

    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=320)])
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


class StatusForm(FlaskForm):  # type: ignore[misc]
    """A new status for a tip; closing needs a reason."""

    status = SelectField(
        # No InputRequired: it would render `required`, invalid on a select without a
        # placeholder; the choice check already refuses anything not listed.
        _l("Status"),
        choices=options(STATUS_LABELS.items()),
    )
    reason = StringField(_l("Reason for closing"), validators=[Optional(), Length(max=500)])


class AssignForm(FlaskForm):  # type: ignore[misc]
    """Who works the tip ("" for nobody); choices are filled from the staff list."""

    assignee = SelectField(_l("Assigned to"), choices=[], validate_choice=True)


class LabelForm(FlaskForm):  # type: ignore[misc]
    """A free label to add to (or remove from) a tip."""

    label = StringField(_l("Label"), validators=[DataRequired(), Length(max=MAX_LABEL)])


class NoteForm(FlaskForm):  # type: ignore[misc]
    """An internal note, sealed to the desk key."""

    note_text = TextAreaField(_l("Internal note"), validators=[DataRequired(), Length(max=20000)])


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
    label = StringField(_l("Label"), validators=[Optional(), Length(max=MAX_LABEL)])
    search = StringField(_l("Search the message text"), validators=[Optional(), Length(max=200)])


class ExportForm(FlaskForm):  # type: ignore[misc]
    """Export the current selection; the filters ride along as hidden fields."""

    file_format = SelectField(_l("Format"), choices=options([("csv", "CSV"), ("json", "JSON")]))


class AuditFilterForm(FlaskForm):  # type: ignore[misc]
    """Filters of the audit log page (query string, no CSRF token)."""

    class Meta:
        csrf = False

    actor = StringField(_l("Who"), validators=[Optional(), Length(max=320)])
    action = StringField(_l("Action"), validators=[Optional(), Length(max=64)])
    tip_id = StringField(_l("Tip number"), validators=[Optional(), Length(max=20)])
    recorded_from = DateField(_l("From"), validators=[Optional()])
    recorded_to = DateField(_l("Until"), validators=[Optional()])
