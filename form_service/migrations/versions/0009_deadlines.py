"""Keep the days a tip's acknowledgement and feedback deadlines were met.

Tips already worked are counted as acknowledged on the day of their first reply or status
change (or the day received, when neither was recorded), and as given feedback on the day
they were closed or of a later reply, so an upgrade does not flag old work as overdue.

Revision ID: 0009_deadlines
Revises: 0008_follow_up
"""

from collections.abc import Sequence
from datetime import date, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0009_deadlines"
down_revision: str | None = "0008_follow_up"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

tips = sa.table(
    "tips", sa.column("tip_id", sa.Integer), sa.column("status"), sa.column("received_on", sa.Date)
)
triage = sa.table(
    "tip_triage",
    sa.column("tip_id", sa.Integer),
    sa.column("closed_on", sa.Date),
    sa.column("acknowledged_on", sa.Date),
    sa.column("fed_back_on", sa.Date),
)
messages = sa.table(
    "tip_messages",
    sa.column("tip_id", sa.Integer),
    sa.column("direction"),
    sa.column("sent_on", sa.Date),
    sa.column("sequence", sa.Integer),
)
changes = sa.table(
    "tip_changes",
    sa.column("tip_id", sa.Integer),
    sa.column("kind"),
    sa.column("changed_at", sa.DateTime(timezone=True)),
)


def _day(value: date | datetime | str | None) -> date | None:
    """Return the day of a stored date or moment (SQLite may hand back text)."""
    if value is None:
        return None
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    return value.date() if isinstance(value, datetime) else value


def upgrade() -> None:
    """Add the two day columns and fill them for tips already worked."""
    with op.batch_alter_table("tip_triage") as batch:
        batch.add_column(sa.Column("acknowledged_on", sa.Date(), nullable=True))
        batch.add_column(sa.Column("fed_back_on", sa.Date(), nullable=True))
        batch.create_index(op.f("ix_tip_triage_fed_back_on"), ["fed_back_on"])
    connection = op.get_bind()
    first_change = dict(
        connection.execute(
            sa.select(changes.c.tip_id, sa.func.min(changes.c.changed_at))
            .where(changes.c.kind == "status")
            .group_by(changes.c.tip_id)
        ).all()
    )
    replied: dict[int, list[date]] = {}
    for tip_id, sent_on in connection.execute(
        sa.select(messages.c.tip_id, messages.c.sent_on)
        .where(messages.c.direction == "to_tipster")
        .order_by(messages.c.tip_id, messages.c.sequence)
    ):
        replied.setdefault(tip_id, []).append(_day(sent_on) or date.min)
    closed = dict(connection.execute(sa.select(triage.c.tip_id, triage.c.closed_on)).all())
    worked = connection.execute(
        sa.select(tips.c.tip_id, tips.c.status, tips.c.received_on).where(
            sa.or_(tips.c.status != "new", tips.c.tip_id.in_(list(replied) or [-1]))
        )
    )
    for tip_id, status, received_on in worked.all():
        days = replied.get(tip_id, [])
        known = [day for day in (_day(first_change.get(tip_id)), *days[:1]) if day]
        acknowledged = min(known) if known else _day(received_on)
        later = days[1:] if days and days[0] == acknowledged else days
        fed_back = (_day(closed.get(tip_id)) or acknowledged) if status == "closed" else None
        fed_back = fed_back or (later[0] if later else None)
        values = {"acknowledged_on": acknowledged, "fed_back_on": fed_back}
        if tip_id in closed:
            connection.execute(triage.update().where(triage.c.tip_id == tip_id).values(**values))
        else:
            connection.execute(triage.insert().values(tip_id=tip_id, **values))


def downgrade() -> None:
    """Drop the two day columns."""
    with op.batch_alter_table("tip_triage") as batch:
        batch.drop_index(op.f("ix_tip_triage_fed_back_on"))
        batch.drop_column("fed_back_on")
        batch.drop_column("acknowledged_on")
