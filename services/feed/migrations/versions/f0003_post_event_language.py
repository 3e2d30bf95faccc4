"""post and event language: what each is written in (sv or en), for the search stemmer

Revision ID: f0003
Revises: f0002
Create Date: 2026-12-02 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f0003"
down_revision: str | None = "f0002"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    # Existing posts and events were written in Swedish unless told otherwise: the server
    # default fills them and stays for rows written without a language.
    for table in ("post", "event"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column("language", sa.String(length=2), server_default="sv", nullable=False))


def downgrade() -> None:
    for table in ("event", "post"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("language")
