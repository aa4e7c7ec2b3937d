"""Reminders, each sent once: to open the verification link, and to finish a registration.

Revision ID: 0007_reminders
Revises: 0006_privacy
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_reminders"
down_revision: str | Sequence[str] | None = "0006_privacy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("account", "registrationdraft")


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    for table in TABLES:
        if "reminded_at" in {column["name"] for column in inspector.get_columns(table)}:
            continue  # made by `create_all` from these very models (see 0002)
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("reminded_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("reminded_at")
