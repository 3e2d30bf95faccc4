"""initiatives

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 13:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shared.database

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "initiative",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("organisation_id", sa.BigInteger(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("description_html", sa.Text(), nullable=False),
        sa.Column("area", sa.String(length=30), nullable=False),
        sa.Column("techniques", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("societal_benefit", sa.String(length=2000), nullable=False),
        sa.Column("funder", sa.String(length=150), nullable=True),
        sa.Column("programme", sa.String(length=150), nullable=True),
        sa.Column("contact_member_id", sa.BigInteger(), nullable=True),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("seeking_partners", sa.Boolean(), nullable=False),
        sa.Column("open_to_reuse", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        sa.Column("created_at", shared.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", shared.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status_changed_at", shared.database.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", shared.database.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("initiative", schema=None) as batch_op:
        batch_op.create_index("ix_initiative_area_status", ["area", "status"], unique=False)
        batch_op.create_index("ix_initiative_organisation_id_id", ["organisation_id", "id"], unique=False)

    op.create_table(
        "initiative_place",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("initiative_id", sa.BigInteger(), nullable=False),
        sa.Column("municipality_code", sa.String(length=4), nullable=True),
        sa.Column("county_code", sa.String(length=2), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("initiative_id", "county_code", "municipality_code"),
    )
    with op.batch_alter_table("initiative_place", schema=None) as batch_op:
        batch_op.create_index("ix_initiative_place_county_code", ["county_code", "initiative_id"], unique=False)
        batch_op.create_index(
            "ix_initiative_place_municipality_code", ["municipality_code", "initiative_id"], unique=False
        )

    op.create_table(
        "initiative_partner",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("initiative_id", sa.BigInteger(), nullable=False),
        sa.Column("organisation_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("initiative_id", "organisation_id"),
    )
    with op.batch_alter_table("initiative_partner", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_initiative_partner_organisation_id"), ["organisation_id"], unique=False)

    op.create_table(
        "initiative_reuse",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("initiative_id", sa.BigInteger(), nullable=False),
        sa.Column("reuses_initiative_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("initiative_id", "reuses_initiative_id"),
    )
    with op.batch_alter_table("initiative_reuse", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_initiative_reuse_reuses_initiative_id"), ["reuses_initiative_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("initiative_reuse", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_initiative_reuse_reuses_initiative_id"))
    op.drop_table("initiative_reuse")

    with op.batch_alter_table("initiative_partner", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_initiative_partner_organisation_id"))
    op.drop_table("initiative_partner")

    with op.batch_alter_table("initiative_place", schema=None) as batch_op:
        batch_op.drop_index("ix_initiative_place_municipality_code")
        batch_op.drop_index("ix_initiative_place_county_code")
    op.drop_table("initiative_place")

    with op.batch_alter_table("initiative", schema=None) as batch_op:
        batch_op.drop_index("ix_initiative_organisation_id_id")
        batch_op.drop_index("ix_initiative_area_status")
    op.drop_table("initiative")
