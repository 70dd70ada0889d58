"""The intake's request: uploads kept in memory, forms parsed strictly.

Werkzeug would spool files over 500 KB to a temporary file, which would put a tipster's
plaintext on disk before it is encrypted. Forms are read by formparser.StrictFormDataParser,
which says what was wrong with a body instead of dropping it (see formparser.py)."""

from __future__ import annotations

import io
from typing import IO

from flask import Request

from form_service.intake.formparser import MalformedForm, StrictFormDataParser
from form_service.uploads import MAX_FILE_BYTES, MAX_FILES, MAX_TOTAL_BYTES

# Text budget of one request: the message (20,000 characters, up to 4 bytes each in
# UTF-8), the optional fields and the multipart framing fit well within 2 MiB.
TEXT_BUDGET_BYTES = 2 * 1024 * 1024
# Largest body parsed at all; larger bodies get the friendly 413 page (text recovered).
MAX_BODY_BYTES = MAX_TOTAL_BYTES + TEXT_BUDGET_BYTES
# Largest single text field (multipart) or url-encoded body.
MAX_FIELD_BYTES = 1024 * 1024
# Our form has eleven parts (six text fields, token, honeypot, up to five files).
MAX_PARTS = 64


class CappedBuffer(io.BytesIO):
    """An in-memory file that keeps at most `cap` bytes and remembers it was cut."""

    def __init__(self, cap: int) -> None:
        super().__init__()
        self.cap = cap
        self.oversize = False

    def write(self, data: bytes | bytearray | memoryview, /) -> int:  # type: ignore[override]
        """Store data up to the cap; drop (but count as written) everything past it."""
        room = self.cap - self.tell()
        if len(data) > room:
            self.oversize = True
            super().write(bytes(data[: max(room, 0)]))
            return len(data)
        return super().write(data)


class InMemoryRequest(Request):
    """A request whose file parts never touch the disk and whose form is read strictly."""

    form_data_parser_class = StrictFormDataParser

    def _load_form_data(self) -> None:
        """Parse the form; on a malformed body keep the text that could be read, then raise."""
        try:
            super()._load_form_data()
        except MalformedForm as error:
            # Later reads of request.form (the error page) see the salvaged text, no files.
            self.__dict__["form"] = self.parameter_storage_class(error.fields)
            self.__dict__["files"] = self.parameter_storage_class()
            raise

    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        """Return an in-memory buffer capped just past the per-file limit."""
        return CappedBuffer(MAX_FILE_BYTES + 1)


__all__ = ["MAX_FILES", "CappedBuffer", "InMemoryRequest"]
