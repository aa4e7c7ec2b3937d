"""The schema is made by the Alembic migrations (bot/migrations), on SQLite and on PostgreSQL."""

from __future__ import annotations

import ast
import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel, select

from bot.settings import async_database_url
from bot.storage import Account, Database
from bot.storage.migrations import INITIAL_REVISION, alembic_config, current_revision
from tests.support.data import an_account

ROOT = Path(__file__).resolve().parents[2]
HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()
MODEL_TABLES = set(SQLModel.metadata.tables)


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(async_database_url(database_url))
    yield database
    await database.dispose()


async def table_names(db: Database) -> set[str]:
    async with db.engine.connect() as connection:
        return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))


async def revision_of(db: Database) -> str | None:
    async with db.engine.connect() as connection:
        return await connection.run_sync(current_revision)


async def schema_diff(db: Database) -> list[Any]:
    def compare(connection: Connection) -> list[Any]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, SQLModel.metadata)

    async with db.engine.connect() as connection:
        return await connection.run_sync(compare)


async def test_the_revisions_form_one_line_from_the_initial_one() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1
    assert [r.revision for r in script.walk_revisions()][-1] == INITIAL_REVISION


async def test_migrating_an_empty_database_creates_every_table(db: Database) -> None:
    assert await table_names(db) == set()

    await db.create_schema()

    assert await table_names(db) == MODEL_TABLES | {"alembic_version"}
    assert await revision_of(db) == HEAD


async def test_the_migrated_schema_matches_the_models(db: Database) -> None:
    await db.migrate()

    # Columns, types, nullability, indexes, unique constraints, foreign keys: no difference.
    assert await schema_diff(db) == []


async def test_migrating_twice_changes_nothing(db: Database) -> None:
    await db.migrate()
    async with db.session() as session:
        session.add(an_account())
        await session.commit()

    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(db.engine.sync_engine, "before_cursor_execute", record)
    try:
        await db.migrate()
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", record)

    changes = [
        s
        for s in statements
        if s.lstrip().upper().startswith(("CREATE", "ALTER", "DROP", "INSERT", "UPDATE", "DELETE"))
    ]
    assert changes == []
    assert await revision_of(db) == HEAD
    async with db.session() as session:
        assert len((await session.exec(select(Account))).all()) == 1


async def test_two_processes_starting_at_once_both_start(database_url: str) -> None:
    # Two engines: two connections, as two processes would have (advisory lock on PostgreSQL,
    # write lock on SQLite).
    first = Database(async_database_url(database_url))
    second = Database(async_database_url(database_url))
    try:
        await asyncio.gather(first.migrate(), second.migrate())
        assert await revision_of(first) == HEAD
        assert await schema_diff(second) == []
    finally:
        await first.dispose()
        await second.dispose()


async def test_two_processes_creating_a_new_sqlite_file_at_once_both_start(
    tmp_path: Path,
) -> None:
    # The first start on an empty DATA_DIR, twice at once: switching a new file to WAL needs it
    # alone for a moment, and SQLite refuses at once instead of waiting. A race, so many tries.
    for attempt in range(25):
        url = async_database_url(f"sqlite:///{tmp_path}/race-{attempt}.db")
        first, second = Database(url), Database(url)
        try:
            await asyncio.gather(first.migrate(), second.migrate())
            assert await revision_of(second) == HEAD
            async with first.engine.connect() as connection:
                mode = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar()
            assert mode == "wal"
        finally:
            await first.dispose()
            await second.dispose()


async def test_a_database_made_by_create_all_before_alembic_is_stamped_and_works(
    db: Database,
) -> None:
    # What the release before Alembic did at start-up; its data must survive.
    async with db.engine.begin() as connection:
        await connection.run_sync(SQLModel.metadata.create_all)
    async with db.session() as session:
        session.add(an_account("before@example.org"))
        await session.commit()
    assert "alembic_version" not in await table_names(db)

    await db.create_schema()

    assert await revision_of(db) == HEAD
    assert await schema_diff(db) == []
    async with db.session() as session:
        session.add(an_account("after@example.org"))
        await session.commit()
        emails = {a.email for a in (await session.exec(select(Account))).all()}
    assert emails == {"before@example.org", "after@example.org"}


async def test_a_failed_migration_leaves_nothing_behind(db: Database) -> None:
    # A table in the way: the initial revision fails part way, and rolls back as a whole.
    async with db.engine.begin() as connection:
        await connection.execute(text("CREATE TABLE outboxemail (id INTEGER PRIMARY KEY)"))

    with pytest.raises(Exception, match="outboxemail"):
        await db.migrate()

    assert await table_names(db) == {"outboxemail"}


def test_no_production_module_creates_tables_without_the_migrations() -> None:
    sources = [
        path
        for folder in ("bot", "conversations")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if "migrations" not in path.relative_to(ROOT).parts
    ]
    assert sources
    offenders = []
    for path in sources:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            # `metadata.create_all(...)` and `run_sync(metadata.create_all)` alike.
            name = getattr(node, "attr", None) or getattr(node, "id", None)
            if name == "create_all":
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


async def test_inbox_and_checklists_from_before_0011_go_to_the_account_the_home_showed(
    db: Database,
) -> None:
    def upgrade_to(revision: str) -> Callable[[Connection], None]:
        return lambda connection: command.upgrade(alembic_config(connection), revision)

    async with db.engine.begin() as connection:
        await connection.run_sync(upgrade_to("0010_password_reset"))
        # The newest verified account, not a newer one never verified.
        for email, verified in (
            ("older@example.org", datetime(2026, 1, 1)),
            ("verified@example.org", datetime(2026, 1, 2)),
            ("unverified@example.org", None),
        ):
            await connection.execute(
                text(
                    "INSERT INTO account (email, first_names, father_surname, mother_surname,"
                    " birth_date, country_code, password_hash, locale, telegram_user_id,"
                    " telegram_chat_id, created_at, verified_at) VALUES (:email, 'María',"
                    " 'Pérez', '', '2015-03-09', 'VE', 'x', 'es', 42, 42, '2026-01-01 00:00:00',"
                    " :verified)"
                ),
                {"email": email, "verified": verified},
            )
        await connection.execute(
            text(
                "INSERT INTO ticket (telegram_user_id, telegram_chat_id, first_name, locale,"
                " status, created_at) VALUES (42, 42, 'María', 'es', 'open', '2026-01-01')"
            )
        )
        await connection.execute(
            text(
                "INSERT INTO inboxmessage (telegram_user_id, ticket_id, text, created_at)"
                " VALUES (42, 1, 'hola', '2026-01-01 00:00:00')"
            )
        )
        await connection.execute(
            text(
                "INSERT INTO tramitechecklist (telegram_user_id, tramite, gathered, started_at)"
                " VALUES (42, 'permanencia', '[]', '2026-01-01 00:00:00')"
            )
        )
    await db.create_schema()
    async with db.engine.connect() as connection:
        shown = (
            await connection.execute(
                text("SELECT id FROM account WHERE email = 'verified@example.org'")
            )
        ).scalar()
        for table in ("inboxmessage", "tramitechecklist"):
            owners = (await connection.execute(text(f"SELECT account_id FROM {table}"))).all()
            assert owners == [(shown,)], table
        kinds = (await connection.execute(text("SELECT kind FROM inboxmessage"))).all()
        assert kinds == [("answer",)]
