"""Give the intake narrow functions for the batch and the check pages, on PostgreSQL.

The intake has no right on any table (privileges.py). Everything the batch (which runs with
the intake's rights) and the check pages need is one of these SECURITY DEFINER functions,
which run with the owner's rights, on a fixed search_path (so no object the caller creates
can stand in for a table), and name one tip by its receipt hash only: store a spooled tip
(always as new), look a tip up, read its public status and the tipster's copies of the
replies, store a first reply key, add a follow-up, erase a reply's tipster copy. None returns
a tip's id, the desk's ciphertext, a label, a note or who wrote a reply. EXECUTE is revoked
from PUBLIC here; `form-service db roles` grants it to the intake's role. SQLite has no roles
and runs the same statements directly (intake/submit.py, lookup.py, followup.py).

Revision ID: 0014_intake_functions
Revises: 0013_audit_anchors
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014_intake_functions"
down_revision: str | None = "0013_audit_anchors"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFINER = "SECURITY DEFINER SET search_path = public, pg_temp"
# Signature -> (what it returns, STABLE or VOLATILE, its one statement).
FUNCTIONS = {
    # True if stored; false if the id or the receipt hash is taken (intake/submit.py retries).
    "intake_store_tip(p_tip_id integer, p_received_on date, p_language text, p_topic text, "
    "p_sealed_key bytea, p_ciphertext bytea, p_hash bytea, p_salt bytea, p_public_key bytea, "
    "p_files bytea[])": (
        "boolean",
        "VOLATILE",
        "WITH tip AS ("
        "INSERT INTO public.tips (tip_id, received_on, language, topic, status, sealed_key, "
        "ciphertext, receipt_hash) VALUES (p_tip_id, p_received_on, p_language, p_topic, 'new', "
        "p_sealed_key, p_ciphertext, p_hash) ON CONFLICT DO NOTHING RETURNING tip_id), "
        "reply_key AS (INSERT INTO public.tip_reply_keys (tip_id, salt, public_key) "
        "SELECT tip.tip_id, p_salt, p_public_key FROM tip), "
        "files AS (INSERT INTO public.attachments (tip_id, ciphertext) "
        "SELECT tip.tip_id, f.file FROM tip "
        "CROSS JOIN unnest(p_files) WITH ORDINALITY AS f(file, position) ORDER BY f.position) "
        "SELECT EXISTS (SELECT 1 FROM tip)",
    ),
    "intake_find_tip(p_hash bytea)": (
        "TABLE (salt bytea)",
        "STABLE",
        "SELECT k.salt FROM public.tips t "
        "LEFT JOIN public.tip_reply_keys k ON k.tip_id = t.tip_id WHERE t.receipt_hash = p_hash",
    ),
    "intake_read_tip(p_hash bytea)": (
        "TABLE (status text, received_on date)",
        "STABLE",
        "SELECT t.status::text, t.received_on FROM public.tips t WHERE t.receipt_hash = p_hash",
    ),
    "intake_tip_messages(p_hash bytea)": (
        "TABLE (message_id text, direction text, sent_on date, sequence integer, "
        "tipster_ciphertext bytea, deleted_on date)",
        "STABLE",
        "SELECT m.message_id::text, m.direction::text, m.sent_on, m.sequence, "
        "m.tipster_ciphertext, m.deleted_on FROM public.tip_messages m "
        "JOIN public.tips t ON t.tip_id = m.tip_id WHERE t.receipt_hash = p_hash",
    ),
    "intake_store_reply_key(p_hash bytea, p_salt bytea, p_public_key bytea)": (
        "void",
        "VOLATILE",
        "INSERT INTO public.tip_reply_keys (tip_id, salt, public_key) "
        "SELECT t.tip_id, p_salt, p_public_key FROM public.tips t "
        "WHERE t.receipt_hash = p_hash ON CONFLICT DO NOTHING",
    ),
    "intake_add_follow_up(p_hash bytea, p_message_id text, p_sent_on date, "
    "p_sealed_key bytea, p_ciphertext bytea, p_files bytea[])": (
        "void",
        "VOLATILE",
        "WITH added AS ("
        "INSERT INTO public.tip_messages (message_id, tip_id, direction, sent_on, sequence, "
        "sealed_key, ciphertext, seen_by_desk) "
        "SELECT p_message_id, t.tip_id, 'to_desk', p_sent_on, "
        "(SELECT coalesce(max(m.sequence), 0) + 1 FROM public.tip_messages m "
        "WHERE m.tip_id = t.tip_id), p_sealed_key, p_ciphertext, false "
        "FROM public.tips t WHERE t.receipt_hash = p_hash "
        "ON CONFLICT DO NOTHING RETURNING message_id) "
        "INSERT INTO public.tip_message_attachments (message_id, ciphertext) "
        "SELECT a.message_id, f.file FROM added a "
        "CROSS JOIN unnest(p_files) WITH ORDINALITY AS f(file, position) ORDER BY f.position",
    ),
    "intake_delete_reply(p_hash bytea, p_message_id text, p_deleted_on date)": (
        "void",
        "VOLATILE",
        "UPDATE public.tip_messages SET tipster_ciphertext = NULL, deleted_on = p_deleted_on "
        "WHERE message_id = p_message_id AND direction = 'to_tipster' AND deleted_on IS NULL "
        "AND tip_id = (SELECT t.tip_id FROM public.tips t WHERE t.receipt_hash = p_hash)",
    ),
}


def upgrade() -> None:
    """Create the intake's functions, callable by no one until `db roles` grants them."""
    if op.get_bind().dialect.name != "postgresql":
        return
    # The first, broader look-up (a tip's internal status), created by `db roles` before.
    op.execute("DROP FUNCTION IF EXISTS intake_tip_status(bytea)")
    for signature, (returns, volatility, statement) in FUNCTIONS.items():
        op.execute(
            f"CREATE OR REPLACE FUNCTION {signature} RETURNS {returns} LANGUAGE sql "
            f"{volatility} {DEFINER} AS $$ {statement} $$"
        )
        op.execute(f"REVOKE ALL ON FUNCTION {signature} FROM PUBLIC")


def downgrade() -> None:
    """Drop the intake's functions."""
    if op.get_bind().dialect.name != "postgresql":
        return
    for signature in FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {signature}")
