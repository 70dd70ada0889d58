"""Recover the text fields of a body too large to parse, so a tipster never loses them.

The form puts every text field before the file input, and browsers send parts in
document order, so the text sits in the first part of even a huge upload.
"""

from __future__ import annotations

from typing import IO

from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.http import parse_options_header
from werkzeug.sansio.multipart import Data, Epilogue, Field, File, MultipartDecoder, NeedData

from form_service.intake.request import MAX_FIELD_BYTES, TEXT_BUDGET_BYTES

CHUNK_BYTES = 64 * 1024
# How much of an oversized body we read and throw away so the browser, still sending,
# gets to see our answer instead of a reset connection.
DRAIN_LIMIT_BYTES = 128 * 1024 * 1024


def salvage_text_fields(
    stream: IO[bytes], content_type: str | None, content_length: int | None
) -> MultiDict[str, str]:
    """Read the text fields at the start of a multipart body; files are never kept."""
    fields: MultiDict[str, str] = MultiDict()
    mimetype, options = parse_options_header(content_type or "")
    boundary = options.get("boundary", "").encode("latin-1")
    if mimetype != "multipart/form-data" or not boundary:
        return fields
    budget = min(content_length or 0, TEXT_BUDGET_BYTES)
    decoder = MultipartDecoder(boundary, max_form_memory_size=MAX_FIELD_BYTES)
    name, read = "", 0
    chunks: list[bytes] = []
    try:
        while read < budget:
            data = stream.read(min(CHUNK_BYTES, budget - read))
            if not data:
                break
            read += len(data)
            decoder.receive_data(data)
            event = decoder.next_event()
            while not isinstance(event, NeedData | Epilogue):
                if isinstance(event, File):
                    return fields
                if isinstance(event, Field):
                    name, chunks = event.name, []
                elif isinstance(event, Data):
                    chunks.append(event.data)
                    if not event.more_data:
                        fields.add(name, b"".join(chunks).decode("utf-8", "replace"))
                event = decoder.next_event()
    except (ValueError, RequestEntityTooLarge):
        pass  # a malformed or cut body: keep what was recovered so far
    finally:
        drain(stream, max(0, (content_length or 0) - read))
    return fields


def drain(stream: IO[bytes], remaining: int) -> None:
    """Read and discard what is left of a body, up to a limit."""
    remaining = min(remaining, DRAIN_LIMIT_BYTES)
    while remaining > 0:
        data = stream.read(min(CHUNK_BYTES, remaining))
        if not data:
            return
        remaining -= len(data)
