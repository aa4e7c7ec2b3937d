"""The Bandeja de Entrada and the Historial de Trámites belong to an account, not to a Telegram
user: one person may use several children's accounts, and a parent on a new phone logs in to
the same account. The inbox also keeps the bot's own messages (their kind, not their words),
and knows which were read: the home counts the unread ones.

Rows made before this belong to the account whose home showed them: the person's newest
verified account, else its newest. A ticket also knows the account it was asked from, so its
answers go there.

Revision ID: 0011_inbox_per_account
Revises: 0010_password_reset
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_inbox_per_account"
down_revision: str | Sequence[str] | None = "0010_password_reset"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The account the home showed: the person's newest verified one, else its newest.
NEWEST_ACCOUNT = (
    "(SELECT account.id FROM account WHERE account.telegram_user_id = {table}.telegram_user_id"
    " ORDER BY account.verified_at IS NULL, account.id DESC LIMIT 1)"
)


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    if "account_id" in {column["name"] for column in inspector.get_columns("inboxmessage")}:
        return  # made by `create_all` from these very models (see 0002)
    with op.batch_alter_table("inboxmessage") as batch:
        batch.add_column(sa.Column("account_id", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("kind", sa.String(length=24), nullable=False, server_default="answer")
        )
        batch.add_column(sa.Column("read_at", sa.DateTime(), nullable=True))
        batch.alter_column("ticket_id", existing_type=sa.Integer(), nullable=True)
        batch.create_foreign_key(
            "fk_inboxmessage_account_id_account", "account", ["account_id"], ["id"]
        )
        batch.create_index("ix_inboxmessage_account_id", ["account_id"])
    with op.batch_alter_table("tramitechecklist") as batch:
        batch.add_column(sa.Column("account_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_tramitechecklist_account_id_account", "account", ["account_id"], ["id"]
        )
        batch.create_index("ix_tramitechecklist_account_id", ["account_id"])
    op.add_column("ticket", sa.Column("account_id", sa.Integer(), nullable=True))
    for table in ("inboxmessage", "tramitechecklist"):
        op.execute(f"UPDATE {table} SET account_id = {NEWEST_ACCOUNT.format(table=table)}")


def downgrade() -> None:
    op.execute("DELETE FROM inboxmessage WHERE ticket_id IS NULL")
    with op.batch_alter_table("inboxmessage") as batch:
        batch.drop_index("ix_inboxmessage_account_id")
        batch.drop_constraint("fk_inboxmessage_account_id_account", type_="foreignkey")
        batch.drop_column("account_id")
        batch.drop_column("kind")
        batch.drop_column("read_at")
        batch.alter_column("ticket_id", existing_type=sa.Integer(), nullable=False)
    op.drop_column("ticket", "account_id")
    with op.batch_alter_table("tramitechecklist") as batch:
        batch.drop_index("ix_tramitechecklist_account_id")
        batch.drop_constraint("fk_tramitechecklist_account_id_account", type_="foreignkey")
        batch.drop_column("account_id")
