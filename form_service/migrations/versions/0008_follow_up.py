"""Add the conversation on a tip: reply keys, follow-ups and replies, reply templates.

A tip's reply key is the public half of a key pair derived from its receipt code; the
messages keep the day only and their text sealed (to the desk, and replies to the tipster).

Revision ID: 0008_follow_up
Revises: 0007_notify_state
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_follow_up"
down_revision: str | None = "0007_notify_state"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the reply key, message, message attachment and reply template tables."""
    op.create_table(
        "tip_reply_keys",
        sa.Column("tip_id", sa.Integer(), nullable=False),
        sa.Column("salt", sa.LargeBinary(length=16), nullable=False),
        sa.Column("public_key", sa.LargeBinary(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["tip_id"],
            ["tips.tip_id"],
            name=op.f("fk_tip_reply_keys_tip_id_tips"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("tip_id", name=op.f("pk_tip_reply_keys")),
    )
    op.create_table(
        "tip_messages",
        sa.Column("message_id", sa.String(length=32), nullable=False),
        sa.Column("tip_id", sa.Integer(), nullable=False),
        sa.Column(
            "direction",
            sa.Enum(
                "to_desk",
                "to_tipster",
                name="direction",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("sent_on", sa.Date(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("sealed_key", sa.LargeBinary(), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("tipster_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("seen_by_desk", sa.Boolean(), nullable=False),
        sa.Column("deleted_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["staff.staff_id"],
            name=op.f("fk_tip_messages_author_id_staff"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["tip_id"],
            ["tips.tip_id"],
            name=op.f("fk_tip_messages_tip_id_tips"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_tip_messages")),
    )
    op.create_index("ix_tip_messages_tip", "tip_messages", ["tip_id", "sequence"])
    op.create_index(
        "ix_tip_messages_unread", "tip_messages", ["seen_by_desk", "direction", "tip_id"]
    )
    op.create_table(
        "tip_message_attachments",
        sa.Column("attachment_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("message_id", sa.String(length=32), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["tip_messages.message_id"],
            name=op.f("fk_tip_message_attachments_message_id_tip_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("attachment_id", name=op.f("pk_tip_message_attachments")),
    )
    op.create_index(
        op.f("ix_tip_message_attachments_message_id"),
        "tip_message_attachments",
        ["message_id"],
    )
    op.create_table(
        "reply_templates",
        sa.Column("template_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("template_id", name=op.f("pk_reply_templates")),
    )
    op.create_index("ix_reply_templates_language", "reply_templates", ["language", "title"])


def downgrade() -> None:
    """Drop the conversation's tables."""
    op.drop_index("ix_reply_templates_language", table_name="reply_templates")
    op.drop_table("reply_templates")
    op.drop_index(
        op.f("ix_tip_message_attachments_message_id"), table_name="tip_message_attachments"
    )
    op.drop_table("tip_message_attachments")
    op.drop_index("ix_tip_messages_unread", table_name="tip_messages")
    op.drop_index("ix_tip_messages_tip", table_name="tip_messages")
    op.drop_table("tip_messages")
    op.drop_table("tip_reply_keys")
