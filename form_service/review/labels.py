"""The names the desk shows for stored values (statuses, topics, fields, history entries)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from form_service.models import StaffRole, TipChangeKind, TipStatus, TipTopic

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
# Names of the fields the intake seals into a tip (form_service.intake.forms.TipForm).
FIELD_LABELS = {
    "message": _l("Information"),
    "when_where": _l("When and where"),
    "how_known": _l("How they know"),
    "contact": _l("How to reach them"),
}
CHANGE_LABELS = {
    TipChangeKind.STATUS: _l("Status"),
    TipChangeKind.ASSIGNEE: _l("Assigned to"),
    TipChangeKind.LABEL_ADDED: _l("Label added"),
    TipChangeKind.LABEL_REMOVED: _l("Label removed"),
    TipChangeKind.NOTE: _l("Note added"),
}
ROLE_LABELS = {StaffRole.ADMIN: _l("Administrator"), StaffRole.REVIEWER: _l("Reviewer")}
