"""Issue #7 end to end: what a family is told when something fails, when an account it never
validated is about to go, and when it has made as many accounts as one Telegram user may. The
real Application against the Bot API stand-in, a real SMTP server, a real database."""

from __future__ import annotations

from sqlalchemy import text

from bot.local_telegram import LocalBotApi
from tests.conftest import BotUnderTest
from tests.test_registration_flow import answer


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
