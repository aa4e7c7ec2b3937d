"""The storage layer on a real database: what its errors let out, and who may read its files."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy import Connection, insert
from sqlalchemy.exc import DBAPIError, IntegrityError

from bot import logs
from bot.safety.updates import Seen, UpdateLedger
from bot.settings import async_database_url
from bot.storage import Database, ProcessedUpdate, VerificationToken, utcnow

# A value a statement carries that must never reach a log line or a traceback.
SECRET_HASH = "5ec12e7a" * 8


async def test_a_failing_statement_logs_no_parameter_values(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    # As the bot runs: aiosqlite's own DEBUG lines (every statement with its values) are off.
    logs.protect_secrets()
    # A token of an account that does not exist: the foreign key refuses it, on both databases.
    with pytest.raises(IntegrityError) as raised:
        async with db.session() as session:
            session.add(
                VerificationToken(account_id=987654, token_hash=SECRET_HASH, expires_at=utcnow())
            )
            await session.commit()
    logging.getLogger("tests").error("the insert failed", exc_info=raised.value)

    assert "parameters hidden" in str(raised.value)
    assert SECRET_HASH not in str(raised.value)
    assert SECRET_HASH not in caplog.text


async def test_after_a_database_error_the_next_transaction_runs_on_a_new_connection(
    db: Database,
) -> None:
    # On SQLite the writer thread keeps its connection from one transaction to the next; one
    # that failed must not be the next one's (on PostgreSQL the pool decides, as before).
    def driver(connection: Connection) -> object:
        return connection.connection.dbapi_connection  # kept, so its identity is its own

    first = await db.run(driver)
    assert await db.run(driver) is first or not db.is_sqlite  # kept
    with pytest.raises(IntegrityError):  # a constraint: the connection is fine
        await db.run(
            lambda connection: connection.execute(
                insert(VerificationToken).values(
                    account_id=987654, token_hash=SECRET_HASH, expires_at=utcnow()
                )
            )
        )
    assert await db.run(driver) is first or not db.is_sqlite
    with pytest.raises(DBAPIError):  # SQLite's OperationalError, PostgreSQL's ProgrammingError
        await db.run(lambda connection: connection.exec_driver_sql("SELECT * FROM no_such_table"))
    after = await db.run(driver)
    assert after is not first or not db.is_sqlite
    assert await db.run(lambda connection: connection.exec_driver_sql("SELECT 1").scalar()) == 1


async def test_a_database_file_left_to_the_umask_is_made_the_owners_alone(
    tmp_path: Path,
) -> None:
    # As a release before owner-only files left it: readable by everybody on the machine.
    path = tmp_path / "bot.sqlite3"
    for name in ("bot.sqlite3", "bot.sqlite3-wal", "bot.sqlite3-shm"):
        (tmp_path / name).touch(mode=0o644)
        os.chmod(tmp_path / name, 0o644)

    database = Database(async_database_url(f"sqlite:///{path}"))
    try:
        await database.migrate()
        modes = {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in tmp_path.iterdir()}
    finally:
        await database.dispose()

    assert modes["bot.sqlite3"] == "0o600"
    assert all(mode == "0o600" for mode in modes.values()), modes


async def test_the_statements_of_an_update_commit_together_or_not_at_all(db: Database) -> None:
    # Database.run: on SQLite in a worker thread on the plain driver, on PostgreSQL on asyncpg.
    ledger = UpdateLedger(db)
    assert await db.run(lambda connection: ledger.record(connection, 4242)) is Seen.FIRST

    def record_then_fail(connection: Connection) -> None:
        ledger.record(connection, 4243)
        raise RuntimeError("the handler failed after its first statement")

    with pytest.raises(RuntimeError):
        await db.run(record_then_fail)

    # Committed: a redelivery (on PostgreSQL, one no turn marked finished: cut short).
    assert await ledger.take(4242) is not Seen.FIRST
    assert await ledger.take(4243) is Seen.FIRST  # rolled back with the failure: new
    # And what one engine wrote the other reads: the ORM's sessions see the same rows.
    async with db.session() as session:
        assert await session.get(ProcessedUpdate, 4243) is not None
    # The hidden parameters hold on that path too.
    with pytest.raises(IntegrityError) as raised:
        await db.run(
            lambda connection: connection.execute(
                insert(VerificationToken).values(
                    account_id=987654, token_hash=SECRET_HASH, expires_at=utcnow()
                )
            )
        )
    assert SECRET_HASH not in str(raised.value)
