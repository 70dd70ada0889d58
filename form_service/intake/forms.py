"""The tip form: what a tipster may send, and the messages they see when it needs fixing."""

from __future__ import annotations

import unicodedata
from typing import Any

from flask_babel import format_number
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from werkzeug.datastructures import FileStorage
from wtforms import (
    Field,
    HiddenField,
    MultipleFileField,
    RadioField,
    SelectChoice,
    StringField,
    TextAreaField,
)
from wtforms.validators import StopValidation, ValidationError

from form_service.crypto import PlainAttachment
from form_service.intake.request import CappedBuffer
from form_service.intake.submit import NewTip
from form_service.models import TipTopic
from form_service.uploads import Upload, UploadError, UploadProblem, check_uploads

MAX_MESSAGE_CHARS = 20_000
MAX_DETAIL_CHARS = 5_000
MAX_CONTACT_CHARS = 1_000
TEXT_FIELDS = ("message", "when_where", "how_known", "contact")
# Characters that show nothing on their own: controls, format characters (zero-width space
# and joiners, bidi controls, the byte-order mark), separators, lone combining marks, and
# the blank letters some keyboards type (Hangul fillers, the blank Braille pattern).
INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "Me"})
BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")

UPLOAD_MESSAGES = {
    UploadProblem.TOO_MANY: _l("Attach at most 5 files."),
    UploadProblem.TOO_LARGE: _l("File %(number)s is larger than 10 MB. Attach a smaller file."),
    UploadProblem.TOTAL_TOO_LARGE: _l(
        "Your files are larger than 25 MB together. Attach fewer or smaller files."
    ),
    UploadProblem.TYPE_NOT_ACCEPTED: _l(
        "File %(number)s is not of a type we accept. Attach photos (JPEG, PNG, GIF, WebP), "
        "PDF documents or plain text files."
    ),
    UploadProblem.CONTENT_MISMATCH: _l(
        "The content of file %(number)s does not match its type. Attach photos (JPEG, PNG, "
        "GIF, WebP), PDF documents or plain text files."
    ),
    UploadProblem.UNREADABLE_IMAGE: _l(
        "File %(number)s could not be read as a picture. Attach another copy of it."
    ),
    UploadProblem.IMAGE_TOO_LARGE: _l(
        "File %(number)s is too large a picture for us to read. Attach a smaller copy of it: "
        "at most 50 million pixels (WebP: 25 million), or 10 million for all the frames of an "
        "animation together."
    ),
    UploadProblem.PICTURES_TOO_LARGE: _l(
        "Your pictures are too large together for us to read. Attach fewer or smaller pictures."
    ),
}
EMPTY_FILE_MESSAGE = _l("File %(number)s is empty. Attach it again, or send without it.")
FILE_IN_TEXT_MESSAGE = _l("A file was sent in this text box. Type or paste your text instead.")


def has_visible_text(text: str) -> bool:
    """Tell whether text shows anything at all (not only zero-width or blank characters)."""
    return any(
        unicodedata.category(char) not in INVISIBLE_CATEGORIES and char not in BLANK_LETTERS
        for char in text
    )


class TextBox(TextAreaField):  # type: ignore[misc]
    """A text area that takes text only: a file (or anything else) sent in it is an error."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        """Take the posted text; refuse a file part sent under this field's name."""
        texts = [value for value in valuelist if isinstance(value, str)]
        if len(texts) != len(valuelist):
            self.data = texts[0] if texts else ""  # any text sent beside the file is kept
            raise ValueError(FILE_IN_TEXT_MESSAGE)
        super().process_formdata(valuelist)

    def pre_validate(self, form: FlaskForm) -> None:
        """Stop at the one message about a file sent here, before the other checks."""
        if self.process_errors:
            raise StopValidation()


def normalize_newlines(value: str | None) -> str:
    """Count a line break as one character, however the browser sent it."""
    return (value or "").replace("\r\n", "\n").replace("\r", "\n")


def no_nul(form: FlaskForm, field: Field) -> None:
    """Refuse the NUL character, which no database column in clear may hold."""
    if "\x00" in (field.data or ""):
        raise StopValidation(
            _l("This text contains a null character, which we cannot store. Remove it.")
        )


