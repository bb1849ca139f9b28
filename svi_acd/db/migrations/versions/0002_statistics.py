"""Statistics: call outcomes, hourly rollups, import checkpoints, ITSM tickets, history.

Revision ID: 0002_statistics
Revises: 0001_vip_directory
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_statistics"
down_revision = "0001_vip_directory"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stats_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("callid", sa.String(length=64), nullable=False),
        sa.Column("first_epoch", sa.BigInteger(), nullable=False),
        sa.Column("last_epoch", sa.BigInteger(), nullable=False),
        sa.Column("hour_start", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("flags", sa.Integer(), nullable=False),
        sa.Column("queued", sa.Boolean(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=12), nullable=True),
        sa.Column("queue", sa.String(length=80), nullable=True),
        sa.Column("agent", sa.String(length=80), nullable=True),
        sa.Column("wait_s", sa.Integer(), nullable=True),
        sa.Column("talk_s", sa.Integer(), nullable=False),
        sa.Column("ring_no_answer", sa.Integer(), nullable=False),
        sa.Column("transferred", sa.Boolean(), nullable=False),
        sa.Column("caller", sa.String(length=40), nullable=True),
        sa.Column("territory", sa.String(length=4), nullable=True),
        sa.Column("priority", sa.String(length=3), nullable=True),
        sa.Column("branch", sa.String(length=64), nullable=True),
        sa.Column("ticket", sa.String(length=64), nullable=True),
        sa.Column("parent_ticket", sa.String(length=64), nullable=True),
        sa.Column("overflow_rule", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stats_calls")),
        sa.UniqueConstraint("callid", name=op.f("uq_stats_calls_callid")),
    )
    op.create_index("ix_stats_calls_hour_start", "stats_calls", ["hour_start"], unique=False)
    op.create_index(
        "ix_stats_calls_outcome_hour_start", "stats_calls", ["outcome", "hour_start"], unique=False
    )
    op.create_index("ix_stats_calls_ticket", "stats_calls", ["ticket"], unique=False)
    op.create_table(
        "stats_hourly",
        sa.Column("hour_start", sa.BigInteger(), nullable=False),
        sa.Column("dimension", sa.String(length=10), nullable=False),
        sa.Column("value", sa.String(length=80), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("week", sa.String(length=8), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("closed", sa.Integer(), nullable=False),
        sa.Column("territory_closed", sa.Integer(), nullable=False),
        sa.Column("deterred", sa.Integer(), nullable=False),
        sa.Column("callback", sa.Integer(), nullable=False),
        sa.Column("overflow", sa.Integer(), nullable=False),
        sa.Column("queued", sa.Integer(), nullable=False),
        sa.Column("other", sa.Integer(), nullable=False),
        sa.Column("queue_calls", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("abandoned", sa.Integer(), nullable=False),
        sa.Column("short_abandoned", sa.Integer(), nullable=False),
        sa.Column("timeout", sa.Integer(), nullable=False),
        sa.Column("exit_empty", sa.Integer(), nullable=False),
        sa.Column("exit_key", sa.Integer(), nullable=False),
        sa.Column("in_queue", sa.Integer(), nullable=False),
        sa.Column("answered_in_sl", sa.Integer(), nullable=False),
        sa.Column("wait_answered_s", sa.BigInteger(), nullable=False),
        sa.Column("talk_s", sa.BigInteger(), nullable=False),
        sa.Column("max_wait_s", sa.Integer(), nullable=False),
        sa.Column("transferred", sa.Integer(), nullable=False),
        sa.Column("vip", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("hour_start", "dimension", "value", name=op.f("pk_stats_hourly")),
    )
    op.create_index(
        "ix_stats_hourly_dimension_hour_start",
        "stats_hourly",
        ["dimension", "hour_start"],
        unique=False,
    )
    op.create_table(
        "stats_missed_rings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("callid", sa.String(length=64), nullable=False),
        sa.Column("agent", sa.String(length=80), nullable=False),
        sa.Column("queue", sa.String(length=80), nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("hour_start", sa.BigInteger(), nullable=False),
        sa.Column("ring_ms", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stats_missed_rings")),
    )
    op.create_index(
        "ix_stats_missed_rings_hour_start", "stats_missed_rings", ["hour_start"], unique=False
    )
    op.create_table(
        "stats_monthly_history",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("presented", sa.Integer(), nullable=True),
        sa.Column("served", sa.Integer(), nullable=True),
        sa.Column("tickets_opened", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_stats_monthly_history")),
    )
    op.create_table(
        "stats_rollup_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("short_abandon_s", sa.Integer(), nullable=False),
        sa.Column("service_level_s", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stats_rollup_settings")),
    )
    op.create_table(
        "stats_sources",
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("path", sa.String(length=500), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("lines", sa.BigInteger(), nullable=False),
        sa.Column("malformed", sa.Integer(), nullable=False),
        sa.Column("first_epoch", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("fingerprint", name=op.f("pk_stats_sources")),
    )
    op.create_table(
        "stats_tickets",
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("parent", sa.String(length=64), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.PrimaryKeyConstraint("number", name=op.f("pk_stats_tickets")),
    )
    op.create_index("ix_stats_tickets_month", "stats_tickets", ["month"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_stats_tickets_month", table_name="stats_tickets")
    op.drop_table("stats_tickets")
    op.drop_table("stats_sources")
    op.drop_table("stats_rollup_settings")
    op.drop_table("stats_monthly_history")
    op.drop_index("ix_stats_missed_rings_hour_start", table_name="stats_missed_rings")
    op.drop_table("stats_missed_rings")
    op.drop_index("ix_stats_hourly_dimension_hour_start", table_name="stats_hourly")
    op.drop_table("stats_hourly")
    op.drop_index("ix_stats_calls_ticket", table_name="stats_calls")
    op.drop_index("ix_stats_calls_outcome_hour_start", table_name="stats_calls")
    op.drop_index("ix_stats_calls_hour_start", table_name="stats_calls")
    op.drop_table("stats_calls")
