"""Issue #7 end to end: what a family is told when something fails, when an account it never
validated is about to go, and when it has made as many accounts as one Telegram user may. The
real Application against the Bot API stand-in, a real SMTP server, a real database."""

from __future__ import annotations

import os
import stat
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text
from sqlmodel import select

from bot.devtools.local_telegram import LocalBotApi
from bot.runtime.running import RunningBot
from bot.settings import Settings
from bot.storage import Account, Database, utcnow
from tests.support.bot import BotUnderTest
from tests.support.chat import (
    PASSWORD,
    answer,
    create_account,
    eventually,
    fill_form,
    press,
    settle,
    texts_of,
)
from tests.support.data import an_account
from tests.support.smtp_server import SmtpServer


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


async def test_an_account_never_validated_is_announced_then_deleted_and_its_address_freed(
    running_bot: RunningBot, telegram: LocalBotApi, smtp: SmtpServer
) -> None:
    user = telegram.user(user_id=73001)
    await create_account(user, "olvido@gmail.com")
    await smtp.wait_for_message()
    assert running_bot.services is not None and running_bot.application is not None
    job_queue = running_bot.application.job_queue
    assert job_queue is not None
    job = job_queue.get_jobs_by_name("unverified")[0]
    database = running_bot.services.database

    await backdate(database, days=6, hours=1)  # a day before its 7 days are up
    await job.run(running_bot.application)
    warning = await user.wait_for(lambda m: "todavía no fue validada" in m["text"])
    deletion_day = (utcnow() + timedelta(hours=23) - timedelta(hours=4)).strftime("%d-%m-%Y")
    assert "olvido@gmail.com" in warning["text"] and "/reenviar" in warning["text"]
    assert f"se borrará el {deletion_day}" in warning["text"], warning["text"]
    await job.run(running_bot.application)
    await settle(user)
    assert sum("todavía no fue validada" in t for t in texts_of(user)) == 1  # told once

    await backdate(database, days=1)  # its time is up
    await job.run(running_bot.application)
    gone = await user.wait_for(lambda m: "se borró" in m["text"])
    assert "olvido@gmail.com" in gone["text"] and "/crear_cuenta" in gone["text"]

    # The address is free again: the same family (or another) makes the account anew.
    await create_account(telegram.user(user_id=73002), "olvido@gmail.com")


async def test_past_the_allowed_accounts_the_last_step_refuses_and_makes_nothing(
    bot_runner: BotUnderTest, make_settings, telegram: LocalBotApi, smtp: SmtpServer
) -> None:
    running = await bot_runner.start(make_settings(max_accounts_per_user=1))
    user = telegram.user(user_id=74001)
    await create_account(user, "primero@gmail.com")

    await fill_form(user, email="segundo@gmail.com")
    refused = await press(user, "Crear cuenta", "máximo de cuentas")
    assert "(1)" in refused["text"] and "/voluntario" in refused["text"]
    assert running.services is not None
    assert not await running.services.accounts.email_taken("segundo@gmail.com")


async def test_past_three_taken_addresses_the_form_no_longer_says_which_have_an_account(
    running_bot: RunningBot, telegram: LocalBotApi
) -> None:
    assert running_bot.services is not None
    async with running_bot.services.database.session() as session:
        for n in range(4):
            session.add(an_account(f"ajena{n}@gmail.com"))
        await session.commit()
    user = telegram.user(user_id=75101)
    await answer(user, "/crear_cuenta", "Paso 1 de 9")
    for given, step in (("Ana", 2), ("Ruiz", 3), ("Soto", 4), ("01-01-2016", 5)):
        await answer(user, given, f"Paso {step} de 9")
    await press(user, "Perú", "Paso 6 de 9")

    # Three different ones (one of them twice) are named; the fourth is not.
    for n in (0, 1, 0, 2):
        named = await answer(user, f"ajena{n}@gmail.com", "Paso 6 de 9")
        assert f"Ya existe una cuenta con el correo ajena{n}@gmail.com" in named["text"]
    # The fourth is not even refused at its step, which would tell it from a free one...
    await answer(user, "ajena3@gmail.com", "Paso 7 de 9")
    await answer(user, "ajena3@gmail.com", "Paso 8 de 9")
    await answer(user, PASSWORD, "Paso 9 de 9")
    await answer(user, PASSWORD, "no es un robot")
    await press(user, "No soy un robot", "Revise los datos")
    # ...only by «Crear cuenta», without a word about an account.
    fourth = await press(user, "Crear cuenta", "Paso 6 de 9")
    assert "Ese correo electrónico no se puede usar" in fourth["text"]
    assert "cuenta" not in fourth["text"].split("Paso 6")[0]
    await answer(user, "libre@gmail.com", "Paso 7 de 9")


async def backdate(database: Database, **delta: float) -> None:
    """Moves every account's times back, as if that much time had passed."""
    back = timedelta(**delta)
    async with database.session() as session:
        for account in (await session.exec(select(Account))).all():
            account.created_at -= back
            if account.deletion_warned_at is not None:
                account.deletion_warned_at -= back
            session.add(account)
        await session.commit()
