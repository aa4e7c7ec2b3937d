"""The portal's Bandeja de Entrada, kept for each account: the volunteers' answers and the
bot's own messages to it (the link sent, the account verified, reminders, a new password).

The bot's messages are kept as their kind only, and worded in the reader's language when the
inbox is read: nothing of a link or a token is ever kept here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Connection, and_, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, func, select

from bot.storage import Database, Holder, InboxKind, InboxMessage, utcnow
from bot.storage.holders import held_by

logger = logging.getLogger(__name__)


class Inbox:
    def __init__(self, database: Database, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._db = database
        self._clock = clock

    async def deliver(
        self, account_id: int, telegram_user_id: int, kind: InboxKind, *, read: bool = False
    ) -> None:
        """Keeps one of the bot's own messages to the account (whose owner is that user);
        `read` when the family is reading it in the chat at this moment."""
        try:
            await self._db.run(
                lambda connection: self.deliver_in(
                    connection, account_id, telegram_user_id, kind, read=read
                )
            )
        except IntegrityError:
            # The account was deleted meanwhile (erased, or never verified): no inbox left
            # to keep it in, and the news it brought goes with the account.
            logger.info("no inbox for account %s any more", account_id)

    def deliver_in(
        self,
        connection: Connection,
        account_id: int,
        telegram_user_id: int,
        kind: InboxKind,
        *,
        read: bool = False,
    ) -> None:
        """As `deliver`, as a statement of the caller's transaction (see `Database.run`): with
        the account's own creation, say."""
        now = self._clock()
        connection.execute(
            insert(InboxMessage).values(
                telegram_user_id=telegram_user_id,
                account_id=account_id,
                kind=kind,
                created_at=now,
                read_at=now if read else None,
            )
        )

    async def count(self, holder: Holder, *, unread: bool = False) -> int:
        condition = held_by(InboxMessage, holder)
        if unread:
            condition = and_(condition, col(InboxMessage.read_at).is_(None))
        async with self._db.session() as session:
            statement = select(func.count()).where(condition)
            return int((await session.exec(statement)).one())

    async def read(self, holder: Holder, *, offset: int = 0, limit: int = 10) -> list[InboxMessage]:
        """The holder's messages, newest first (`limit` of them from `offset`), which are
        read from now on."""
        async with self._db.session() as session:
            found = await session.exec(
                select(InboxMessage)
                .where(held_by(InboxMessage, holder))
                .order_by(col(InboxMessage.id).desc())
                .offset(offset)
                .limit(limit)
            )
            messages = list(found.all())
            unread = [m.id for m in messages if m.read_at is None]
            if unread:
                await session.exec(
                    update(InboxMessage)
                    .where(col(InboxMessage.id).in_(unread))
                    .values(read_at=self._clock())
                )
                await session.commit()
            return messages
