"""Tickets: a family's question to the volunteers, and everything kept about it.

Knows nothing of Telegram: ids are plain integers. The mapping from messages in the volunteers'
group to tickets is stored (it survives a restart), volunteer answers are kept in the family's
inbox ("Bandeja de Entrada"), and the volunteers' statistics are counted in the database.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Integer, Table, bindparam, func, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.storage import (
    Account,
    BlockedSender,
    ClosedBy,
    Database,
    DeletedAccount,
    InboxMessage,
    RegistrationStart,
    RelayDirection,
    RelayedMessage,
    Ticket,
    TicketStatus,
    utcnow,
)

OPEN, CLOSED = TicketStatus.OPEN, TicketStatus.CLOSED
_TICKETS: Table = Ticket.__table__  # type: ignore[attr-defined]
# Read at every update: built once, so each read only binds the family's id.
_READ_OPEN = (
    select(_TICKETS.c.id)
    .where(_TICKETS.c.telegram_user_id == bindparam("user"))
    .where(_TICKETS.c.status == OPEN)
    .limit(1)
)
INBOX_TEXT_LIMIT = 4096
STATS_WINDOWS = (7, 30)
# The first key of PostgreSQL's two-key advisory locks taken while opening a ticket (the second
# is the user); distinct from the migrations' one-key lock.
_OPEN_LOCK_NAMESPACE = 0x7469636B  # "tick"


@dataclass(frozen=True)
class TicketStats:
    """Counts over the last `days` days (tickets_open_now: right now, whatever their age)."""

    days: int
    accounts_started: int
    accounts_created: int
    accounts_verified: int
    tickets_opened: int
    tickets_closed: int
    tickets_open_now: int
    # Over the tickets opened in the window that have an answer; None when there is none.
    median_first_answer_seconds: float | None


class Tickets:
    def __init__(self, database: Database, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._db = database
        self._clock = clock
        # Who has a ticket open, asked of every message a family sends: kept in memory, read
        # at each of the family's updates (refresh) and then by this service's own changes.
        self._open_users: set[int] = set()

    def read_open(self, connection: Connection, telegram_user_id: int) -> bool:
        """Whether the family has a ticket open, as a statement of the caller's transaction
        (see `Database.run`), read before each of its updates: another process that shares the
        database may have opened or closed it."""
        return connection.execute(_READ_OPEN, {"user": telegram_user_id}).first() is not None

    def note_open(self, telegram_user_id: int, is_open: bool) -> None:
        """Keeps what `read_open` found, on the event loop."""
        if is_open:
            self._open_users.add(telegram_user_id)
        else:
            self._open_users.discard(telegram_user_id)

    def has_open_ticket(self, telegram_user_id: int) -> bool:
        """Whether the family's messages go to a ticket (a quick check; open_for reads it)."""
        return telegram_user_id in self._open_users

    def forget_open(self, telegram_user_id: int) -> None:
        """The family's open ticket is gone after all (closed by another process, say)."""
        self._open_users.discard(telegram_user_id)

    # Opening, finding

    async def open_ticket(
        self,
        telegram_user_id: int,
        chat_id: int,
        first_name: str,
        locale: str,
        account_id: int | None = None,
    ) -> tuple[Ticket, bool]:
        """The user's open ticket, made if there is none: (ticket, whether it was made now);
        `account_id` is the account the user is using, whose inbox its answers go to.

        Two calls at once for one user make one ticket: the check and the insert run under a
        lock (SQLite's write lock, a PostgreSQL advisory lock for this user).
        """
        async with self._db.session() as session:
            await self._lock_user(session, telegram_user_id)
            existing = await self._open_ticket(session, telegram_user_id)
            if existing is not None:
                await session.commit()
                self._open_users.add(telegram_user_id)
                return existing, False
            ticket = Ticket(
                telegram_user_id=telegram_user_id,
                telegram_chat_id=chat_id,
                first_name=first_name[:100],
                locale=locale[:16],
                status=OPEN,
                created_at=self._clock(),
                account_id=account_id,
            )
            session.add(ticket)
            await session.commit()
            await session.refresh(ticket)
            self._open_users.add(telegram_user_id)
            return ticket, True

    async def open_for(self, telegram_user_id: int) -> Ticket | None:
        async with self._db.session() as session:
            return await self._open_ticket(session, telegram_user_id)

    async def get(self, ticket_id: int) -> Ticket | None:
        async with self._db.session() as session:
            return await session.get(Ticket, ticket_id)

    async def set_topic(self, ticket_id: int, group_chat_id: int, topic_id: int) -> None:
        await self._update(ticket_id, topic_chat_id=group_chat_id, topic_id=topic_id)

    async def by_topic(self, group_chat_id: int, topic_id: int) -> Ticket | None:
        """The newest ticket (open or closed) of forum topic `topic_id` of that group."""
        async with self._db.session() as session:
            statement = (
                select(Ticket)
                .where(col(Ticket.topic_chat_id) == group_chat_id)
                .where(col(Ticket.topic_id) == topic_id)
                .order_by(col(Ticket.created_at).desc(), col(Ticket.id).desc())
                .limit(1)
            )
            return (await session.exec(statement)).first()

    # Messages relayed through the volunteers' group

    async def remember_relay(
        self,
        ticket_id: int,
        group_chat_id: int,
        group_message_id: int,
        direction: RelayDirection | str,
    ) -> None:
        """Records that a group message belongs to a ticket; recording it again changes nothing."""
        way = RelayDirection(direction)  # ValueError for anything else
        async with self._db.session() as session:
            session.add(
                RelayedMessage(
                    ticket_id=ticket_id,
                    group_chat_id=group_chat_id,
                    group_message_id=group_message_id,
                    direction=way,
                    created_at=self._clock(),
                )
            )
            try:
                await session.commit()
            except IntegrityError:
                await session.rollback()
                if await self.by_group_message(group_chat_id, group_message_id) is None:
                    raise  # not a repeat: the ticket does not exist

    async def relays(self, ticket_id: int) -> list[int]:
        """The ticket's messages posted in the group, oldest first (the header comes first)."""
        async with self._db.session() as session:
            found = await session.exec(
                select(RelayedMessage.group_message_id)
                .where(col(RelayedMessage.ticket_id) == ticket_id)
                .where(col(RelayedMessage.direction) == RelayDirection.TO_GROUP)
                .order_by(col(RelayedMessage.id))
            )
            return list(found.all())

    async def by_group_message(self, group_chat_id: int, group_message_id: int) -> Ticket | None:
        async with self._db.session() as session:
            statement = (
                select(Ticket)
                .join(RelayedMessage, col(RelayedMessage.ticket_id) == col(Ticket.id))
                .where(
                    col(RelayedMessage.group_chat_id) == group_chat_id,
                    col(RelayedMessage.group_message_id) == group_message_id,
                )
            )
            return (await session.exec(statement)).first()

    # Answers, closing

    async def record_answer(self, ticket_id: int, inbox_text: str) -> Ticket | None:
        """A volunteer answered: the first answer's time is kept, the text goes to the inbox
        of the account the ticket was asked from, or of the family's person. None when the
        ticket is no longer open (closed, or its family erased its data meanwhile): nothing
        is kept, and nothing must be delivered."""
        now = self._clock()
        async with self._db.session() as session:
            # Locked (PostgreSQL; SQLite's write transaction already is): an erasure, which
            # closes the ticket, waits for this answer to be kept, or this one sees it closed.
            ticket = await session.get(
                Ticket, ticket_id, populate_existing=True, with_for_update=True
            )
            if ticket is None or ticket.status != OPEN:
                await session.rollback()
                return None
            if ticket.first_answer_at is None:
                ticket.first_answer_at = now
                session.add(ticket)
            session.add(
                InboxMessage(
                    telegram_user_id=ticket.telegram_user_id,
                    account_id=ticket.account_id,
                    ticket_id=ticket_id,
                    text=inbox_text[:INBOX_TEXT_LIMIT],
                    created_at=now,
                )
            )
            await session.commit()
            await session.refresh(ticket)
            return ticket

    async def close(self, ticket_id: int, by: ClosedBy | str) -> Ticket | None:
        """Closes an open ticket; None when it was already closed (or does not exist)."""
        closer = ClosedBy(by)  # ValueError for anyone else
        async with self._db.session() as session:
            result = await session.exec(
                update(Ticket)
                .where(col(Ticket.id) == ticket_id, col(Ticket.status) == OPEN)
                .values(status=CLOSED, closed_at=self._clock(), closed_by=closer)
            )
            if result.rowcount != 1:
                await session.rollback()
                return None
            await session.commit()
            closed = await session.get(Ticket, ticket_id, populate_existing=True)
            if closed is not None:
                self._open_users.discard(closed.telegram_user_id)
            return closed

    async def set_helped(self, ticket_id: int, telegram_user_id: int, helped: bool) -> bool:
        """The family's word on its own closed ticket; False (nothing changes) for a ticket
        that is not that family's, or not closed."""
        async with self._db.session() as session:
            result = await session.exec(
                update(Ticket)
                .where(
                    col(Ticket.id) == ticket_id,
                    col(Ticket.telegram_user_id) == telegram_user_id,
                    col(Ticket.status) == CLOSED,
                )
                .values(helped=helped)
            )
            await session.commit()
            return result.rowcount == 1

    # The volunteers' view

    async def pending(self, *, offset: int = 0, limit: int | None = None) -> list[Ticket]:
        """Open tickets, the longest waiting first (`limit` of them from `offset`: a page)."""
        async with self._db.session() as session:
            statement = (
                select(Ticket)
                .where(col(Ticket.status) == OPEN)
                .order_by(col(Ticket.created_at), col(Ticket.id))
                .offset(offset)
                .limit(limit)
            )
            return list((await session.exec(statement)).all())

    async def pending_count(self) -> int:
        async with self._db.session() as session:
            return await _count(session, col(Ticket.status) == OPEN)

    async def waiting_position(self, ticket_id: int) -> int:
        """1 for the oldest open unanswered ticket; 0 if this one is answered or closed."""
        async with self._db.session() as session:
            ticket = await session.get(Ticket, ticket_id)
            if ticket is None or ticket.status != OPEN or ticket.first_answer_at is not None:
                return 0
            statement = select(func.count()).where(
                col(Ticket.status) == OPEN,
                col(Ticket.first_answer_at).is_(None),
                (col(Ticket.created_at) < ticket.created_at)
                | ((col(Ticket.created_at) == ticket.created_at) & (col(Ticket.id) <= ticket_id)),
            )
            return int((await session.exec(statement)).one())

    async def due_for_reminder(self, older_than: timedelta) -> list[Ticket]:
        """Open tickets without an answer, older than `older_than`, not yet raised again."""
        before = self._clock() - older_than
        async with self._db.session() as session:
            statement = (
                select(Ticket)
                .where(
                    col(Ticket.status) == OPEN,
                    col(Ticket.first_answer_at).is_(None),
                    col(Ticket.reminded_at).is_(None),
                    col(Ticket.created_at) < before,
                )
                .order_by(col(Ticket.created_at), col(Ticket.id))
            )
            return list((await session.exec(statement)).all())

    async def mark_reminded(self, ticket_id: int) -> bool:
        """True if this call marked it (False: it was already raised again)."""
        async with self._db.session() as session:
            result = await session.exec(
                update(Ticket)
                .where(col(Ticket.id) == ticket_id, col(Ticket.reminded_at).is_(None))
                .values(reminded_at=self._clock())
            )
            await session.commit()
            return result.rowcount == 1

    # Blocked senders

    async def block(self, telegram_user_id: int) -> bool:
        """True if the user was not blocked before."""
        async with self._db.session() as session:
            if await session.get(BlockedSender, telegram_user_id) is not None:
                return False
            session.add(BlockedSender(telegram_user_id=telegram_user_id, blocked_at=self._clock()))
            try:
                await session.commit()
            except IntegrityError:  # blocked at the same moment by someone else
                await session.rollback()
                return False
            return True

    async def unblock(self, telegram_user_id: int) -> bool:
        """True if the user was blocked."""
        async with self._db.session() as session:
            blocked = await session.get(BlockedSender, telegram_user_id)
            if blocked is None:
                return False
            await session.delete(blocked)
            await session.commit()
            return True

    async def is_blocked(self, telegram_user_id: int) -> bool:
        async with self._db.session() as session:
            return await session.get(BlockedSender, telegram_user_id) is not None

    # Statistics

    async def stats(self) -> dict[str, TicketStats]:
        """The counts for the last 7 and 30 days, keyed "7" and "30"."""
        now = self._clock()
        async with self._db.session() as session:
            open_now = await _count(session, col(Ticket.status) == OPEN)
            result: dict[str, TicketStats] = {}
            for days in STATS_WINDOWS:
                since = now - timedelta(days=days)
                answered = await session.exec(
                    select(Ticket.created_at, Ticket.first_answer_at).where(
                        col(Ticket.created_at) >= since,
                        col(Ticket.first_answer_at).is_not(None),
                    )
                )
                waits = [
                    (answered_at - created_at).total_seconds()
                    for created_at, answered_at in answered.all()
                    if answered_at is not None
                ]
                result[str(days)] = TicketStats(
                    days=days,
                    accounts_started=await _count(
                        session, col(RegistrationStart.started_at) >= since
                    ),
                    # Accounts their families deleted still count, by their dates alone.
                    accounts_created=await _count(session, col(Account.created_at) >= since)
                    + await _count(session, col(DeletedAccount.created_at) >= since),
                    accounts_verified=await _count(session, col(Account.verified_at) >= since)
                    + await _count(session, col(DeletedAccount.verified_at) >= since),
                    tickets_opened=await _count(session, col(Ticket.created_at) >= since),
                    tickets_closed=await _count(session, col(Ticket.closed_at) >= since),
                    tickets_open_now=open_now,
                    median_first_answer_seconds=statistics.median(waits) if waits else None,
                )
            return result

    # Helpers

    async def _open_ticket(self, session: AsyncSession, telegram_user_id: int) -> Ticket | None:
        statement = (
            select(Ticket)
            .where(col(Ticket.telegram_user_id) == telegram_user_id, col(Ticket.status) == OPEN)
            .order_by(col(Ticket.id))
            .limit(1)
        )
        return (await session.exec(statement)).first()

    async def _lock_user(self, session: AsyncSession, telegram_user_id: int) -> None:
        # Held until the session's transaction ends.
        connection = await session.connection()
        if self._db.is_sqlite:
            # Every SQLite transaction holds the write lock from its BEGIN (bot.storage): a
            # second caller already waits there (busy_timeout), then sees the first's ticket.
            return
        statement = text("SELECT pg_advisory_xact_lock(:namespace, :key)").bindparams(
            bindparam("namespace", type_=Integer), bindparam("key", type_=Integer)
        )
        # The user id folded into PostgreSQL's 32-bit key: a collision only makes two users
        # wait for each other.
        key = (telegram_user_id % 2**32) - 2**31
        await connection.execute(statement, {"namespace": _OPEN_LOCK_NAMESPACE, "key": key})

    async def _update(self, ticket_id: int, **values: object) -> None:
        async with self._db.session() as session:
            await session.exec(update(Ticket).where(col(Ticket.id) == ticket_id).values(**values))
            await session.commit()


async def _count(session: AsyncSession, condition: Any) -> int:
    # The FROM clause is the table of the condition's column.
    return int((await session.exec(select(func.count()).where(condition))).one())
