"""The database schema's history: an Alembic environment used from code, never from a shell.

`Database.migrate()` (called at start-up) runs `upgrade_to_head` on the bot's own connection;
`python -m bot.storage.migrations revision "message"` writes a new revision from the models. No
alembic.ini: the configuration is built here.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

MIGRATIONS_DIR = Path(__file__).resolve().parent
# The revision that creates the tables `SQLModel.metadata.create_all` made before Alembic.
INITIAL_REVISION = "0001_initial"
# Any constant shared by every copy of the bot: two processes starting at once on one PostgreSQL
# database take turns, so the second finds the schema already at head.
_ADVISORY_LOCK_ID = 0x6E696E657A  # "ninez"


def alembic_config(connection: Connection | None = None, *, url: str | None = None) -> Config:
    """Alembic's configuration; env.py uses `connection` when given, else opens `url`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # Revision files are named after their id (`0002_add_something.py`), see __main__.py.
    config.set_main_option("file_template", "%%(rev)s")
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade_to_head(connection: Connection) -> None:
    """Brings the database on `connection` to the newest revision, in its current transaction."""
    if connection.dialect.name == "postgresql":
        # Released when the caller's transaction ends, that is once the schema is at head.
        connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _ADVISORY_LOCK_ID})
    # On SQLite the transaction began IMMEDIATE (bot.storage), holding the write lock from the
    # start: the migration is all-or-nothing, and a second process waits (busy_timeout) instead
    # of creating the same tables again.
    config = alembic_config(connection)
    tables = set(inspect(connection).get_table_names())
    if "alembic_version" not in tables and "account" in tables:
        # Made by a release from before Alembic, through `SQLModel.metadata.create_all`: its
        # tables are those of the initial revision, which must not try to create them again.
        command.stamp(config, INITIAL_REVISION)
    command.upgrade(config, "head")


def current_revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()
