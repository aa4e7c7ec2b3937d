"""Logging in: an account's sessions, and the failed attempts that lock its login a while.

Revision ID: 0008_sessions
Revises: 0007_reminders
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_sessions"
down_revision: str | Sequence[str] | None = "0007_reminders"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "accountsession" not in existing:
        op.create_table(
            "accountsession",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("account_id", sa.Integer(), nullable=False),
            sa.Column("telegram_user_id", sa.BigInteger(), nullable=False),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.Column("expires_at", sa.DateTime(), nullable=False),
            sa.Column("ended_at", sa.DateTime(), nullable=True),
            sa.ForeignKeyConstraint(["account_id"], ["account.id"]),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_accountsession_account_id", "accountsession", ["account_id"])
        op.create_index(
            "ix_accountsession_telegram_user_id", "accountsession", ["telegram_user_id"]
        )
    if "loginfailure" not in existing:
        op.create_table(
            "loginfailure",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("address_hash", sa.String(length=64), nullable=False),
            sa.Column("telegram_chat_id", sa.BigInteger(), nullable=False),
            sa.Column("failed_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index("ix_loginfailure_address_hash", "loginfailure", ["address_hash"])
        op.create_index("ix_loginfailure_telegram_chat_id", "loginfailure", ["telegram_chat_id"])
        op.create_index("ix_loginfailure_failed_at", "loginfailure", ["failed_at"])


def downgrade() -> None:
    op.drop_table("loginfailure")
    op.drop_table("accountsession")
