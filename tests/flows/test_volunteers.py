"""Volunteers answer families through the bot, end to end: a family's question reaches the
volunteers' group (a forum topic per ticket, or a plain group), a volunteer's answer reaches the
family signed by the team, and the volunteers' commands work only for them."""

from __future__ import annotations

import json

import pytest

from bot.devtools.local_telegram import LocalBotApi
from tests.support.bot import BotUnderTest
from tests.support.chat import GROUP, answer, buttons_of, in_group, open_ticket


@pytest.fixture
async def bot(bot_runner: BotUnderTest, make_settings) -> BotUnderTest:
    await bot_runner.start(make_settings(volunteers_chat_id=GROUP))
    return bot_runner


async def test_a_question_and_its_answer_travel_through_a_forum_topic(
    bot: BotUnderTest, telegram: LocalBotApi
) -> None:
    group, volunteer = in_group(telegram, forum=True)
    family = telegram.user(user_id=7301, first_name="Rose")

    opened = await family.reply("/voluntario")
    assert "número 1" in opened["text"] and "Cerrar consulta" in buttons_of(opened)
    header = await group.wait_for(lambda m: "Consulta #1" in (m.get("text") or ""))
    thread = header["message_thread_id"]
    assert group.topics[thread]["name"] == "#1 Rose"
    assert "Rose" in header["text"] and "Situación" in header["text"]

    await family.send("¿Qué documento uso para mi hija?")
    question = await group.wait_for(lambda m: m.get("text") == "¿Qué documento uso para mi hija?")
    assert question["message_thread_id"] == thread
    assert "Recibido" in (await family.wait_for())["text"]

    await family.send_photo(caption="Este es el pasaporte")
    photo = await group.wait_for(lambda m: "photo" in m)
    assert photo["caption"] == "Este es el pasaporte"

    await volunteer.send_in(group, "Use el pasaporte de la niña.", thread_id=thread)
    reply = await family.wait_for()
    assert "Equipo de voluntarios de Niñez Migrante" in reply["text"]
    assert "Use el pasaporte de la niña." in reply["text"]
    assert "Camila" not in reply["text"]

    kept = await family.reply("/bandeja")
    assert "Use el pasaporte de la niña." in kept["text"]

    await volunteer.send_voice_in(group, thread_id=thread)
    voice = await family.wait_for(lambda m: "voice" in m)
    assert "Equipo de voluntarios" in voice.get("caption", "")

    pending = await volunteer.send_in(group, "/pendientes")
    listing = await group.wait_for()
    assert "#1 Rose" in listing["text"] and "respondida" in listing["text"]
    assert pending

    await volunteer.send_in(group, "/cerrar", thread_id=thread)
    closed = await family.wait_for(lambda m: "cerró su consulta" in (m.get("text") or ""))
    assert "Sí, me ayudaron" in buttons_of(closed)
    assert group.topics[thread]["closed"]
    await family.press("Sí, me ayudaron")
    assert "Gracias" in (await family.wait_for())["text"]

    # With the ticket closed, the family's messages no longer go to the group.
    before = len(group.bot_messages)
    await family.reply("hola")
    assert len(group.bot_messages) == before


async def test_a_volunteer_quicker_than_the_bots_own_record_still_reaches_the_family(
    bot: BotUnderTest, telegram: LocalBotApi
) -> None:
    group, volunteer = in_group(telegram, forum=False)
    family = telegram.user(user_id=7310, first_name="Mireille")
    await open_ticket(family, group)
    # The question shows in the group at once, but the bot hears so only a second later, and
    # only then records which ticket it belongs to; the volunteer answers meanwhile.
    telegram.late_chats[group.id] = 1.0
    await family.send("¿Dónde se pide la residencia?")
    question = await group.wait_for(lambda m: m.get("text") == "¿Dónde se pide la residencia?")
    await volunteer.send_in(group, "En el portal, con la cuenta validada.", reply_to=question)
    answer = await family.wait_for(lambda m: "En el portal" in (m.get("text") or ""))
    assert "Equipo de voluntarios de Niñez Migrante" in answer["text"]


async def test_an_answer_is_in_the_inbox_as_soon_as_the_family_can_read_it(
    bot: BotUnderTest, telegram: LocalBotApi
) -> None:
    group, volunteer = in_group(telegram, forum=True)
    family = telegram.user(user_id=7311, first_name="Wilner")
    header = await open_ticket(family, group)
    # The answer reaches the family at once; the bot hears that it did a second later.
    telegram.late_chats[family.id] = 1.0
    await volunteer.send_in(
        group, "Traiga el certificado de nacimiento.", thread_id=header["message_thread_id"]
    )
    await family.wait_for(lambda m: "certificado de nacimiento" in (m.get("text") or ""))
    kept = await family.reply("/bandeja")
    assert "Traiga el certificado de nacimiento." in kept["text"]


