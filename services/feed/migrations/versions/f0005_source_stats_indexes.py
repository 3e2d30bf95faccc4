"""source stats: indexes for reading a member's widely followed sources

Every home-feed read asks which of the member's follows are too widely followed to fan
out (followers above the threshold) or were once left to be merged in on read
(unfanned_through set). Without these indexes that question scanned all of source_stats.

Revision ID: f0005
Revises: f0004
Create Date: 2026-11-27 18:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f0005"
down_revision: str | None = "f0004"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

UNFANNED = sa.text("unfanned_through IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("source_stats", schema=None) as batch_op:
        batch_op.create_index("ix_source_stats_followers", ["followers"], unique=False)
        batch_op.create_index(
            "ix_source_stats_unfanned",
            ["unfanned_through"],
            unique=False,
            postgresql_where=UNFANNED,
            sqlite_where=UNFANNED,
        )


def downgrade() -> None:
    with op.batch_alter_table("source_stats", schema=None) as batch_op:
        batch_op.drop_index("ix_source_stats_unfanned")
        batch_op.drop_index("ix_source_stats_followers")
