"""Read a posted form strictly, and say what was wrong with a body we could not read whole.

Werkzeug's own parser is lenient in ways that hurt a tipster: it replaces bytes that are not
UTF-8 (the stored tip would differ from what they typed), answers too many parts with the
413 of an oversized upload, and drops the whole form silently when the body is cut short,
has no boundary or carries a header that is not UTF-8 (the tipster then sees a CSRF error
and an empty form). This parser raises MalformedForm instead, carrying every text field it
could read, so the form comes back with a message that says what happened and the text.
"""

from __future__ import annotations

import io
from enum import StrEnum
from typing import IO, Any
from urllib.parse import parse_qsl

from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.exceptions import BadRequest, ClientDisconnected, RequestEntityTooLarge
from werkzeug.formparser import FormDataParser, MultiPartParser
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

CHUNK_BYTES = 64 * 1024


class BodyProblem(StrEnum):
    """Why a posted body could not be read whole (each has its own notice on the form)."""

    TOO_MANY_PARTS = "too_many_parts"
    UNREADABLE_TEXT = "unreadable_text"  # a text field that is not UTF-8
    UNREADABLE_NAME = "unreadable_name"  # a part header (a file name) that is not UTF-8
    INCOMPLETE = "incomplete"  # cut short, no boundary, broken framing


class MalformedForm(BadRequest):
    """A form body read only in part; it carries the text fields that could be read."""

    def __init__(self, problem: BodyProblem, fields: list[tuple[str, str]]) -> None:
        super().__init__(f"malformed form body: {problem}")
        self.problem = problem
        self.fields = fields


class StrictMultiPartParser(MultiPartParser):
    """Werkzeug's multipart parser, but strict about UTF-8, part counts and the end."""

    def parse(
        self, stream: IO[bytes], boundary: bytes, content_length: int | None
    ) -> tuple[MultiDict[str, str], MultiDict[str, FileStorage]]:
        """Parse a multipart body; raise MalformedForm with the readable text on a fault."""
        reader = _PartReader(self, content_length)
        decoder = MultipartDecoder(boundary, max_form_memory_size=self.max_form_memory_size)
        try:
            for data in _chunks(stream, self.buffer_size):
                decoder.receive_data(data)
                event = decoder.next_event()
                while not isinstance(event, Epilogue | NeedData):
                    reader.take(event)
                    event = decoder.next_event()
        except UnicodeDecodeError:
            raise MalformedForm(BodyProblem.UNREADABLE_NAME, reader.fields) from None
        except (ValueError, ClientDisconnected):
            raise MalformedForm(BodyProblem.INCOMPLETE, reader.fields + reader.cut()) from None
        if reader.problem is not None:
            raise MalformedForm(reader.problem, reader.fields)
        return self.cls(reader.fields), self.cls(reader.files)


class _PartReader:
    """Collect the parts of one multipart body as the decoder announces them."""

    def __init__(self, parser: MultiPartParser, content_length: int | None) -> None:
        self.parser, self.content_length = parser, content_length
        self.max_parts = parser.max_form_parts
        self.fields: list[tuple[str, str]] = []
        self.files: list[tuple[str, FileStorage]] = []
        self.problem: BodyProblem | None = None
        self.count = 0
        self.part: Field | File | None = None
        self.chunks: list[bytes] = []
        self.container: IO[bytes] | None = None

    def take(self, event: Any) -> None:
        """Start a part, or add data to the current one (parts past the limit are skipped)."""
        if isinstance(event, Field | File):
            self.count += 1
            if self.max_parts is not None and self.count > self.max_parts:
                self.problem, self.part = BodyProblem.TOO_MANY_PARTS, None
                return
            self.part, self.chunks, self.container = event, [], None
            if isinstance(event, File):
                self.container = self.parser.start_file_streaming(event, self.content_length)
        elif isinstance(event, Data) and self.part is not None:
            self.add(event)

    def add(self, event: Data) -> None:
        """Add data to the current part and finish it when it is complete."""
        if self.container is not None:
            self.container.write(event.data)
        else:
            self.chunks.append(event.data)
            limit = self.parser.max_form_memory_size
            if limit is not None and sum(map(len, self.chunks)) > limit:
                raise RequestEntityTooLarge()
        if event.more_data or self.part is None:
            return
        if self.container is None:
            self.fields.append((self.part.name, self.decode(b"".join(self.chunks))))
        else:
            self.container.seek(0)
            name, filename = self.part.name, getattr(self.part, "filename", None)
            storage = FileStorage(self.container, filename, name, headers=self.part.headers)
            self.files.append((name, storage))

    def cut(self) -> list[tuple[str, str]]:
        """Return the text part the body ended in the middle of, as far as it arrived."""
        if self.part is None or self.container is not None or not self.chunks:
            return []
        return [(self.part.name, b"".join(self.chunks).decode("utf-8", "replace"))]

    def decode(self, raw: bytes) -> str:
        """Decode a text part as UTF-8; keep a readable copy and note the fault if it is not."""
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            self.problem = self.problem or BodyProblem.UNREADABLE_TEXT
            return raw.decode("utf-8", "replace")


class StrictFormDataParser(FormDataParser):
    """Parse form bodies with StrictMultiPartParser and strict url-encoded decoding."""

    def _parse_multipart(
        self, stream: IO[bytes], mimetype: str, content_length: int | None, options: Any
    ) -> Any:
        """Parse multipart; with no boundary, read the one the body opens with, then refuse."""
        parser = StrictMultiPartParser(
            stream_factory=self.stream_factory,
            max_form_memory_size=self.max_form_memory_size,
            max_form_parts=self.max_form_parts,
            cls=self.cls,
        )
        boundary = options.get("boundary", "").encode("latin-1")
        if boundary:
            form, files = parser.parse(stream, boundary, content_length)
            return stream, form, files
        body = stream.read()
        first_line = body.split(b"\r\n", 1)[0]
        fields: list[tuple[str, str]] = []
        if first_line.startswith(b"--") and len(first_line) > 2:
            try:
                form, _ = parser.parse(io.BytesIO(body), first_line[2:], len(body))
                fields = list(form.items(multi=True))
            except MalformedForm as error:
                fields = error.fields
        raise MalformedForm(BodyProblem.INCOMPLETE, fields)

    def _parse_urlencoded(
        self, stream: IO[bytes], mimetype: str, content_length: int | None, options: Any
    ) -> Any:
        """Parse a url-encoded body, refusing bytes that are not UTF-8 and too many fields."""
        raw = stream.read()
        try:
            items = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, errors="strict")
        except UnicodeDecodeError:
            text = raw.decode("utf-8", "replace")
            items = parse_qsl(text, keep_blank_values=True, errors="replace")
            raise MalformedForm(BodyProblem.UNREADABLE_TEXT, items[: self.max_form_parts]) from None
        if self.max_form_parts is not None and len(items) > self.max_form_parts:
            raise MalformedForm(BodyProblem.TOO_MANY_PARTS, items[: self.max_form_parts])
        return stream, self.cls(items), self.cls()


def _chunks(stream: IO[bytes], size: int) -> Any:
    """Yield a body in chunks, then None to tell the decoder it is complete."""
    while data := stream.read(size):
        yield data
    yield None
