"""Several processes on one database: the questions a chat has open outside the registration
(so any process can take the answer), when each update's handling finished (so a process that
takes over knows which update the dead one cut short), and what the processes' secret makes
(so that one with another secret does not start).

Revision ID: 0013_several_processes
Revises: 0012_reset_requester
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_several_processes"
down_revision: str | Sequence[str] | None = "0012_reset_requester"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    # Made by `create_all` from these very models (see 0002): then nothing is missing.
    if "openquestion" not in inspector.get_table_names():
        op.create_table(
            "openquestion",
            sa.Column("telegram_user_id", sa.BigInteger(), autoincrement=False, nullable=False),
            sa.Column("conversation", sa.String(length=32), nullable=False),
            sa.Column("telegram_chat_id", sa.BigInteger(), nullable=False),
            sa.Column("state", sa.String(length=32), nullable=False),
            sa.Column("value", sa.String(length=320), nullable=True),
            sa.Column("secret", sa.Boolean(), nullable=False),
            sa.Column("expires_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("telegram_user_id", "conversation"),
        )
        op.create_index("ix_openquestion_expires_at", "openquestion", ["expires_at"])
    if "sealcheck" not in inspector.get_table_names():
        op.create_table(
            "sealcheck",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("fingerprint", sa.String(length=64), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
    columns = {column["name"] for column in inspector.get_columns("processedupdate")}
    if "finished_at" not in columns:
        with op.batch_alter_table("processedupdate") as batch_op:
            batch_op.add_column(sa.Column("finished_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("processedupdate") as batch_op:
        batch_op.drop_column("finished_at")
    op.drop_table("sealcheck")
    op.drop_table("openquestion")
