"""The password reset ("¿Olvidaste tu contraseña?"): each link's token, kept only as its hash.

Revision ID: 0010_password_reset
Revises: 0009_checklists
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_password_reset"
down_revision: str | Sequence[str] | None = "0009_checklists"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if "passwordresettoken" in sa.inspect(op.get_bind()).get_table_names():
        return  # made by `create_all` from these very models (see 0002)
    op.create_table(
        "passwordresettoken",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        # SHA-256 of the token, never the token.
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_passwordresettoken_account_id", "passwordresettoken", ["account_id"])
    op.create_index(
        "ix_passwordresettoken_token_hash", "passwordresettoken", ["token_hash"], unique=True
    )


def downgrade() -> None:
    op.drop_table("passwordresettoken")
