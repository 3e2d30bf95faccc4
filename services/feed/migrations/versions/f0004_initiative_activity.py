"""initiative activity: public initiatives' creation and status changes as feed items

Revision ID: f0004
Revises: f0003
Create Date: 2026-12-04 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.database

revision: str = "f0004"
down_revision: str | None = "f0003"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    # "initiative" does not fit the six characters that "post" and "event" needed.
    with op.batch_alter_table("entry", schema=None) as batch_op:
        batch_op.alter_column(
            "item_type", existing_type=sa.String(length=6), type_=sa.String(length=12), existing_nullable=False
        )
    op.create_table(
        "initiative_activity",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(length=60), nullable=False),
        sa.Column("initiative_id", sa.BigInteger(), nullable=False),
        sa.Column("organisation_id", sa.BigInteger(), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=True),
        sa.Column("to_status", sa.String(length=16), nullable=True),
        sa.Column("created_at", shared.database.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    with op.batch_alter_table("initiative_activity", schema=None) as batch_op:
        batch_op.create_index("ix_initiative_activity_initiative", ["initiative_id", "id"], unique=False)
    op.create_table(
        "initiative_copy",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("organisation_id", sa.BigInteger(), nullable=False),
        sa.Column("visibility", sa.String(length=12), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )


def downgrade() -> None:
    op.drop_table("initiative_copy")
    with op.batch_alter_table("initiative_activity", schema=None) as batch_op:
        batch_op.drop_index("ix_initiative_activity_initiative")
    op.drop_table("initiative_activity")
    op.execute("DELETE FROM entry WHERE item_type = 'initiative'")
    with op.batch_alter_table("entry", schema=None) as batch_op:
        batch_op.alter_column(
            "item_type", existing_type=sa.String(length=12), type_=sa.String(length=6), existing_nullable=False
        )
