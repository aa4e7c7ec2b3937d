"""One chat's updates one at a time across every process that shares the database.

On PostgreSQL each update of a chat is handled while its process holds a transaction-level
advisory lock keyed by the chat's id, on a connection of its own: a second process with an
update of that chat waits for it, and a process that dies lets go at once (the server ends its
transaction when the connection drops). SQLite serves a single process, whose own per-chat order
(bot.runtime.processing) is all there is to keep.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import BigInteger, bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.sql import Executable

# PostgreSQL's one-key form, with the chat's id itself as the key: two chats never wait for
# each other. (The migrations' lock is a constant far beyond the ids Telegram hands out.)
_LOCK = text("SELECT pg_advisory_xact_lock(:chat)").bindparams(bindparam("chat", type_=BigInteger))


class Turn:
    """A chat's turn, held while one of its updates is handled. What is `add`ed here is
    committed in the same transaction that lets the turn go, so the next holder, whichever
    process it is in, sees it."""

    def __init__(self, connection: AsyncConnection | None) -> None:
        self._connection = connection

    @property
    def shared(self) -> bool:
        """Whether anything `add`ed is kept: only a turn held across processes has a
        transaction to add it to (on SQLite there is none)."""
        return self._connection is not None

    async def add(self, statement: Executable, parameters: dict[str, object] | None = None) -> None:
        if self._connection is not None:
            await self._connection.execute(statement, parameters)


class ChatTurns:
    def __init__(self, url: str, *, at_once: int) -> None:
        """`at_once`: how many chats this process handles at the same time; each holds one
        connection of a pool of its own, so that a turn never waits for a connection that the
        handlers it waits for would need."""
        self.shared = not url.startswith("sqlite")
        self._engine: AsyncEngine | None = None
        if self.shared:
            self._engine = create_async_engine(
                url,
                pool_size=at_once,
                max_overflow=0,
                pool_pre_ping=True,
                hide_parameters=True,
            )

    @asynccontextmanager
    async def hold(self, chat_id: int) -> AsyncIterator[Turn]:
        """Waits for the chat's turn, and holds it until the block ends. An error or a
        cancellation in the block lets it go with nothing `add`ed."""
        if self._engine is None:
            yield Turn(None)
            return
        async with self._engine.connect() as connection, connection.begin():
            await connection.execute(_LOCK, {"chat": chat_id})
            yield Turn(connection)

    async def dispose(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
