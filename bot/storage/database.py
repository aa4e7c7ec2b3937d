"""The one place where database sessions are opened, on SQLite (the embedded default, through
aiosqlite) or PostgreSQL (asyncpg), and where the schema is brought to date."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    async_sessionmaker,
    create_async_engine,
)
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.storage.files import FILE_MODE, make_private, private_folder
from bot.storage.migrations import upgrade_to_head

# As long as busy_timeout: how long start-up waits for another process to let go of the file.
WAL_SWITCH_PATIENCE = 30.0


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        # A statement's parameters are a family's answers, password hashes, token hashes: an
        # error (logged, or shown in a traceback) must name the statement, never the values.
        options: dict[str, Any] = {"echo": echo, "hide_parameters": True}
        self._sqlite_file = _sqlite_file(url) if self.is_sqlite else None
        if self._sqlite_file is not None:
            # Made owner-only before SQLite first opens it: SQLite gives the -wal and -shm files
            # it makes later the main file's mode.
            private_folder(self._sqlite_file.parent)
            make_private(self._sqlite_file)
        if self.is_sqlite:
            options["connect_args"] = {"timeout": 30}
        else:
            options["pool_pre_ping"] = True
        self.engine: AsyncEngine = create_async_engine(url, **options)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            event.listen(self.engine.sync_engine, "begin", _sqlite_begin_immediate)
        self._sessions = async_sessionmaker(
            self.engine, class_=AsyncSession, expire_on_commit=False
        )

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session:
            yield session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """One transaction on a plain connection, committed at the end (rolled back on an
        error): for Core statements on the hot path, which need no ORM session, and for
        several services' statements that belong in one transaction."""
        async with self.engine.begin() as connection:
            yield connection

    async def create_schema(self) -> None:
        """Makes the schema current: the Alembic migrations, never `create_all`."""
        await self.migrate()

    async def migrate(self) -> None:
        """Applies the Alembic migrations up to head (see bot/migrations), in one transaction."""
        if self.is_sqlite:
            await self._use_wal()
        async with self.engine.begin() as connection:
            await connection.run_sync(upgrade_to_head)

    async def _use_wal(self) -> None:
        """WAL lets the web pages read while the bot writes. The file keeps the mode, so once at
        start-up serves every later connection. The switch needs the file to itself for a moment,
        and SQLite answers "locked" at once instead of waiting (busy_timeout does not apply):
        when another process is starting at the same moment, try again shortly."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAL_SWITCH_PATIENCE
        while True:
            async with self.engine.connect() as connection:
                # Straight on the driver: the mode cannot change inside a transaction, and
                # SQLAlchemy would begin one.
                driver = (await connection.get_raw_connection()).driver_connection
                if driver is None:
                    raise RuntimeError("no driver connection for the journal switch")
                try:
                    await driver.execute("PRAGMA journal_mode=WAL")
                    self._narrow_journals()
                    return
                except sqlite3.OperationalError as error:
                    if "locked" not in str(error) or loop.time() > deadline:
                        raise
            await asyncio.sleep(0.05)

    def _narrow_journals(self) -> None:
        # A release before files were kept owner-only left its journals to the umask; one that
        # still lies about (another process has the database open) keeps that mode until then.
        if self._sqlite_file is None:
            return
        for suffix in ("-wal", "-shm"):
            journal = self._sqlite_file.with_name(self._sqlite_file.name + suffix)
            with contextlib.suppress(FileNotFoundError):
                os.chmod(journal, FILE_MODE)

    async def reclaim(self) -> None:
        """After an erasure: on SQLite, the write-ahead log (which still holds the deleted
        rows' pages) is copied into the main file, where secure_delete overwrote them, and
        emptied. PostgreSQL's own files are the server's business."""
        if not self.is_sqlite:
            return
        async with self.engine.connect() as connection:
            driver = (await connection.get_raw_connection()).driver_connection
            if driver is not None:
                await driver.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    async def dispose(self) -> None:
        await self.engine.dispose()


def _sqlite_file(url: str) -> Path | None:
    """The database file of an SQLite URL; None for an in-memory database."""
    path = url.split(":///", 1)[1] if ":///" in url else ""
    path = path.partition("?")[0]
    if not path or path == ":memory:":
        return None
    return Path(path)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Foreign keys are off by default in SQLite. (WAL is set once, in Database.migrate.)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    # What the bot deletes (a family's data) is overwritten in the file, not only unlinked.
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()
    # SQLAlchemy, not the driver, begins transactions (below): see SQLAlchemy's "SQLite
    # transactions" recipe.
    dbapi_connection.isolation_level = None


def _sqlite_begin_immediate(connection: Any) -> None:
    # Updates of different chats run concurrently, each transaction on its own connection. A
    # plain BEGIN reads first and asks for the write lock only at its first write, and SQLite
    # then fails it at once ("database is locked", busy_timeout or not) if another connection
    # wrote in between. IMMEDIATE takes the write lock at BEGIN, where busy_timeout makes it wait
    # its turn instead; transactions here are short and never wait on the network.
    connection.exec_driver_sql("BEGIN IMMEDIATE")
