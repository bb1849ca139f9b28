"""Crisis and deterrence messages, and their append-only event journal.

Revision ID: 0003_crisis
Revises: 0002_statistics
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_crisis"
down_revision = "0002_statistics"
branch_labels = None
depends_on = None

REFUSAL = "journal des évènements : une ligne écrite ne se modifie ni ne se supprime"

SQLITE_TRIGGERS = (
    f"CREATE TRIGGER crisis_events_no_update BEFORE UPDATE ON crisis_events "
    f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END",
    f"CREATE TRIGGER crisis_events_no_delete BEFORE DELETE ON crisis_events "
    f"BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END",
)
POSTGRESQL_TRIGGERS = (
    "CREATE FUNCTION crisis_events_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    f"$$ BEGIN RAISE EXCEPTION '{REFUSAL}'; END $$",
    "CREATE TRIGGER crisis_events_no_change BEFORE UPDATE OR DELETE ON crisis_events "
    "FOR EACH ROW EXECUTE FUNCTION crisis_events_append_only()",
    "CREATE TRIGGER crisis_events_no_truncate BEFORE TRUNCATE ON crisis_events "
    "FOR EACH STATEMENT EXECUTE FUNCTION crisis_events_append_only()",
)


def upgrade() -> None:
    moment = sa.DateTime(timezone=True)
    op.create_table(
        "crisis_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("recording", sa.String(length=200), nullable=True),
        sa.Column("recording_name", sa.String(length=200), nullable=True),
        sa.Column("mode", sa.String(length=12), nullable=False),
        sa.Column("scope_kind", sa.String(length=12), nullable=False),
        sa.Column("scope_values", sa.String(length=500), nullable=False),
        sa.Column("starts_at", moment, nullable=True),
        sa.Column("ends_at", moment, nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sound", sa.String(length=200), nullable=False),
        sa.Column("duration_s", sa.Float(), nullable=False),
        sa.Column("portal_pointer", sa.Boolean(), nullable=False),
        sa.Column("incident", sa.String(length=100), nullable=True),
        sa.Column("origin", sa.String(length=12), nullable=False),
        sa.Column("created_at", moment, nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("updated_at", moment, nullable=False),
        sa.Column("updated_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crisis_messages")),
    )
    op.create_table(
        "crisis_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", moment, nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("source", sa.String(length=8), nullable=True),
        sa.Column("mode", sa.String(length=12), nullable=True),
        sa.Column("scope_kind", sa.String(length=12), nullable=True),
        sa.Column("scope_values", sa.String(length=500), nullable=True),
        sa.Column("starts_at", moment, nullable=True),
        sa.Column("ends_at", moment, nullable=True),
        sa.Column("active", sa.Boolean(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("sound", sa.String(length=200), nullable=True),
        sa.Column("incident", sa.String(length=100), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_crisis_events")),
    )
    op.create_index(op.f("ix_crisis_events_at"), "crisis_events", ["at"])
    op.create_index(op.f("ix_crisis_events_message_id"), "crisis_events", ["message_id"])
    dialect = op.get_bind().dialect.name
    for statement in POSTGRESQL_TRIGGERS if dialect == "postgresql" else SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE crisis_events")  # drops its triggers
        op.execute("DROP FUNCTION crisis_events_append_only()")
    else:
        op.drop_index(op.f("ix_crisis_events_message_id"), table_name="crisis_events")
        op.drop_index(op.f("ix_crisis_events_at"), table_name="crisis_events")
        op.drop_table("crisis_events")
    op.drop_table("crisis_messages")
