"""member erasure

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 10:12:40.118204
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.database

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("erased_at", shared.database.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.drop_column("erased_at")
