"""What the tip page shows: decrypted fields, attachment list and workflow state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from nacl.exceptions import CryptoError
from nacl.public import PrivateKey
from sqlalchemy.orm import Session

from form_service.crypto import PlainAttachment, open_attachment, open_tip
from form_service.models import Attachment, Staff, Tip, TipChange, TipNote, TipTriage
from form_service.review import workflow

# Downloads get a name we make up; the tipster's file name is shown only as inert text.
EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "application/pdf": "pdf",
    "text/plain": "txt",
    "image/webp": "webp",
    "image/gif": "gif",
}


@dataclass
class AttachmentView:
    """One attachment as listed on the tip page."""

    attachment_id: int
    name: str
    content_type: str
    size: int


@dataclass
class TipView:
    """Everything the tip page shows about one tip."""

    fields: dict[str, Any]
    attachments: list[AttachmentView]
    triage: TipTriage | None
    assignee: str | None
    labels: list[str]
    readable: bool = True
    notes: list[tuple[TipNote, str]] = field(default_factory=list)
    history: list[tuple[TipChange, str]] = field(default_factory=list)


def open_fields(private_key: PrivateKey, tip: Tip) -> dict[str, Any] | None:
    """Decrypt a tip's fields; None if it does not open into named text fields."""
    try:
        fields = open_tip(private_key, tip.sealed_key, tip.ciphertext)
    except (CryptoError, ValueError, KeyError, TypeError, AttributeError):
        # Damaged, or written by another version: one such tip must not stop a whole search.
        return None
    if not isinstance(fields, dict) or not all(isinstance(name, str) for name in fields):
        return None
    return {name: value for name, value in fields.items() if isinstance(value, str | int)}


def opener(private_key: PrivateKey) -> Callable[[Tip], dict[str, Any]]:
    """Return a function that decrypts a tip's fields with the desk key ({} if unreadable)."""

    def open_or_empty(tip: Tip) -> dict[str, Any]:
        return open_fields(private_key, tip) or {}

    return open_or_empty


def tip_view(db: Session, tip: Tip, private_key: PrivateKey) -> TipView:
    """Decrypt a tip and gather its workflow state for the tip page."""
    triage = db.get(TipTriage, tip.tip_id)
    assignee = db.get(Staff, triage.assignee_id) if triage and triage.assignee_id else None
    fields = open_fields(private_key, tip)
    return TipView(
        fields=fields or {},
        readable=fields is not None,
        attachments=[_attachment_view(private_key, tip, item) for item in tip.attachments],
        triage=triage,
        assignee=assignee.email if assignee else None,
        labels=workflow.labels_of(db, tip.tip_id),
        notes=workflow.notes_of(db, tip.tip_id, private_key),
        history=workflow.history_of(db, tip.tip_id),
    )


def _attachment_view(private_key: PrivateKey, tip: Tip, item: Attachment) -> AttachmentView:
    """Describe one attachment from its encrypted metadata."""
    plain = open_attachment(private_key, tip.sealed_key, item.ciphertext)
    return AttachmentView(item.attachment_id, plain.safe_name, plain.content_type, len(plain.data))


def download_name(tip_id: int, attachment_id: int, content_type: str) -> str:
    """Make the safe, generated file name of a download."""
    return f"tip-{tip_id}-attachment-{attachment_id}.{EXTENSIONS.get(content_type, 'bin')}"


def open_download(
    db: Session, private_key: PrivateKey, tip_id: int, attachment_id: int
) -> PlainAttachment | None:
    """Decrypt one attachment of one tip, or None if the pair does not exist."""
    tip = db.get(Tip, tip_id)
    item = db.get(Attachment, attachment_id)
    if tip is None or item is None or item.tip_id != tip.tip_id:
        return None
    return open_attachment(private_key, tip.sealed_key, item.ciphertext)
