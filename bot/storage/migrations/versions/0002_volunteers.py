"""Volunteers answer families: tickets, relayed group messages, inbox, blocked senders, and
registration starts (for the statistics).

A database made by `SQLModel.metadata.create_all` before Alembic is stamped `0001_initial`
(see `bot.storage.migrations.upgrade_to_head`); when that `create_all` already made these
tables, they are left as they are instead of being created a second time.

Revision ID: 0002_volunteers
Revises: 0001_initial
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_volunteers"
down_revision: str | Sequence[str] | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("ticket", "relayedmessage", "inboxmessage", "blockedsender", "registrationstart")


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if set(TABLES) <= existing:
        return

    op.create_table(
        "ticket",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False),
        sa.Column("telegram_chat_id", sa.BigInteger(), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("locale", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("first_answer_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("closed_by", sa.String(length=16), nullable=True),
        # A forum topic's message_thread_id in the volunteers' group.
        sa.Column("topic_id", sa.BigInteger(), nullable=True),
        sa.Column("reminded_at", sa.DateTime(), nullable=True),
        sa.Column("helped", sa.Boolean(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ticket_telegram_user_id", "ticket", ["telegram_user_id"])
    op.create_index("ix_ticket_status", "ticket", ["status"])
    op.create_index("ix_ticket_topic_id", "ticket", ["topic_id"])

    op.create_table(
        "relayedmessage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("group_chat_id", sa.BigInteger(), nullable=False),
        sa.Column("group_message_id", sa.BigInteger(), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
        sa.PrimaryKeyConstraint("id"),
        # One group message belongs to one ticket.
        sa.UniqueConstraint("group_chat_id", "group_message_id"),
    )
    op.create_index("ix_relayedmessage_ticket_id", "relayedmessage", ["ticket_id"])

    op.create_table(
        "inboxmessage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=4096), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["ticket_id"], ["ticket.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_inboxmessage_telegram_user_id", "inboxmessage", ["telegram_user_id"])

    op.create_table(
        "blockedsender",
        # A Telegram user id, not a counter of ours.
        sa.Column("telegram_user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("blocked_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("telegram_user_id"),
    )

    op.create_table(
        "registrationstart",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_registrationstart_telegram_user_id", "registrationstart", ["telegram_user_id"]
    )
    op.create_index("ix_registrationstart_started_at", "registrationstart", ["started_at"])


def downgrade() -> None:
    op.drop_table("registrationstart")
    op.drop_table("blockedsender")
    op.drop_table("inboxmessage")
    op.drop_table("relayedmessage")
    op.drop_table("ticket")
