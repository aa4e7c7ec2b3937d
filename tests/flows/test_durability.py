"""Real restarts: the bot runs as a process, is killed (SIGKILL) or stopped (SIGTERM) between a
family's answers, and starts again on the same database. Nothing acknowledged is lost."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import pytest

from bot.devtools.local_telegram import LocalBotApi
from bot.mail.outbox import CLAIM_LEASE
from tests.support.bot_process import bot_environment
from tests.support.chat import answer, create_account, press
from tests.support.smtp_server import SmtpServer, hanging_server, unused_port


@pytest.fixture
def environment(tmp_path: Path, telegram: LocalBotApi, database_url: str):
    def make(**values: str) -> dict[str, str]:
        return bot_environment(
            tmp_path,
            TELEGRAM_BOT_TOKEN=telegram.token,
            TELEGRAM_BASE_URL=telegram.base_url,
            DATABASE_URL=database_url,
            LOG_LEVEL="INFO",
            **values,
        )

    return make


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM])
async def test_a_family_goes_on_from_its_step_after_a_restart(
    start_process, environment, telegram: LocalBotApi, signum: int
) -> None:
    settings = environment()
    bot = await start_process(settings)
    await bot.read_until("bot running")
    user = telegram.user(user_id=8101)
    await answer(user, "/crear_cuenta", "Paso 1 de 9")
    await answer(user, "Jean Marc", "Paso 2 de 9")
    await answer(user, "Toussaint", "Paso 3 de 9")
    await answer(user, "Louis", "Paso 4 de 9")

    bot.process.send_signal(signum)
    await asyncio.wait_for(bot.process.wait(), 10)

    bot = await start_process(settings)
    await bot.read_until("bot running")
    # No /crear_cuenta: the next message is simply the answer to the step the family was on.
    await answer(user, "02-02-2012", "Paso 5 de 9")
    await press(user, "Haití", "Paso 6 de 9")
    await answer(user, "jean.toussaint@gmail.com", "Paso 7 de 9")
    await answer(user, "jean.toussaint@gmail.com", "Paso 8 de 9")
    await answer(user, "una-clave-larga", "Paso 9 de 9")
    await answer(user, "una-clave-larga", "no es un robot")
    review = await press(user, "No soy un robot", "Revise los datos")
    for given in ("Jean Marc", "Toussaint", "Louis", "02-02-2012", "Haití"):
        assert given in review["text"]
    assert await bot.stop() == 0


async def test_sigterm_stops_within_ten_seconds(start_process, environment) -> None:
    bot = await start_process(environment())
    await bot.read_until("bot running")
    started = time.monotonic()
    assert await bot.stop(signal.SIGTERM) == 0
    assert time.monotonic() - started < 10
    assert "Traceback" not in bot.seen


async def test_sigterm_stops_within_ten_seconds_even_with_a_reply_stuck_on_telegram(
    start_process, environment, telegram: LocalBotApi
) -> None:
    bot = await start_process(environment())
    await bot.read_until("bot running")
    user = telegram.user(user_id=8150)
    await answer(user, "/crear_cuenta", "Paso 1 de 9")
    telegram.slow_chats[user.id] = 60.0  # the bot's reply hangs, as over a dead connection
    before = len(telegram.requests)
    await user.send("Jean Marc")
    async with asyncio.timeout(10):
        # The bot has saved the answer and is stuck sending the next question.
        while not any(
            str(params.get("chat_id")) == str(user.id) for _, params in telegram.requests[before:]
        ):
            await asyncio.sleep(0.02)
    started = time.monotonic()
    assert await bot.stop(signal.SIGTERM) == 0
    assert time.monotonic() - started < 10
    assert "Traceback" not in bot.seen

    # The answer was saved before the reply was tried: after the restart it is still there.
    del telegram.slow_chats[user.id]
    bot = await start_process(environment())
    await bot.read_until("bot running")
    await user.send("Toussaint")
    await user.wait_for(lambda m: "Paso 3 de 9" in m["text"])
    assert not any("Paso 2 de 9" in m["text"] for m in user.bot_messages)
    assert await bot.stop() == 0


async def test_an_email_waiting_when_the_bot_crashed_is_sent_after_the_restart(
    start_process, environment, telegram: LocalBotApi
) -> None:
    smtp_port = unused_port()  # nothing listens here yet: the mail server is down
    settings = environment(
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(smtp_port),
        OUTBOX_RETRY_BASE_SECONDS="0.2",
        OUTBOX_RETRY_CAP_SECONDS="1",
    )
    bot = await start_process(settings)
    await bot.read_until("bot running")
    user = telegram.user(user_id=8201)
    _, link = await create_account(user, "espera@gmail.com")

    bot.process.kill()
    await bot.process.wait()

    smtp = SmtpServer(port=smtp_port)
    await smtp.start()
    try:
        bot = await start_process(settings)
        await bot.read_until("bot running")
        # The crash may have come while an attempt held the e-mail: then it waits for that
        # claim's lease (CLAIM_LEASE) to run out.
        email = await smtp.wait_for_message(timeout=CLAIM_LEASE.total_seconds() + 15)
        assert email["To"] == "espera@gmail.com"
        assert link in email.get_body(("plain",)).get_content()
        await asyncio.sleep(1)
        assert len(smtp.messages) == 1, "sent once, not once per attempt"
        assert await bot.stop() == 0
    finally:
        await smtp.stop()


async def test_an_email_the_bot_was_sending_when_it_crashed_is_sent_after_the_restart(
    start_process, environment, telegram: LocalBotApi
) -> None:
    # The bot is mid-send, holding the e-mail's claim, when it is killed.
    async with hanging_server() as hanging:
        smtp_port = hanging.port
        settings = environment(SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp_port))
        bot = await start_process(settings)
        await bot.read_until("bot running")
        user = telegram.user(user_id=8202)
        _, link = await create_account(user, "enviando@gmail.com")
        await asyncio.wait_for(hanging.connected.wait(), 10)
        bot.process.kill()
        await bot.process.wait()

    smtp = SmtpServer(port=smtp_port)
    await smtp.start()
    try:
        started = time.monotonic()
        bot = await start_process(settings)
        await bot.read_until("bot running")
        email = await smtp.wait_for_message(timeout=CLAIM_LEASE.total_seconds() + 15)
        # Not the minutes of a long lease: the claim of the dead process ran out within one.
        assert time.monotonic() - started < CLAIM_LEASE.total_seconds() + 10
        assert link in email.get_body(("plain",)).get_content()
        assert await bot.stop() == 0
    finally:
        await smtp.stop()
