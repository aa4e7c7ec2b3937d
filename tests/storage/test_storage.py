"""The storage layer on a real database: what its errors let out, and who may read its files."""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from bot import logs
from bot.settings import async_database_url
from bot.storage import Database, VerificationToken, utcnow

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
