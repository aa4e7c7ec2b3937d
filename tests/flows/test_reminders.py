"""Reminders in the chat, each once: to open the verification link (with a button for a new
one), and to finish a registration left halfway."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from bot.devtools.local_telegram import LocalBotApi
from bot.storage import Account, RegistrationDraft, utcnow
from tests.support.bot import BotUnderTest
from tests.support.chat import answer, create_account


async def run_reminders(bot: BotUnderTest) -> None:
    assert bot.running is not None and bot.running.application is not None
    job_queue = bot.running.application.job_queue
    assert job_queue is not None
    (job,) = job_queue.get_jobs_by_name("reminders")
    await job.run(bot.running.application)


async def backdate(bot: BotUnderTest, hours: float) -> None:
    """As if `hours` had passed since every account was made and every draft touched."""
    assert bot.running is not None and bot.running.services is not None
    past = utcnow() - timedelta(hours=hours)
    async with bot.running.services.database.session() as session:
        await session.exec(update(Account).values(created_at=past))
        await session.exec(update(RegistrationDraft).values(updated_at=past))
        await session.commit()


async def test_an_unverified_account_is_reminded_once_with_a_button_for_a_new_link(
    bot_runner: BotUnderTest, make_settings, telegram: LocalBotApi
) -> None:
    await bot_runner.start(make_settings(unverified_reminder_hours=1.5))
    family = telegram.user(user_id=7951)
    _done, first_link = await create_account(family, "recordar.cuenta@gmail.com")
    await backdate(bot_runner, 1.4)
    await run_reminders(bot_runner)
    await backdate(bot_runner, 1.6)
    family.mark()
    await run_reminders(bot_runner)
    reminded = await family.wait_for(lambda m: "Todavía no validó" in (m.get("text") or ""))
    assert "recordar.cuenta@gmail.com" in reminded["text"] and "spam" in reminded["text"]
    await run_reminders(bot_runner)  # once only, also after a restart
    await bot_runner.stop()
    await bot_runner.start(make_settings(unverified_reminder_hours=1.5))
    await run_reminders(bot_runner)
    assert sum("Todavía no validó" in (m.get("text") or "") for m in family.bot_messages) == 1

    await family.press("Recibir un enlace nuevo", message=reminded)
    fresh = await family.wait_for(lambda m: "/validate/" in (m.get("text") or ""))
    assert first_link not in fresh["text"]


async def test_an_unfinished_registration_is_reminded_once_and_goes_on_where_it_was(
    bot_runner: BotUnderTest, make_settings, telegram: LocalBotApi
) -> None:
    await bot_runner.start(make_settings(draft_reminder_hours=0.5))
    family = telegram.user(user_id=7952)
    await answer(family, "/crear_cuenta", "Paso 1 de 9")
    await answer(family, "Rose", "Paso 2 de 9")
    await backdate(bot_runner, 0.6)
    family.mark()
    await run_reminders(bot_runner)
    reminded = await family.wait_for(lambda m: "a medio camino" in (m.get("text") or ""))
    assert "paso 2 de 9" in reminded["text"]
    await run_reminders(bot_runner)
    await family.press("Seguir con la cuenta", message=reminded)
    await family.wait_for(lambda m: "Paso 2 de 9" in (m.get("text") or ""))
    assert sum("a medio camino" in (m.get("text") or "") for m in family.bot_messages) == 1
