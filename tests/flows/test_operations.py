"""What running the bot for real brings: Telegram redelivering an update, a flood of messages,
/reenviar, a mail server that refuses or is down, /healthz, the webhook, drafts left too long,
and a restart in the middle of a registration. All end to end: the real Application against
the Bot API stand-in, a real SMTP server, a real database, the links opened over HTTP."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from sqlalchemy import update
from sqlmodel import col, select

from bot.devtools.local_telegram import LocalBotApi
from bot.runtime.running import RunningBot, webhook_secret
from bot.storage import OutboxEmail, RegistrationDraft, utcnow
from tests.support.bot import BotUnderTest
from tests.support.chat import (
    LINK_BUTTON,
    answer,
    buttons_of,
    command_update,
    create_account,
    eventually,
    fill_form,
    finish_form,
    press,
    sent_to,
    settle,
    texts_of,
    to_the_country,
    to_the_password,
    url_buttons_of,
)
from tests.support.smtp_server import SmtpServer, unused_port

# Retries fast enough that a test sees several of them in a second or two.
FAST_RETRY = {"outbox_retry_base_seconds": 0.1, "outbox_retry_cap_seconds": 0.5}


# --- helpers ----------------------------------------------------------------------------------


async def outbox_rows(running: RunningBot) -> list[OutboxEmail]:
    assert running.services is not None
    async with running.services.database.session() as session:
        found = await session.exec(select(OutboxEmail).order_by(col(OutboxEmail.id)))
        return list(found.all())


def plain_body(email: EmailMessage) -> str:
    part = email.get_body(("plain",))
    assert part is not None
    return part.get_content()


# --- 1. a redelivered update ------------------------------------------------------------------


async def test_a_redelivered_answer_is_not_taken_as_the_next_one(
    running_bot: RunningBot, telegram: LocalBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    user = telegram.user(user_id=11001)
    await answer(user, "/crear_cuenta", "Paso 1 de 9")
    await answer(user, "María José", "Paso 2 de 9")
    before = len(user.bot_messages)

    user.redeliver_last()
    async with asyncio.timeout(5):
        while "delivered again" not in caplog.text:
            await asyncio.sleep(0.05)
    await settle(user, quiet=1.0)
    assert not any("Paso 3" in text for text in texts_of(user)), texts_of(user)
    assert len(user.bot_messages) == before

    await answer(user, "Pérez", "Paso 3 de 9")
    await press(user, "No tiene segundo apellido", "Paso 4 de 9")
    await answer(user, "23-04-2015", "Paso 5 de 9")
    review = await finish_form(user, "redelivery@gmail.com")
    assert "Nombre: María José" in review["text"]
    assert "Apellido Paterno: Pérez" in review["text"]


# --- 2. a flood -------------------------------------------------------------------------------


async def test_a_flood_is_cut_short_politely_and_others_are_still_answered(
    running_bot: RunningBot, telegram: LocalBotApi
) -> None:
    flooder = telegram.user(user_id=12001)
    other = telegram.user(user_id=12002)
    for n in range(45):
        await flooder.send(f"hola {n}")
    await other.send("/start")

    welcome = await other.wait_for(lambda m: "Niñez Migrante" in m["text"], timeout=5)
    assert "Crear cuenta" in buttons_of(welcome)

    await settle(flooder)
    warnings = [text for text in texts_of(flooder) if "muchos mensajes" in text]
    assert len(warnings) == 1, texts_of(flooder)
    assert "Recibí muchos mensajes seguidos" in warnings[0]
    assert len(flooder.bot_messages) < 45


async def test_a_flood_of_edits_is_cut_short_as_one_of_messages_is(
    running_bot: RunningBot, telegram: LocalBotApi
) -> None:
    # At the summary every edit is checked against the password's hash (an Argon2 verify):
    # edits pass the same gate as messages, or a script could keep the hashing busy.
    user = telegram.user(user_id=12003)
    named, _ = await to_the_country(user)
    await finish_form(user, "edita.mucho@gmail.com")
    for n in range(45):
        await user.edit(named, f"María José {n}")
    await user.wait_for(lambda m: "muchos mensajes" in m["text"], timeout=20)
    await settle(user)
    warnings = [text for text in texts_of(user) if "muchos mensajes" in text]
    assert len(warnings) == 1, texts_of(user)[-5:]
    # The form is where it was.
    await press(user, "Crear cuenta", "/validate/")


async def test_a_password_sent_in_a_flood_is_deleted_though_it_is_not_read(
    running_bot: RunningBot, telegram: LocalBotApi
) -> None:
    user = telegram.user(user_id=12004)
    await to_the_password(user, "flood.clave@gmail.com")
    for n in range(31):
        await user.send(f"intento {n}")
    dropped = await user.send("MiClaveDuranteElFlood")
    await user.wait_for(lambda m: "muchos mensajes" in m["text"], timeout=20)
    await settle(user)
    assert dropped["message_id"] in user.deleted_message_ids


# --- 2b. families side by side ----------------------------------------------------------------


async def test_a_family_waiting_on_telegram_does_not_hold_back_another(
    running_bot: RunningBot, telegram: LocalBotApi
) -> None:
    slow = telegram.user(user_id=12101)
    quick = telegram.user(user_id=12102)
    telegram.slow_chats[slow.id] = 3.0  # a bad connection, or a group at its rate limit
    await slow.send("/start")
    async with asyncio.timeout(5):
        while not any(
            str(params.get("chat_id")) == str(slow.id) for _, params in telegram.requests
        ):
            await asyncio.sleep(0.02)  # the bot is now waiting on Telegram for that chat

    loop = asyncio.get_running_loop()
    asked = loop.time()
    welcome = await quick.reply("/start")
    assert "Niñez Migrante" in welcome["text"]
    assert loop.time() - asked < 2.0
    assert not slow.bot_messages  # still on its way

    assert "Niñez Migrante" in (await slow.wait_for(timeout=10))["text"]


async def test_answers_typed_ahead_are_taken_in_order(
    running_bot: RunningBot, telegram: LocalBotApi
) -> None:
    user = telegram.user(user_id=12201)
    # Without waiting for the questions: each answer must still meet its own field.
    for text in ("/crear_cuenta", "María José", "Pérez", "Rojas", "23-04-2015"):
        await user.send(text)
    await user.wait_for(lambda m: "Paso 5 de 9" in m["text"])
    await settle(user)
    steps = [text.split("Paso ")[1][:6] for text in texts_of(user) if "Paso " in text]
    assert steps == ["1 de 9", "2 de 9", "3 de 9", "4 de 9", "5 de 9"], texts_of(user)
    review = await finish_form(user, "en.orden@gmail.com")
    for line in ("Nombre: María José", "Apellido Paterno: Pérez", "Apellido Materno: Rojas"):
        assert line in review["text"]
    assert "23-04-2015" in review["text"]


async def test_many_families_registering_at_once_each_get_their_account(
    running_bot: RunningBot, telegram: LocalBotApi, smtp: SmtpServer
) -> None:
    # Their updates run side by side, each transaction on its own connection: on SQLite too,
    # none may fail with "database is locked", and none may take another's answers.
    async def register(n: int) -> str:
        user = telegram.user(user_id=12300 + n)
        _, link = await create_account(user, f"familia.{n}@gmail.com", link_within=30)
        return link

    links = await asyncio.gather(*(register(n) for n in range(12)))
    assert len(set(links)) == 12
    received = {}
    for _ in range(12):
        email = await smtp.wait_for_message(timeout=30)
        received[email["To"]] = plain_body(email)
    for n, link in enumerate(links):
        assert link in received[f"familia.{n}@gmail.com"]


async def test_two_families_creating_one_address_at_the_same_moment_get_one_account(
    running_bot: RunningBot, telegram: LocalBotApi, smtp: SmtpServer
) -> None:
    first, second = telegram.user(user_id=12401), telegram.user(user_id=12402)
    # Neither address has an account yet when each family gives it.
    await asyncio.gather(
        fill_form(first, email="una.sola@gmail.com"), fill_form(second, email="una.sola@gmail.com")
    )
    await asyncio.gather(first.press("Crear cuenta"), second.press("Crear cuenta"))

    def outcome(message: dict) -> bool:
        return "/validate/" in message["text"] or "ya tiene una cuenta" in message["text"]

    answers = await asyncio.gather(first.wait_for(outcome), second.wait_for(outcome))
    linked = [m for m in answers if "/validate/" in m["text"]]
    refused = [m for m in answers if "ya tiene una cuenta" in m["text"]]
    assert len(linked) == 1 and len(refused) == 1, [m["text"] for m in answers]
    assert "Escriba otro correo electrónico" in refused[0]["text"]
    await smtp.wait_for_message()
    await asyncio.sleep(0.5)
    assert len(smtp.messages) == 1


# --- 3. /reenviar -----------------------------------------------------------------------------


async def test_resend_gives_a_new_link_and_the_old_one_stops_working(
    running_bot: RunningBot, telegram: LocalBotApi, smtp: SmtpServer
) -> None:
    nobody = telegram.user(user_id=13000)
    no_account = await nobody.reply("/reenviar")
    assert "/crear_cuenta" in no_account["text"]

    user = telegram.user(user_id=13001)
    _, old_link = await create_account(user, "reenviar@gmail.com")
    first_email = await smtp.wait_for_message()
    assert old_link in plain_body(first_email)

    fresh = await user.reply("/reenviar")
    new_link = url_buttons_of(fresh)[LINK_BUTTON]
    assert new_link != old_link
    assert new_link in fresh["text"] and "/validate/" in new_link
    second_email = await smtp.wait_for_message()
    assert second_email["To"] == "reenviar@gmail.com"
    assert new_link in plain_body(second_email) and old_link not in plain_body(second_email)

    async with httpx.AsyncClient() as client:
        old = await client.get(old_link)
        assert old.status_code == 404
        new = await client.get(new_link)
        assert new.status_code == 200 and "correctamente verificada" in new.text

    await user.wait_for(lambda m: "Estado de cuenta: Verificado" in m["text"])
    already = await user.reply("/reenviar")
    assert "ya está verificada" in already["text"]
    assert "/validate/" not in already["text"]


async def test_resend_is_limited_per_hour(
    bot_runner: BotUnderTest, make_settings, telegram: LocalBotApi, smtp: SmtpServer
) -> None:
    running = await bot_runner.start(make_settings(resend_limit_per_hour=1))
    user = telegram.user(user_id=13101)
    await create_account(user, "limite@gmail.com")
    await smtp.wait_for_message()

    fresh = await user.reply("/reenviar")
    assert LINK_BUTTON in url_buttons_of(fresh)
    await smtp.wait_for_message()

    too_soon = await user.reply("/reenviar")
    assert "minutos" in too_soon["text"], too_soon["text"]
    assert "/validate/" not in too_soon["text"]
    minutes = int(re.search(r"(\d+) minutos", too_soon["text"]).group(1))  # type: ignore[union-attr]
    assert 1 <= minutes <= 60

    await settle(user)
    assert len(smtp.envelopes) == 2
    assert len(await outbox_rows(running)) == 2


# --- 4. the mail server refuses ---------------------------------------------------------------


async def test_a_refused_address_is_told_in_the_chat(
    bot_runner: BotUnderTest, make_settings, telegram: LocalBotApi
) -> None:
    refusing = SmtpServer(reject_code=550, reject_message="5.1.1 No such user here")
    await refusing.start()
    try:
        running = await bot_runner.start(make_settings(smtp_port=refusing.port, **FAST_RETRY))
        user = telegram.user(user_id=14001)
        await create_account(user, "no.existe@gmail.com")

        told = await user.wait_for(lambda m: "no existe" in m["text"], timeout=5)
        assert "no.existe@gmail.com" in told["text"] and "Revise" in told["text"]

        async def failed() -> bool:
            rows = await outbox_rows(running)
            return len(rows) == 1 and rows[0].status == "failed"

        await eventually(failed)
        assert refusing.envelopes == []
    finally:
        await bot_runner.stop()
        await refusing.stop()


async def test_a_temporary_refusal_is_retried_quietly(
    bot_runner: BotUnderTest, make_settings, telegram: LocalBotApi
) -> None:
    busy = SmtpServer(reject_code=451, reject_message="4.3.0 Try again later")
    await busy.start()
    try:
        running = await bot_runner.start(make_settings(smtp_port=busy.port, **FAST_RETRY))
        user = telegram.user(user_id=14101)
        await create_account(user, "ocupado@gmail.com")

        async def retried() -> bool:
            rows = await outbox_rows(running)
            return len(rows) == 1 and rows[0].attempts >= 3

        await eventually(retried)
        (row,) = await outbox_rows(running)
        assert row.status == "pending"
        assert not any("No pudimos" in text for text in texts_of(user)), texts_of(user)
    finally:
        await bot_runner.stop()
        await busy.stop()


# --- 5 and 6. the mail server is down, then comes back; /healthz ------------------------------


async def test_an_email_waits_for_the_mail_server_and_is_sent_once(
    bot_runner: BotUnderTest, make_settings, telegram: LocalBotApi
) -> None:
    port = unused_port()
    running = await bot_runner.start(make_settings(smtp_port=port, **FAST_RETRY))
    server = SmtpServer(port=port)
    try:
        user = telegram.user(user_id=15001)
        _, link = await create_account(user, "espera@gmail.com")

        async def tried() -> bool:
            rows = await outbox_rows(running)
            return len(rows) == 1 and rows[0].attempts >= 1

        await eventually(tried)
        (row,) = await outbox_rows(running)
        assert row.status == "pending"

        await server.start()
        email = await server.wait_for_message(timeout=5)
        assert email["To"] == "espera@gmail.com"
        assert link in plain_body(email)
        await asyncio.sleep(1.0)
        assert len(server.envelopes) == 1
        (row,) = await outbox_rows(running)
        assert row.status == "sent"
    finally:
        await bot_runner.stop()
        await server.stop()


async def test_healthz_reports_the_database_and_the_waiting_emails(
    bot_runner: BotUnderTest, make_settings, telegram: LocalBotApi
) -> None:
    port = unused_port()
    running = await bot_runner.start(make_settings(smtp_port=port, **FAST_RETRY))
    server = SmtpServer(port=port)
    try:
        async with httpx.AsyncClient() as client:
            health = await client.get(running.link_base + "/healthz")
            assert health.status_code == 200
            assert health.json() == {"ok": True, "database": "ok", "outbox_pending": 0}

            user = telegram.user(user_id=16001)
            await create_account(user, "salud@gmail.com")
            health = await client.get(running.link_base + "/healthz")
            assert health.status_code == 200
            payload = health.json()
            assert payload["ok"] is True and payload["database"] == "ok"
            assert type(payload["outbox_pending"]) is int and payload["outbox_pending"] == 1

            await server.start()
            await server.wait_for_message(timeout=5)

            async def nothing_pending() -> bool:
                found = (await client.get(running.link_base + "/healthz")).json()
                return found["outbox_pending"] == 0

            await eventually(nothing_pending)
            health = await client.get(running.link_base + "/healthz")
            assert health.status_code == 200 and health.json()["ok"] is True
    finally:
        await bot_runner.stop()
        await server.stop()


# --- 7. the webhook ---------------------------------------------------------------------------


async def test_updates_arrive_by_webhook_with_the_secret(
    bot_runner: BotUnderTest, make_settings, telegram: LocalBotApi
) -> None:
    port = unused_port()
    url = f"http://127.0.0.1:{port}/telegram/webhook"
    settings = make_settings(webhook_url=url, web_port=port)
    await bot_runner.start(settings)
    secret = webhook_secret(settings, telegram.token)

    registered = [params for method, params in telegram.requests if method == "setWebhook"]
    assert registered and registered[-1]["url"] == url
    assert registered[-1]["secret_token"] == secret
    assert telegram.webhook["url"] == url

    user = telegram.user(user_id=17001)
    good = {"X-Telegram-Bot-Api-Secret-Token": secret}
    async with httpx.AsyncClient() as client:
        response = await client.post(url, json=command_update(1, user, "/start"), headers=good)
        assert response.status_code == 200
        welcome = await user.wait_for(lambda m: "Niñez Migrante" in m["text"], timeout=5)
        assert "Crear cuenta" in buttons_of(welcome)
        assert len(sent_to(telegram, user.id)) == 1

        unsigned = await client.post(url, json=command_update(2, user, "/start"))
        assert unsigned.status_code == 403
        forged = await client.post(
            url,
            json=command_update(3, user, "/start"),
            headers={"X-Telegram-Bot-Api-Secret-Token": "not-the-secret"},
        )
        assert forged.status_code == 403
        await asyncio.sleep(0.7)
        assert len(sent_to(telegram, user.id)) == 1

        twice = command_update(4, user, "/ayuda")
        for _ in range(2):
            again = await client.post(url, json=twice, headers=good)
            assert again.status_code == 200
        await user.wait_for(lambda m: "Esto es lo que puedo hacer" in m["text"], timeout=5)
        await settle(user)
        helps = [t for t in texts_of(user) if "Esto es lo que puedo hacer" in t]
        assert len(helps) == 1
        assert len(sent_to(telegram, user.id)) == 2


# --- 8. a draft left too long -----------------------------------------------------------------


async def test_a_draft_left_too_long_is_forgotten_and_the_family_told_once(
    running_bot: RunningBot, telegram: LocalBotApi
) -> None:
    user = telegram.user(user_id=18001)
    await answer(user, "/crear_cuenta", "Paso 1 de 9")
    await answer(user, "Jean Olivier", "Paso 2 de 9")
    await answer(user, "Baptiste", "Paso 3 de 9")

    assert running_bot.services is not None and running_bot.application is not None
    async with running_bot.services.database.session() as session:
        await session.exec(
            update(RegistrationDraft)
            .where(col(RegistrationDraft.telegram_user_id) == user.id)
            .values(updated_at=utcnow() - timedelta(days=31))
        )
        await session.commit()
    job_queue = running_bot.application.job_queue
    assert job_queue is not None
    job = job_queue.get_jobs_by_name("sweep")[0]
    await job.run(running_bot.application)

    told = await user.reply("Dorval")
    assert "días" in told["text"] and "/crear_cuenta" in told["text"], told["text"]
    assert "30 días" in told["text"]
    await settle(user)
    assert sum("por más de" in text for text in texts_of(user)) == 1

    review = await fill_form(user, email="vuelve@gmail.com")
    for old in ("Jean Olivier", "Baptiste", "Dorval"):
        assert old not in review["text"]
    assert "María José" in review["text"]

    # Told once: writing again brings no second notice.
    await user.reply("/cancelar")
    await settle(user)
    assert sum("por más de" in text for text in texts_of(user)) == 1


# --- 9. a restart in the middle of a registration ---------------------------------------------


async def test_a_registration_goes_on_after_a_restart(
    bot_runner: BotUnderTest, make_settings, telegram: LocalBotApi
) -> None:
    await bot_runner.start(make_settings())
    user = telegram.user(user_id=19001)
    await answer(user, "/crear_cuenta", "Paso 1 de 9")
    await answer(user, "Rose Marie", "Paso 2 de 9")
    await answer(user, "Joseph", "Paso 3 de 9")
    await answer(user, "Louis", "Paso 4 de 9")

    await bot_runner.stop()
    await bot_runner.start(make_settings())

    step5 = await answer(user, "23-04-2015", "Paso 5 de 9")
    assert "Paso 4" not in step5["text"]


async def test_healthz_says_so_when_the_database_file_is_deleted_under_the_bot(
    bot_runner: BotUnderTest,
    make_settings,
    data_dir: Path,
    database_url: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL's files are the server's")
    running = await bot_runner.start(make_settings())
    async with httpx.AsyncClient() as client:
        assert (await client.get(running.link_base + "/healthz")).status_code == 200
        # A deploy script that empties the data folder: SQLite goes on writing to the files it
        # holds open, which nothing opens again.
        for path in data_dir.glob("*.sqlite3*"):
            path.unlink()
        health = await client.get(running.link_base + "/healthz")
        again = await client.get(running.link_base + "/healthz")
    assert health.status_code == again.status_code == 503
    assert health.json() == again.json() == {"ok": False, "database": "file gone"}
    # Said once in the log, not at every probe.
    gone = [r for r in caplog.records if "is gone or was replaced" in r.getMessage()]
    assert len(gone) == 1 and gone[0].levelname == "ERROR"
