"""Developer commands for the schema's history.

    python -m bot.storage.migrations revision "add the account's phone"   # from the models
    python -m bot.storage.migrations upgrade                 # DATABASE_URL to head

`revision` compares the models with a temporary SQLite database brought to head (so it never
depends on, or touches, a real database); `--database URL` compares with that database instead.
Review what it writes: autogenerate misses renames and some server defaults.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from bot.settings import async_database_url, load_settings
from bot.storage import Database
from bot.storage.migrations import alembic_config


def _next_revision_id(message: str) -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    # Revisions are named "0003_what_changed": the next number follows the head's.
    leading = re.match(r"\d+", head) if head else None
    number = int(leading.group()) + 1 if leading else 1
    slug = re.sub(r"[^a-z0-9]+", "_", message.lower()).strip("_")
    # alembic_version.version_num is a VARCHAR(32).
    return f"{number:04d}_{slug}"[:32].rstrip("_")


async def _revision(message: str, url: str) -> Path | None:
    database = Database(url)
    written: list[Path] = []

    def write(connection: Connection) -> None:
        rev_id = _next_revision_id(message)
        script = command.revision(
            alembic_config(connection), message, autogenerate=True, rev_id=rev_id
        )
        scripts = script if isinstance(script, list) else [script]
        written.extend(Path(s.path) for s in scripts if s is not None)

    try:
        await database.migrate()
        async with database.engine.begin() as connection:
            await connection.run_sync(write)
    finally:
        await database.dispose()
    return written[0] if written else None


def _format(path: Path) -> None:
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff:
        subprocess.run([ruff, "format", "--quiet", str(path)], check=False)
        subprocess.run([ruff, "check", "--fix", "--quiet", str(path)], check=False)


async def _upgrade(url: str) -> None:
    database = Database(url)
    try:
        await database.migrate()
    finally:
        await database.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.storage.migrations")
    commands = parser.add_subparsers(dest="command", required=True)
    revision = commands.add_parser("revision", help="autogenerate a new revision")
    revision.add_argument("message")
    revision.add_argument("--database", help="compare with this database, not a temporary one")
    commands.add_parser("upgrade", help="bring DATABASE_URL (or the default SQLite) to head")
    args = parser.parse_args(argv)

    if args.command == "upgrade":
        asyncio.run(_upgrade(load_settings().database_url_async))
        return 0
    with tempfile.TemporaryDirectory() as folder:
        url = (
            async_database_url(args.database)
            if args.database
            else f"sqlite+aiosqlite:///{Path(folder) / 'head.sqlite3'}"
        )
        path = asyncio.run(_revision(args.message, url))
    if path is None:
        print("the models and the migrations agree: no revision written", file=sys.stderr)
        return 1
    _format(path)
    print(f"written: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
