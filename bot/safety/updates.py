"""Which Telegram updates were already handled, so a redelivered one is handled once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Connection, delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col

from bot.storage import Database, ProcessedUpdate, utcnow


class UpdateLedger:
    def __init__(self, database: Database) -> None:
        self._db = database
        dialect = sqlite if database.is_sqlite else postgresql
        # One statement that tells a new id from a known one, without an error to catch (and,
        # on PostgreSQL, without an aborted transaction to roll back).
        self._record = dialect.insert(ProcessedUpdate).on_conflict_do_nothing(
            index_elements=["update_id"]
        )

    async def first_time(self, update_id: int) -> bool:
        """Records the update; False when it was recorded before (Telegram sent it again).

        Recorded before it is handled: an update cut short by a crash is not handled twice,
        and the family, having had no reply, writes again.
        """
        return await self._db.run(lambda connection: self.record(connection, update_id))

    def record(self, connection: Connection, update_id: int) -> bool:
        """first_time, as a statement of the caller's transaction (see `Database.run`), which
        must commit before the update is handled."""
        done = connection.execute(self._record.values(update_id=update_id, processed_at=utcnow()))
        return done.rowcount == 1

    async def forget_older_than(self, age: timedelta) -> None:
        # Telegram redelivers within hours at most; a week of ids is plenty.
        async with self._db.session() as session:
            await session.exec(
                delete(ProcessedUpdate).where(col(ProcessedUpdate.processed_at) < utcnow() - age)
            )
            await session.commit()
