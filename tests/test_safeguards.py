"""Issue #7 end to end: what a family is told when something fails, when an account it never
validated is about to go, and when it has made as many accounts as one Telegram user may. The
real Application against the Bot API stand-in, a real SMTP server, a real database."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from sqlalchemy import text

from bot.local_telegram import LocalBotApi
from bot.settings import Settings
from tests.conftest import BotUnderTest
from tests.test_operations import eventually
from tests.test_registration_flow import answer, create_account


async def test_a_failure_does_not_promise_that_the_answer_was_kept(
    bot_runner: BotUnderTest, make_settings, telegram: LocalBotApi
) -> None:
    running = await bot_runner.start(make_settings())
    assert running.services is not None
    user = telegram.user(user_id=71001)
    await answer(user, "/crear_cuenta", "Paso 1 de 9")
    # The drafts' table gone: the answer cannot be saved, and the handler fails.
    async with running.services.database.engine.begin() as connection:
        await connection.execute(text("DROP TABLE registrationdraft"))

    told = await user.reply("María José")

    assert "puede que su última respuesta no se haya guardado" in told["text"], told["text"]
    assert "guardado:" not in told["text"]
    assert len(bot_runner.errors) == 1
    bot_runner.errors.clear()  # the failure this test made on purpose


async def test_what_the_bot_writes_is_the_owners_alone_whatever_the_umask(
    bot_runner: BotUnderTest, telegram: LocalBotApi, tmp_path: Path
) -> None:
    data = tmp_path / "fresh" / "data"  # nothing there yet: the bot makes it all
    settings = Settings(
        _env_file=None, data_dir=data, web_host="127.0.0.1", web_port=0, log_level="DEBUG"
    )  # no DATABASE_URL: SQLite in DATA_DIR; no SMTP_HOST: the e-mails are .eml files
    previous = os.umask(0o022)  # the usual umask: files 0644, folders 0755
    try:
        await bot_runner.start(settings)
        await create_account(telegram.user(user_id=72001), "permisos@gmail.com")
        outbox = data / "outbox"
        await eventually(lambda: _has_eml(outbox))

        # While the bot runs, so that SQLite's -wal and -shm files are there.
        modes = {
            path.relative_to(data).as_posix(): stat.S_IMODE(path.stat().st_mode)
            for path in [data, *data.rglob("*")]
        }
    finally:
        os.umask(previous)

    emails = [name for name in modes if name.endswith(".eml")]
    assert len(emails) == 1
    expected = {
        ".": 0o700,
        "bot.sqlite3": 0o600,
        "bot.sqlite3-wal": 0o600,
        "bot.sqlite3-shm": 0o600,
        "secret.key": 0o600,
        "outbox": 0o700,
        emails[0]: 0o600,
    }
    assert {name: oct(mode) for name, mode in modes.items()} == {
        name: oct(mode) for name, mode in expected.items()
    }


async def _has_eml(folder: Path) -> bool:
    return folder.is_dir() and any(folder.glob("*.eml"))