async def test_a_plain_group_answers_by_replying_and_the_mapping_survives_a_restart(
    bot: BotUnderTest, telegram: LocalBotApi, make_settings
) -> None:
    group, volunteer = in_group(telegram, forum=False)
    family = telegram.user(user_id=7302, first_name="Jean")
    header = await open_ticket(family, group)
    assert "Respondan a este mensaje" in header["text"]
    await family.send("No me llega el correo")
    question = await group.wait_for(lambda m: m.get("text") == "No me llega el correo")
    assert question["reply_to_message"]["message_id"] == header["message_id"]

    await bot.stop()
    await bot.start(make_settings(volunteers_chat_id=GROUP))

    await volunteer.send_in(group, "Revise la carpeta de spam.", reply_to=question)
    reply = await family.wait_for(lambda m: "spam" in (m.get("text") or ""))
    assert reply["text"].startswith("Equipo de voluntarios de Niñez Migrante:")

    # Volunteers talking among themselves reach nobody.
    await volunteer.send_in(group, "¿Alguien toma la #2?")
    await volunteer.send_in(group, "/pendientes")
    await group.wait_for(lambda m: "#1 Jean" in (m.get("text") or ""))
    assert not any("Alguien" in (m.get("text") or "") for m in family.bot_messages)


async def test_volunteer_commands_are_refused_outside_the_group_and_to_non_members(
    bot: BotUnderTest, telegram: LocalBotApi
) -> None:
    group, _volunteer = in_group(telegram, forum=True)
    family = telegram.user(user_id=7303)
    for command in ("/pendientes", "/estadisticas", "/cerrar", "/bloquear"):
        refused = await family.reply(command)
        assert "solo para el equipo de voluntarios" in refused["text"]
    stranger = telegram.user(user_id=7304)
    await stranger.send_in(group, "/estadisticas")
    refused = await group.wait_for()
    assert "solo para el equipo de voluntarios" in refused["text"]


async def test_statistics_count_what_happened(bot: BotUnderTest, telegram: LocalBotApi) -> None:
    group, volunteer = in_group(telegram, forum=True)
    family = telegram.user(user_id=7305, first_name="Ana")
    await answer(family, "/crear_cuenta", "Paso 1 de 9")
    header = await open_ticket(family, group)
    assert "paso 1 de 9" in header["text"]
    await family.send("Tengo una duda")
    await group.wait_for(lambda m: m.get("text") == "Tengo una duda")
    await volunteer.send_in(group, "Dígame", thread_id=header["message_thread_id"])
    await family.wait_for(lambda m: "Dígame" in (m.get("text") or ""))

    await volunteer.send_in(group, "/estadisticas")
    stats = await group.wait_for(lambda m: "Estadísticas" in (m.get("text") or ""))
    text = stats["text"]
    assert "Últimos 7 días:" in text and "Últimos 30 días:" in text
    assert "Cuentas empezadas: 1" in text
    assert "Cuentas creadas: 0" in text
    assert "Consultas abiertas: 1" in text
    assert "Mediana hasta la primera respuesta: 0 min" in text


async def test_a_ticket_in_the_middle_of_a_registration_loses_nothing(
    bot: BotUnderTest, telegram: LocalBotApi
) -> None:
    group, _volunteer = in_group(telegram, forum=True)
    family = telegram.user(user_id=7306)
    await answer(family, "/crear_cuenta", "Paso 1 de 9")
    await answer(family, "Luz Marina", "Paso 2 de 9")
    await family.reply("/voluntario")
    await family.send("¿El apellido va con tilde?")
    await group.wait_for(lambda m: m.get("text") == "¿El apellido va con tilde?")
    await family.wait_for()
    back = await family.reply("/cancelar")
    assert "Consulta cerrada" in back["text"]
    again = await family.wait_for(lambda m: "Paso 2 de 9" in (m.get("text") or ""))
    assert "Sigamos" in again["text"]
    await answer(family, "Pérez", "Paso 3 de 9")


async def test_blocked_sender_and_reminder(bot: BotUnderTest, telegram: LocalBotApi) -> None:
    group, volunteer = in_group(telegram, forum=True)
    family = telegram.user(user_id=7307, first_name="Nadia")
    header = await open_ticket(family, group)
    thread = header["message_thread_id"]

    assert bot.running is not None and bot.running.application is not None
    bot.running.settings.ticket_reminder_hours = 0.0001
    job = bot.running.application.job_queue.get_jobs_by_name("remind")[0]
    group.mark()
    await job.run(bot.running.application)
    raised = await group.wait_for(lambda m: "⏰" in (m.get("text") or ""))
    assert "#1" in raised["text"] and raised["message_thread_id"] == thread
    await job.run(bot.running.application)  # once only

    await volunteer.send_in(group, "/bloquear", thread_id=thread)
    assert "Bloqueado" in (await group.wait_for())["text"]
    refused = await family.reply("/voluntario")
    assert "No es posible" in refused["text"]
    assert sum("⏰" in (m.get("text") or "") for m in group.bot_messages) == 1


async def test_without_a_volunteers_group_the_family_is_told_where_to_ask(
    running_bot, telegram: LocalBotApi
) -> None:
    family = telegram.user(user_id=7308)
    told = await family.reply("/voluntario")
    assert "serviciomigraciones.cl" in told["text"]


async def test_the_volunteers_group_has_its_own_command_menu(
    bot: BotUnderTest, telegram: LocalBotApi
) -> None:
    scope = json.dumps({"type": "chat", "chat_id": GROUP}, sort_keys=True)
    names = [command["command"] for command in telegram.commands[(scope, "")]]
    assert names == ["pendientes", "cerrar", "estadisticas", "bloquear", "desbloquear"]
