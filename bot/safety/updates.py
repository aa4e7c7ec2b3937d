"""Which Telegram updates were already handled, so a redelivered one is handled once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from bot.storage import Database, ProcessedUpdate, utcnow


class UpdateLedger:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def first_time(self, update_id: int) -> bool:
        """Records the update; False when it was recorded before (Telegram sent it again).

        Recorded before it is handled: an update cut short by a crash is not handled twice,
        and the family, having had no reply, writes again.
        """
        async with self._db.session() as session:
            session.add(ProcessedUpdate(update_id=update_id))
            try:
                await session.commit()
            except IntegrityError:
                await session.rollback()
                return False
            return True

    async def forget_older_than(self, age: timedelta) -> None:
        # Telegram redelivers within hours at most; a week of ids is plenty.
        async with self._db.session() as session:
            await session.exec(
                delete(ProcessedUpdate).where(col(ProcessedUpdate.processed_at) < utcnow() - age)
            )
            await session.commit()
