"""A ticket's forum topic is known with its group: a topic number alone also exists in any other
forum the bot is in, and must not find the ticket.

Tickets made before this learn their group from their first message relayed there (the header
posted in the topic).

Revision ID: 0004_topic_chat
Revises: 0003_unverified_and_probes
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_topic_chat"
down_revision: str | Sequence[str] | None = "0003_unverified_and_probes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    columns = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("ticket")}
    if "topic_chat_id" in columns:
        return  # made by `create_all` from these very models (see 0002)
    with op.batch_alter_table("ticket") as batch:
        batch.add_column(sa.Column("topic_chat_id", sa.BigInteger(), nullable=True))
    op.execute(
        "UPDATE ticket SET topic_chat_id = ("
        " SELECT relayedmessage.group_chat_id FROM relayedmessage"
        " WHERE relayedmessage.ticket_id = ticket.id ORDER BY relayedmessage.id LIMIT 1"
        ") WHERE topic_id IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("ticket") as batch:
        batch.drop_column("topic_chat_id")
