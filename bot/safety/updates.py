"""Which Telegram updates were already handled, so a redelivered one is handled once."""

from __future__ import annotations

from datetime import timedelta
from enum import Enum

from sqlalchemy import Connection, bindparam, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col

from bot.storage import Database, ProcessedUpdate, utcnow
from bot.storage.turns import Turn


class Seen(Enum):
    FIRST = "first"  # never taken before: handle it
    HANDLED = "handled"  # taken, and its handling ended: drop it
    CUT_SHORT = "cut_short"  # taken by a process that died while handling it


class UpdateLedger:
    def __init__(self, database: Database) -> None:
        self._db = database
        dialect = sqlite if database.is_sqlite else postgresql
        # One statement that tells a new id from a known one, without an error to catch (and,
        # on PostgreSQL, without an aborted transaction to roll back).
        self._record = dialect.insert(ProcessedUpdate).on_conflict_do_nothing(
            index_elements=["update_id"]
        )
        self._finish = (
            update(ProcessedUpdate)
            .where(col(ProcessedUpdate.update_id) == bindparam("finished_update"))
            .values(finished_at=bindparam("finished_at"))
        )

    async def take(self, update_id: int) -> Seen:
        """Records the update, and says whether it was recorded before and how it ended.

        Recorded before it is handled: an update cut short by a crash is not handled twice
        (part of it may be done: an answer saved, and a second handling would take it for the
        next question's). The one who takes it over is told so, to say where the chat stands.
        """
        return await self._db.run(lambda connection: self.record(connection, update_id))

    def record(self, connection: Connection, update_id: int) -> Seen:
        """`take`, as statements of the caller's transaction (see `Database.run`), which must
        commit before the update is handled."""
        done = connection.execute(self._record, {"update_id": update_id, "processed_at": utcnow()})
        if done.rowcount == 1:
            return Seen.FIRST
        # Only a chat's turn across processes marks the end (see `finish`); on SQLite, one
        # process, every update taken before counts as handled, as it always did.
        if self._db.is_sqlite:
            return Seen.HANDLED
        finished = connection.execute(
            select(col(ProcessedUpdate.finished_at)).where(
                col(ProcessedUpdate.update_id) == update_id
            )
        ).first()
        if finished is None or finished[0] is not None:
            return Seen.HANDLED
        return Seen.CUT_SHORT

    async def finish(self, update_id: int, turn: Turn) -> None:
        """Marks the update's handling ended, in the transaction that ends the chat's turn: the
        next holder of the turn knows it was not cut short."""
        if turn.shared:
            await turn.add(self._finish, {"finished_update": update_id, "finished_at": utcnow()})

    async def forget_older_than(self, age: timedelta) -> None:
        # Telegram redelivers within hours at most; a week of ids is plenty.
        async with self._db.session() as session:
            await session.exec(
                delete(ProcessedUpdate).where(col(ProcessedUpdate.processed_at) < utcnow() - age)
            )
            await session.commit()
