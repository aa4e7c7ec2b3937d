"""The privacy notice's acceptance, and what stays of a deleted account for the statistics.

Revision ID: 0006_privacy
Revises: 0005_family_language
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_privacy"
down_revision: str | Sequence[str] | None = "0005_family_language"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "privacyconsent" not in existing:
        op.create_table(
            "privacyconsent",
            sa.Column("telegram_user_id", sa.BigInteger(), autoincrement=False, nullable=False),
            sa.Column("accepted_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("telegram_user_id"),
        )
    if "deletedaccount" not in existing:
        op.create_table(
            "deletedaccount",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.Column("verified_at", sa.DateTime(), nullable=True),
            sa.PrimaryKeyConstraint("id"),
        )


def downgrade() -> None:
    op.drop_table("deletedaccount")
    op.drop_table("privacyconsent")
