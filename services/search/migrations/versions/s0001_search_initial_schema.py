"""search initial schema: outbox, failed jobs, reindex runs and their pending changes

Revision ID: s0001
Revises:
Create Date: 2026-11-27 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.database

revision: str = "s0001"
down_revision: str | None = None
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def _when(name: str, nullable: bool) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, shared.database.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        _when("created_at", False),
        _when("dispatched_at", True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_dispatched_at"), ["dispatched_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_topic"), ["topic"], unique=False)

    op.create_table(
        "failed_job",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("job", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("arg", sa.JSON(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=2000), nullable=False),
        _when("failed_at", False),
        _when("next_attempt_at", True),
        _when("dead_at", True),
        sa.Column("replays", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("failed_job", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_failed_job_dead_at"), ["dead_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_failed_job_job"), ["job"], unique=False)
        batch_op.create_index(batch_op.f("ix_failed_job_next_attempt_at"), ["next_attempt_at"], unique=False)

    op.create_table(
        "reindex_run",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("generation", sa.String(length=60), nullable=False),
        sa.Column("documents", sa.Integer(), nullable=False),
        _when("started_at", False),
        _when("heartbeat_at", False),
        _when("finished_at", True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("reindex_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reindex_run_state"), ["state"], unique=False)

    op.create_table(
        "pending_change",
        sa.Column("reindex_id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("reindex_id", "key"),
    )


def downgrade() -> None:
    op.drop_table("pending_change")
    op.drop_table("reindex_run")
    op.drop_table("failed_job")
    op.drop_table("outbox")
