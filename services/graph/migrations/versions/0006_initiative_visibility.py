"""initiative visibility

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 14:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("initiative") as batch:
        batch.add_column(sa.Column("visibility", sa.String(length=12), nullable=False, server_default="public"))


def downgrade() -> None:
    with op.batch_alter_table("initiative") as batch:
        batch.drop_column("visibility")
