"""moderation initial schema: cases, reports, decisions, the append-only audit log, outbox, failed jobs

Revision ID: m0001
Revises:
Create Date: 2026-11-27 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.database

revision: str = "m0001"
down_revision: str | None = None
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

APPEND_ONLY = "the audit log is append-only: its entries cannot be changed or deleted"


def _when(name: str, nullable: bool) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, shared.database.UTCDateTime(timezone=True), nullable=nullable)


def _big(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.BigInteger(), nullable=nullable)


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
        "moderation_case",
        _big("id", False),
        sa.Column("target_type", sa.String(length=12), nullable=False),
        _big("target_id", False),
        sa.Column("open_key", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        _big("hub_id"),
        _big("subject_member_id"),
        _big("subject_organisation_id"),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("content_state", sa.String(length=10), nullable=False),
        sa.Column("report_count", sa.Integer(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        _when("opened_at", False),
        _when("last_reported_at", False),
        _big("claimed_by"),
        _when("claimed_at", True),
        _when("resolved_at", True),
        sa.Column("auto_hidden", sa.Boolean(), nullable=False),
        sa.Column("appeal_statement", sa.String(length=2000), nullable=True),
        _when("appealed_at", True),
        _when("appeal_decided_at", True),
        _big("excluded_moderator_id"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("open_key"),
    )
    op.create_index("ix_case_status_id", "moderation_case", ["status", "id"])
    op.create_index("ix_case_hub_status", "moderation_case", ["hub_id", "status", "id"])
    op.create_index("ix_case_subject", "moderation_case", ["subject_member_id", "id"])

    op.create_table(
        "report",
        _big("id", False),
        _big("case_id", False),
        _big("reporter_id", False),
        sa.Column("open_key", sa.String(length=40), nullable=True),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=False),
        _when("created_at", False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("reporter_id", "open_key"),
    )
    op.create_index("ix_report_case", "report", ["case_id", "id"])
    op.create_index("ix_report_reporter_time", "report", ["reporter_id", "created_at"])

    op.create_table(
        "decision",
        _big("id", False),
        _big("case_id"),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        _big("moderator_id"),
        sa.Column("target_type", sa.String(length=12), nullable=False),
        _big("target_id", False),
        _big("subject_member_id"),
        _big("hub_id"),
        _when("suspended_until", True),
        _when("created_at", False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_decision_case", "decision", ["case_id", "id"])
    op.create_index("ix_decision_subject", "decision", ["subject_member_id", "id"])
    op.create_index("ix_decision_created", "decision", ["created_at"])

    op.create_table(
        "audit_entry",
        _big("id", False),
        _big("actor_id"),
        sa.Column("actor_label", sa.String(length=60), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target_type", sa.String(length=12), nullable=False),
        sa.Column("target_id", sa.String(length=40), nullable=False),
        _big("case_id"),
        _big("hub_id"),
        sa.Column("reason", sa.String(length=2000), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("after", sa.JSON(), nullable=False),
        _when("created_at", False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_actor", "audit_entry", ["actor_id", "id"])
    op.create_index("ix_audit_case", "audit_entry", ["case_id", "id"])
    op.create_index("ix_audit_action", "audit_entry", ["action", "id"])
    op.create_index("ix_audit_hub", "audit_entry", ["hub_id", "id"])
    _guard_audit_log()


def _guard_audit_log() -> None:
    """The database itself refuses to change or delete audit entries, whoever asks."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_entry_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_entry_no_change BEFORE UPDATE OR DELETE ON audit_entry "
            "FOR EACH ROW EXECUTE FUNCTION audit_entry_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_entry_no_truncate BEFORE TRUNCATE ON audit_entry "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_append_only()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_entry_no_{event.lower()} BEFORE {event} ON audit_entry "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
            )


def downgrade() -> None:
    for table in ("audit_entry", "decision", "report", "moderation_case", "failed_job", "outbox"):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_entry_append_only()")
