"""The forms of the check pages: the code, a follow-up, deleting a reply, leaving."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, HiddenField, MultipleFileField, StringField, TextAreaField
from wtforms.validators import StopValidation, ValidationError

from form_service.crypto import PlainAttachment
from form_service.intake.forms import (
    MAX_MESSAGE_CHARS,
    UPLOAD_MESSAGES,
    max_chars,
    no_nul,
    normalize_newlines,
    received_uploads,
)
from form_service.uploads import UploadError, check_uploads


class ReceiptForm(FlaskForm):  # type: ignore[misc]
    """The receipt code, typed; every check of it happens in the lookup, the same for all."""

    receipt = StringField(_l("Your receipt code"))


class FollowUpForm(FlaskForm):  # type: ignore[misc]
    """More information on a tip: text and up to five files, checked like a first tip."""

    message = TextAreaField(
        _l("More information"),
        filters=[normalize_newlines],
        validators=[no_nul, max_chars(MAX_MESSAGE_CHARS)],
    )
    attachments = MultipleFileField(_l("Files (optional)"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clean_attachments: list[PlainAttachment] = []

    def validate_message(self, field: Field) -> None:
        """Require some text."""
        if not (field.data or "").strip():
            raise StopValidation(_l("Write your information in the box."))

    def validate_attachments(self, field: Field) -> None:
        """Check the files and keep cleaned copies (still in memory) for sealing."""
        try:
            self.clean_attachments = check_uploads(received_uploads(field.data))
        except UploadError as error:
            message = str(UPLOAD_MESSAGES[error.problem]) % {"number": error.position}
            raise ValidationError(message) from None


class DeleteReplyForm(FlaskForm):  # type: ignore[misc]
    """Which reply of the tip to delete."""

    message_id = HiddenField()


class LeaveForm(FlaskForm):  # type: ignore[misc]
    """End the session (the Leave button): only the CSRF token."""
