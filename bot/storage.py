"""Storage: the SQLModel tables and the one place where database sessions are opened.

Runs on SQLite (the embedded default, through aiosqlite) and on PostgreSQL (asyncpg).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from pydantic import NaiveDatetime
from sqlalchemy import JSON, BigInteger, Column, UniqueConstraint, event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel import Field, SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.files import FILE_MODE, make_private, private_folder
from bot.migrations import upgrade_to_head


def utcnow() -> datetime:
    # Stored without a time zone on both databases (NaiveDatetime); every timestamp is UTC.
    return datetime.now(UTC).replace(tzinfo=None)


class Account(SQLModel, table=True):
    """An account on the portal, with the child's data as written on the child's document."""

    id: int | None = Field(default=None, primary_key=True)
    # Normalised (lower case); unique in the database itself, so two registrations of one
    # address at the same moment cannot both succeed.
    email: str = Field(max_length=320, unique=True, index=True)
    first_names: str = Field(max_length=100)
    father_surname: str = Field(max_length=100)
    mother_surname: str = Field(default="", max_length=100)
    birth_date: date
    country_code: str = Field(max_length=2)
    password_hash: str = Field(max_length=255)
    telegram_user_id: int = Field(sa_column=Column(BigInteger, index=True, nullable=False))
    telegram_chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    locale: str = Field(default="es", max_length=16)
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    verified_at: NaiveDatetime | None = None
    # Set when the family was told that this account, never verified, will be deleted (once).
    deletion_warned_at: NaiveDatetime | None = None


class VerificationToken(SQLModel, table=True):
    """A verification link's token, kept only as its SHA-256 hash."""

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    expires_at: NaiveDatetime
    used_at: NaiveDatetime | None = None
    # Set when a newer link replaces this one (/reenviar); kept to count resends per hour.
    revoked_at: NaiveDatetime | None = None


class RegistrationDraft(SQLModel, table=True):
    """A registration in progress: one per Telegram user, answers kept as they are acknowledged.

    `answers` maps a form field's key to its stored value; a password is stored only as its
    Argon2id hash, and a confirmation only as `true`.
    """

    telegram_user_id: int = Field(sa_column=Column(BigInteger, primary_key=True))
    telegram_chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    locale: str = Field(default="es", max_length=16)
    step: str = Field(max_length=40)
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Values of the buttons offered with the current question (suggestions, quick answers),
    # so that a button press is understood even after a restart.
    choices: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    human_checked: bool = False
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    updated_at: NaiveDatetime = Field(default_factory=utcnow)
    # Set when the draft was left unfinished too long: its answers are gone, and the row stays
    # only until the family is told, the next time it writes.
    expired_at: NaiveDatetime | None = None


class OutboxEmail(SQLModel, table=True):
    """An e-mail to send, written in the same transaction as what it is about.

    A verification e-mail keeps its link's token only sealed (encrypted with the bot's secret
    key), never in plaintext, and not at all once the e-mail is sent or given up on.
    """

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)  # "verification"
    account_id: int = Field(foreign_key="account.id", index=True)
    recipient: str = Field(max_length=320)
    locale: str = Field(default="es", max_length=16)
    sealed_token: str | None = Field(default=None, max_length=512)
    status: str = Field(default="pending", max_length=16, index=True)  # pending, sent, failed
    attempts: int = 0
    next_attempt_at: NaiveDatetime = Field(default_factory=utcnow, index=True)
    last_error: str | None = Field(default=None, max_length=1000)
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    sent_at: NaiveDatetime | None = None


class ProcessedUpdate(SQLModel, table=True):
    """Telegram update ids already handled: a redelivered update is handled once."""

    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    processed_at: NaiveDatetime = Field(default_factory=utcnow, index=True)


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


class Ticket(SQLModel, table=True):
    """A family's question to the volunteers; at most one open per Telegram user."""

    id: int | None = Field(default=None, primary_key=True)
    telegram_user_id: int = Field(sa_column=Column(BigInteger, index=True, nullable=False))
    telegram_chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    first_name: str = Field(default="", max_length=100)
    locale: str = Field(default="es", max_length=16)
    status: str = Field(default="open", max_length=16, index=True)  # open, closed
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    first_answer_at: NaiveDatetime | None = None
    closed_at: NaiveDatetime | None = None
    closed_by: str | None = Field(default=None, max_length=16)  # family, volunteer
    # The forum topic (message_thread_id) of the volunteers' group given to this ticket.
    topic_id: int | None = Field(default=None, sa_column=Column(BigInteger, index=True))
    # The group that topic is in: a topic number means nothing in another group.
    topic_chat_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    # Set when an unanswered ticket was raised again in the group (once).
    reminded_at: NaiveDatetime | None = None
    helped: bool | None = None


class RelayedMessage(SQLModel, table=True):
    """A message of the volunteers' group that belongs to a ticket (so a reply finds it)."""

    __table_args__ = (UniqueConstraint("group_chat_id", "group_message_id"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    group_chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    group_message_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    direction: str = Field(max_length=16)  # to_group, to_family
    created_at: NaiveDatetime = Field(default_factory=utcnow)


class InboxMessage(SQLModel, table=True):
    """A volunteer's answer kept in the family's "Bandeja de Entrada" on the portal."""

    id: int | None = Field(default=None, primary_key=True)
    telegram_user_id: int = Field(sa_column=Column(BigInteger, index=True, nullable=False))
    ticket_id: int = Field(foreign_key="ticket.id")
    text: str = Field(max_length=4096)
    created_at: NaiveDatetime = Field(default_factory=utcnow)


class BlockedSender(SQLModel, table=True):
    """A Telegram user whose messages are no longer relayed to the volunteers."""

    telegram_user_id: int = Field(
        sa_column=Column(BigInteger, primary_key=True, autoincrement=False)
    )
    blocked_at: NaiveDatetime = Field(default_factory=utcnow)


class RegistrationStart(SQLModel, table=True):
    """One row each time a family starts a new registration ("accounts started")."""

    id: int | None = Field(default=None, primary_key=True)
    telegram_user_id: int = Field(sa_column=Column(BigInteger, index=True, nullable=False))
    started_at: NaiveDatetime = Field(default_factory=utcnow, index=True)


class TakenAddressSeen(SQLModel, table=True):
    """A Telegram user met an address that already has an account. Past a few in a day, it is no
    longer told which addresses have one. Kept a day, and only as a hash of the address."""

    id: int | None = Field(default=None, primary_key=True)
    telegram_user_id: int = Field(sa_column=Column(BigInteger, index=True, nullable=False))
    email_hash: str = Field(max_length=64)
    seen_at: NaiveDatetime = Field(default_factory=utcnow, index=True)
