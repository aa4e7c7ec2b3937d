"""A password reset link knows who asked for it, so that one person's requests are counted
across every address they name, not only per account.

Revision ID: 0012_reset_requester
Revises: 0011_inbox_per_account
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_reset_requester"
down_revision: str | Sequence[str] | None = "0011_inbox_per_account"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if "requested_by" in {c["name"] for c in inspector.get_columns("passwordresettoken")}:
        return  # made by `create_all` from these very models (see 0002)
    with op.batch_alter_table("passwordresettoken") as batch:
        batch.add_column(sa.Column("requested_by", sa.BigInteger(), nullable=True))
        batch.create_index("ix_passwordresettoken_requested_by", ["requested_by"])


def downgrade() -> None:
    with op.batch_alter_table("passwordresettoken") as batch:
        batch.drop_index("ix_passwordresettoken_requested_by")
        batch.drop_column("requested_by")
