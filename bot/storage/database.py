"""The one place where database sessions are opened, on SQLite (the embedded default, through
aiosqlite) or PostgreSQL (asyncpg), and where the schema is brought to date."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.priority import name_this_thread
from bot.storage.files import FILE_MODE, make_private, private_folder
from bot.storage.migrations import upgrade_to_head

# As long as busy_timeout: how long start-up waits for another process to let go of the file.
WAL_SWITCH_PATIENCE = 30.0

T = TypeVar("T")


def inserted_values(row: SQLModel) -> dict[str, object]:
    """The row's values for a Core INSERT (see `Database.run`); a key the database numbers
    (None until then) is left to it."""
    keys = {c.name for c in row.__table__.primary_key.columns}  # type: ignore[attr-defined]
    return {k: v for k, v in row.model_dump().items() if not (k in keys and v is None)}


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
        # For `run` on an SQLite file: the plain sqlite3 driver, on the same file and with the
        # same pragmas, used from a worker thread.
        self._thread_engine: Engine | None = None
        self._writer: ThreadPoolExecutor | None = None
        self._held: Connection | None = None  # the writer thread's (see `_run_in_thread`)
        self._file_identity: tuple[int, int] | None = None  # see `file_replaced`
        if self._sqlite_file is not None:
            sync_url = make_url(url).set(drivername="sqlite")
            self._thread_engine = create_engine(
                sync_url, hide_parameters=True, connect_args={"timeout": 30}
            )
            event.listen(self._thread_engine, "connect", _sqlite_pragmas)
            event.listen(self._thread_engine, "begin", _sqlite_begin_immediate_in_thread)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session:
            yield session

    async def run(self, work: Callable[[Connection], T]) -> T:
        """`work`'s Core statements in one transaction, committed when it returns (rolled back
        if it raises); for the statements every update makes.

        On an SQLite file, the whole transaction runs in a worker thread on a plain sqlite3
        connection: one hand-over to that thread and back, where aiosqlite makes one per cursor
        call (open, execute, fetch, close; ~15 for an update's statements, each waking a thread
        and the event loop). On PostgreSQL, on the async engine's connection (asyncpg).

        One thread runs them all, one after another: SQLite lets one transaction write at a
        time, and a second connection that asks meanwhile is not queued but put to sleep by
        its busy handler, for 1, 2, 5, 10… ms at a time, however soon the first lets go. With
        several threads, each of the updates of different chats that arrive together would
        sleep so; in one, each waits only for the ones before it (a millisecond or so each)."""
        if self._thread_engine is not None:
            if self._writer is None:
                self._writer = ThreadPoolExecutor(
                    max_workers=1, thread_name_prefix="sqlite-run", initializer=name_this_thread
                )
            return await asyncio.get_running_loop().run_in_executor(
                self._writer, self._run_in_thread, self._thread_engine, work
            )
        async with self.engine.begin() as connection:
            return await connection.run_sync(work)

    def _run_in_thread(self, engine: Engine, work: Callable[[Connection], T]) -> T:
        # In the writer thread only. Its connection is kept from one transaction to the next:
        # taking one from the pool and giving it back (with the pool's rollback) cost more than
        # a transaction's statements. After a database error the driver's connection is
        # discarded (invalidated, not pooled again), and the next run opens a new one; a
        # constraint that refused a statement says nothing against the connection.
        connection = self._held
        if connection is None:
            connection = self._held = engine.connect()
        try:
            with connection.begin():
                return work(connection)
        except IntegrityError:
            raise  # rolled back by begin(); the connection goes on
        except SQLAlchemyError:
            self._held = None
            with contextlib.suppress(SQLAlchemyError):  # the first error is the one to tell
                connection.invalidate()
                connection.close()
            raise

    def _let_go(self) -> None:
        # In the writer thread, its last task: the connection was opened there.
        if self._held is not None:
            connection, self._held = self._held, None
            connection.close()

    async def create_schema(self) -> None:
        """Makes the schema current: the Alembic migrations, never `create_all`."""
        await self.migrate()

    async def migrate(self) -> None:
        """Applies the Alembic migrations up to head (see bot/migrations), in one transaction."""
        if self.is_sqlite:
            await self._use_wal()
        async with self.engine.begin() as connection:
            await connection.run_sync(upgrade_to_head)
        if self._sqlite_file is not None:
            self._file_identity = await asyncio.to_thread(_identity, self._sqlite_file)

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

    @property
    def sqlite_file(self) -> Path | None:
        return self._sqlite_file

    async def file_replaced(self) -> bool:
        """Whether the SQLite file the bot opened at start-up is no longer at its path (the data
        folder deleted, or the file replaced): its connections go on writing to the file they
        hold, which nothing will open again, and every write is lost at the next start. False
        on PostgreSQL, and before `migrate`."""
        if self._sqlite_file is None or self._file_identity is None:
            return False
        return await asyncio.to_thread(_identity, self._sqlite_file) != self._file_identity

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
        if self._writer is not None:
            writer, self._writer = self._writer, None
            writer.submit(self._let_go)
            await asyncio.to_thread(writer.shutdown)
        if self._thread_engine is not None:
            self._thread_engine.dispose()


def _sqlite_file(url: str) -> Path | None:
    """The database file of an SQLite URL; None for an in-memory database."""
    path = url.split(":///", 1)[1] if ":///" in url else ""
    path = path.partition("?")[0]
    if not path or path == ":memory:":
        return None
    return Path(path)


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return None
    return found.st_dev, found.st_ino


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
    # Straight on aiosqlite's connection: one call to its thread, where a statement through
    # SQLAlchemy's cursor makes three (open the cursor, execute, close it), on every transaction.
    connection.connection.dbapi_connection.run_async(
        lambda driver: driver.execute("BEGIN IMMEDIATE")
    )


def _sqlite_begin_immediate_in_thread(connection: Any) -> None:
    # As _sqlite_begin_immediate, for the plain driver of `Database.run`.
    connection.exec_driver_sql("BEGIN IMMEDIATE")
