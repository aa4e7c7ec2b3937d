"""The language each family chose, kept across restarts.

Revision ID: 0005_family_language
Revises: 0004_topic_chat
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_family_language"
down_revision: str | Sequence[str] | None = "0004_topic_chat"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if "familylanguage" in sa.inspect(op.get_bind()).get_table_names():
        return  # made by `create_all` from these very models (see 0002)
    op.create_table(
        "familylanguage",
        sa.Column("telegram_user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("locale", sa.String(length=16), nullable=False),
        sa.Column("chosen_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("telegram_user_id"),
    )


def downgrade() -> None:
    op.drop_table("familylanguage")
