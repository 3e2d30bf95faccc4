"""login throttle and ban

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-09 09:20:11.402311
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.database

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_failure",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("email_key", sa.String(length=64), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("created_at", shared.database.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("login_failure", schema=None) as batch_op:
        batch_op.create_index("ix_login_failure_created_at", ["created_at"], unique=False)
        batch_op.create_index("ix_login_failure_email_key_created_at", ["email_key", "created_at"], unique=False)
        batch_op.create_index("ix_login_failure_ip_created_at", ["ip", "created_at"], unique=False)

    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("banned_at", shared.database.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_column("banned_at")

    with op.batch_alter_table("login_failure", schema=None) as batch_op:
        batch_op.drop_index("ix_login_failure_ip_created_at")
        batch_op.drop_index("ix_login_failure_email_key_created_at")
        batch_op.drop_index("ix_login_failure_created_at")

    op.drop_table("login_failure")
