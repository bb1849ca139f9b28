"""Agents' pauses (reason, start, end, duration) from the queue_log, for statistics.

Revision ID: 0005_agent_pauses
Revises: 0004_accounts
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_agent_pauses"
down_revision = "0004_accounts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stats_agent_pauses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent", sa.String(length=80), nullable=False),
        sa.Column("queue", sa.String(length=80), nullable=False),
        sa.Column("reason", sa.String(length=80), nullable=False),
        sa.Column("start_epoch", sa.BigInteger(), nullable=False),
        sa.Column("end_epoch", sa.BigInteger(), nullable=True),
        sa.Column("duration_s", sa.Integer(), nullable=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stats_agent_pauses")),
    )
    op.create_index(
        "ix_stats_agent_pauses_start_epoch", "stats_agent_pauses", ["start_epoch"], unique=False
    )
    op.create_index(
        "ix_stats_agent_pauses_end_epoch", "stats_agent_pauses", ["end_epoch"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_stats_agent_pauses_end_epoch", table_name="stats_agent_pauses")
    op.drop_index("ix_stats_agent_pauses_start_epoch", table_name="stats_agent_pauses")
    op.drop_table("stats_agent_pauses")
