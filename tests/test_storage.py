"""The storage layer on a real database: what its errors let out, and who may read its files."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.exc import IntegrityError

from bot import logs
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
