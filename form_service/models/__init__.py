"""Every table of the tip service, in one package, so the metadata is always complete.

Importing `form_service.models` loads every module below: Alembic, the apps and the tests
then all see the same schema, whichever model they use first.
"""

from form_service.models.audit import AuditAnchor, AuditEntry
from form_service.models.base import Base
from form_service.models.desk import TipChange, TipChangeKind, TipLabel, TipNote, TipTriage
from form_service.models.messages import (
    MessageAttachment,
    MessageDirection,
    ReplyTemplate,
    TipMessage,
    TipReplyKey,
)
from form_service.models.notify import NotifyState
from form_service.models.staff import (
    RecoveryCode,
    SessionStage,
    Staff,
    StaffRole,
    StaffSession,
)
from form_service.models.tips import Attachment, Tip, TipStatus, TipTopic, new_tip_id

__all__ = [
    "Attachment",
    "AuditAnchor",
    "AuditEntry",
    "Base",
    "MessageAttachment",
    "MessageDirection",
    "NotifyState",
    "RecoveryCode",
    "ReplyTemplate",
    "SessionStage",
    "Staff",
    "StaffRole",
    "StaffSession",
    "Tip",
    "TipChange",
    "TipChangeKind",
    "TipLabel",
    "TipMessage",
    "TipNote",
    "TipReplyKey",
    "TipStatus",
    "TipTopic",
    "TipTriage",
    "new_tip_id",
]
