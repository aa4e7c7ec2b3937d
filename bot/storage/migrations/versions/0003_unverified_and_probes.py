"""No address is taken for good, and addresses cannot be probed: an account never verified
records when its family was told it will be deleted, and the taken addresses a Telegram user
met (as hashes, for a day) say when to stop telling it which ones have an account.

A database made by `SQLModel.metadata.create_all` before Alembic is stamped `0001_initial`;
what that `create_all` already made is left as it is, as in `0002_volunteers`.

Revision ID: 0003_unverified_and_probes
Revises: 0002_volunteers
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_unverified_and_probes"
down_revision: str | Sequence[str] | None = "0002_volunteers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if "deletion_warned_at" not in {c["name"] for c in inspector.get_columns("account")}:
        # A plain ADD COLUMN on both databases: batch mode would copy the account table on
        # SQLite.
        op.add_column("account", sa.Column("deletion_warned_at", sa.DateTime(), nullable=True))
    if "takenaddressseen" in inspector.get_table_names():
        return
    op.create_table(
        "takenaddressseen",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False),
        # SHA-256 of the normalised address, never the address.
        sa.Column("email_hash", sa.String(length=64), nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_takenaddressseen_seen_at", "takenaddressseen", ["seen_at"])
    op.create_index(
        "ix_takenaddressseen_telegram_user_id", "takenaddressseen", ["telegram_user_id"]
    )


def downgrade() -> None:
    with op.batch_alter_table("account") as batch_op:
        batch_op.drop_column("deletion_warned_at")
    op.drop_table("takenaddressseen")
