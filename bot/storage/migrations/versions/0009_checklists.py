"""Historial de Trámites: each trámite a family started, as a checklist of its documents.

Revision ID: 0009_checklists
Revises: 0008_sessions
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_checklists"
down_revision: str | Sequence[str] | None = "0008_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if "tramitechecklist" in sa.inspect(op.get_bind()).get_table_names():
        return  # made by `create_all` from these very models (see 0002)
    op.create_table(
        "tramitechecklist",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False),
        sa.Column("tramite", sa.String(length=40), nullable=False),
        sa.Column("gathered", sa.JSON(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_tramitechecklist_telegram_user_id", "tramitechecklist", ["telegram_user_id"]
    )


def downgrade() -> None:
    op.drop_table("tramitechecklist")
