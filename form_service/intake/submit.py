"""Store a new tip: seal it to the desk, hash its receipt code, keep only the day.

It also stores the tip's reply key (form_service.replykeys): the public half only.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

from nacl.public import PublicKey
from sqlalchemy import Engine, exc, insert

from form_service.clock import SYSTEM_CLOCK, Clock
from form_service.crypto import PlainAttachment, new_receipt_code, receipt_hash, seal_tip
from form_service.db import WriteLockTimeout
from form_service.models import Attachment, Tip, TipReplyKey, TipStatus, TipTopic
from form_service.replykeys import new_reply_key


class DatabaseUnavailable(RuntimeError):
    """The database could not take the tip; the tipster should try again later."""


@dataclass(frozen=True)
class NewTip:
    """What a tipster sent, checked and cleaned, still in memory only."""

    language: str
    topic: TipTopic
    fields: Mapping[str, str]
    attachments: Sequence[PlainAttachment] = ()


def store_tip(
    engine: Engine,
    public_key: PublicKey,
    pepper: str,
    new_tip: NewTip,
    write_lock: Callable[[], AbstractContextManager[None]] = nullcontext,
    clock: Clock = SYSTEM_CLOCK,
) -> str:
    """Seal and store a tip in one transaction; return its receipt code (never stored)."""
    code = new_receipt_code()
    sealed = seal_tip(public_key, new_tip.fields, new_tip.attachments)
    # Only the public half is stored: the desk seals replies to it, the code opens them.
    reply_key = new_reply_key(code)
    row = {
        "received_on": clock.today(),
        "language": new_tip.language,
        "topic": new_tip.topic,
        "status": TipStatus.NEW,
        "sealed_key": sealed.sealed_key,
        "ciphertext": sealed.ciphertext,
        "receipt_hash": receipt_hash(pepper, code),
    }
    try:
        # Core statements: a third of the ORM's cost on the one hot write path.
        with write_lock(), engine.begin() as connection:
            tip_id = connection.execute(INSERT_TIP, row).scalar_one()
            connection.execute(
                INSERT_REPLY_KEY,
                {"tip_id": tip_id, "salt": reply_key.salt, "public_key": reply_key.public_key},
            )
            if sealed.attachments:
                connection.execute(
                    INSERT_ATTACHMENT,
                    [{"tip_id": tip_id, "ciphertext": item} for item in sealed.attachments],
                )
    except (
        exc.OperationalError,
        exc.InterfaceError,
        exc.TimeoutError,
        WriteLockTimeout,
        # The SQLite write lock's file on a full or read-only file system: the same outage.
        OSError,
    ) as error:
        raise DatabaseUnavailable(type(error).__name__) from error
    return code


TIPS = Tip.metadata.tables["tips"]
INSERT_TIP = insert(TIPS).returning(TIPS.c.tip_id)
INSERT_ATTACHMENT = insert(Attachment.metadata.tables["attachments"])
INSERT_REPLY_KEY = insert(TipReplyKey.metadata.tables["tip_reply_keys"])
