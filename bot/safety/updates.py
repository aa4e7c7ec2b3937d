"""Which Telegram updates were already handled, so a redelivered one is handled once."""

from __future__ import annotations

from datetime import timedelta
from enum import Enum

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
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

    async def take(self, update_id: int) -> Seen:
        """Records the update, and says whether it was recorded before and how it ended.

        Recorded before it is handled: an update cut short by a crash is not handled twice
        (part of it may be done: an answer saved, and a second handling would take it for the
        next question's). The one who takes it over is told so, to say where the chat stands.
        """
        async with self._db.session() as session:
            session.add(ProcessedUpdate(update_id=update_id))
            try:
                await session.commit()
            except IntegrityError:
                await session.rollback()
            else:
                return Seen.FIRST
            taken = await session.get(ProcessedUpdate, update_id)
        # Only a chat's turn across processes marks the end (see `finish`); on SQLite, one
        # process, every update taken before counts as handled, as it always did.
        if taken is None or taken.finished_at is not None or self._db.is_sqlite:
            return Seen.HANDLED
        return Seen.CUT_SHORT

    async def finish(self, update_id: int, turn: Turn) -> None:
        """Marks the update's handling ended, in the transaction that ends the chat's turn: the
        next holder of the turn knows it was not cut short."""
        await turn.add(
            update(ProcessedUpdate)
            .where(col(ProcessedUpdate.update_id) == update_id)
            .values(finished_at=utcnow())
        )

    async def forget_older_than(self, age: timedelta) -> None:
        # Telegram redelivers within hours at most; a week of ids is plenty.
        async with self._db.session() as session:
            await session.exec(
                delete(ProcessedUpdate).where(col(ProcessedUpdate.processed_at) < utcnow() - age)
            )
            await session.commit()