def max_chars(limit: int) -> Any:
    """Make a validator that refuses text longer than `limit` characters."""

    def check(form: FlaskForm, field: Field) -> None:
        """Refuse the field when it is too long, saying by how much."""
        if len(field.data or "") > limit:
            raise ValidationError(
                _l(
                    "This text is %(count)s characters long. Shorten it to %(limit)s "
                    "characters or fewer.",
                    count=format_number(len(field.data)),
                    limit=format_number(limit),
                )
            )

    return check


class TipForm(FlaskForm):  # type: ignore[misc]
    """A tip: a topic, the message, optional details and up to five files."""

    topic = RadioField(
        _l("What is your information about?"),
        choices=[
            SelectChoice(TipTopic.PERSON.value, _l("A specific person")),
            SelectChoice(TipTopic.SIGHTING.value, _l("A sighting")),
            SelectChoice(TipTopic.DOCUMENT.value, _l("A document or recording")),
            SelectChoice(TipTopic.OTHER.value, _l("Something else")),
        ],
        # Our own check below gives a translated message for a missing or forged value.
        validate_choice=False,
    )
    message = TextBox(
        _l("Your information"),
        filters=[normalize_newlines],
        validators=[no_nul, max_chars(MAX_MESSAGE_CHARS)],
    )
    when_where = TextBox(
        _l("When and where (optional)"),
        filters=[normalize_newlines],
        validators=[no_nul, max_chars(MAX_DETAIL_CHARS)],
    )
    how_known = TextBox(
        _l("How do you know this? (optional)"),
        filters=[normalize_newlines],
        validators=[no_nul, max_chars(MAX_DETAIL_CHARS)],
    )
    contact = TextBox(
        _l("How to reach you, if you want us to (optional)"),
        filters=[normalize_newlines],
        validators=[no_nul, max_chars(MAX_CONTACT_CHARS)],
    )
    attachments = MultipleFileField(_l("Files (optional)"))
    # Drawn when the form is shown: the same form posted twice is one tip with one receipt.
    nonce = HiddenField()
    # Honeypot: hidden from people; a bot that fills it gets the form back, unsent.
    homepage = StringField(_l("Leave this field empty"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clean_attachments: list[PlainAttachment] = []

    def validate_topic(self, field: Field) -> None:
        """Require one of the listed topics."""
        if field.data not in {topic.value for topic in TipTopic}:
            raise StopValidation(_l("Choose what your information is about."))

    def validate_message(self, field: Field) -> None:
        """Require some visible text in the message (zero-width characters alone are none)."""
        if not has_visible_text(field.data or ""):
            raise StopValidation(_l("Write your information in the box."))

    def validate_attachments(self, field: Field) -> None:
        """Check the files and keep cleaned copies (still in memory) for sealing."""
        uploads = received_uploads(field.data)
        for number, upload in enumerate(uploads, start=1):
            if not upload.data and not upload.oversize:
                raise ValidationError(str(EMPTY_FILE_MESSAGE) % {"number": number})
        try:
            self.clean_attachments = check_uploads(uploads)
        except UploadError as error:
            message = str(UPLOAD_MESSAGES[error.problem]) % {"number": error.position}
            raise ValidationError(message) from None

    def validate(self, extra_validators: Any = None) -> bool:
        """Validate the fields; a filled honeypot fails the form without saying why."""
        valid = bool(super().validate(extra_validators))
        if self.homepage.data:
            self.homepage.data = ""
            self.homepage.errors = []
            self.form_errors.append(
                _l("Your information was not sent. Check it and send it again.")
            )
            return False
        return valid

    def to_new_tip(self, language: str) -> NewTip:
        """Turn the validated form into a tip ready to seal."""
        return NewTip(
            language=language,
            topic=TipTopic(self.topic.data),
            fields={name: getattr(self, name).data or "" for name in TEXT_FIELDS},
            attachments=self.clean_attachments,
        )


def received_uploads(files: list[Any] | None) -> list[Upload]:
    """Read the chosen files from their in-memory buffers."""
    uploads = []
    for item in files or []:
        if not isinstance(item, FileStorage):
            continue
        stream = item.stream
        if isinstance(stream, CappedBuffer):
            data, oversize = stream.getvalue(), stream.oversize
        else:
            data, oversize = stream.read(), False
        if not item.filename and not data:
            continue  # a file input left empty sends one nameless, empty part
        uploads.append(Upload(declared_type=item.mimetype, data=data, oversize=oversize))
    return uploads
