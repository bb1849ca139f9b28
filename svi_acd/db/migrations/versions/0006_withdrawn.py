"""Rollup column for callers withdrawn from a queue by an overflow rule (WITHDRAW).

Revision ID: 0006_withdrawn
Revises: 0005_agent_pauses
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_withdrawn"
down_revision = "0005_agent_pauses"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("stats_hourly") as batch:
        batch.add_column(sa.Column("withdrawn", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("stats_hourly") as batch:
        batch.drop_column("withdrawn")
