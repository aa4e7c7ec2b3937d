"""Who the bot trusts, tried as an attacker would through the Bot API stand-in: only the
volunteers' group speaks for the volunteers, families are served in their private chat only,
an edit is not an answer, and no button (forged, stale or another's) can break anything."""

from __future__ import annotations

import asyncio
import random
import string

import pytest

from bot.devtools.local_telegram import LocalBotApi, LocalGroup, LocalUser
from tests.support.bot import BotUnderTest
from tests.support.chat import (
    GROUP,
    PASSWORD,
    VOLUNTEER,
    answer,
    create_account,
    fill_form,
    in_group,
    open_ticket,
    press,
)

STRANGERS = -1_005_555_555_555
SCAM = "Para terminar deposite 50000 pesos y envíenos su contraseña"


@pytest.fixture
async def bot(bot_runner: BotUnderTest, make_settings) -> BotUnderTest:
    await bot_runner.start(make_settings(volunteers_chat_id=GROUP))
    return bot_runner


async def quiet(*chats: LocalUser | LocalGroup, seconds: float = 0.7) -> None:
    """Gives the bot time to do whatever it would do (here: nothing)."""
    await asyncio.sleep(seconds)


def texts_in(chat: LocalUser | LocalGroup) -> list[str]:
    return [m.get("text") or m.get("caption") or "" for m in chat.bot_messages]


async def never_reaches(family: LocalUser, text: str) -> None:
    await quiet(family)
    assert not any(text in said for said in texts_in(family))


async def test_a_strangers_forum_with_the_same_topic_numbers_cannot_speak_to_a_family(
    bot: BotUnderTest, telegram: LocalBotApi
) -> None:
    group, volunteer = in_group(telegram, forum=True)
    family = telegram.user(user_id=7401, first_name="Rose")
    header = await open_ticket(family, group)
    thread = header["message_thread_id"]
    strangers = telegram.group(STRANGERS, "Comunidad", forum=True)
    stranger = telegram.user(user_id=7499, first_name="Estafador")
    strangers.add_member(stranger.id)
    strangers.topics[thread] = {"name": "mismo número", "closed": False}
    family.mark()

    await stranger.send_in(strangers, SCAM, thread_id=thread)
    await quiet(family)

    assert not any(SCAM in text for text in texts_in(family))
    assert not strangers.bot_messages
    assert "vacía" in (await family.reply("/bandeja"))["text"]
    await volunteer.send_in(group, "/pendientes")
    listing = await group.wait_for(lambda m: "#1 Rose" in (m.get("text") or ""))
    assert "sin respuesta" in listing["text"]

    # The ticket closed, the stranger's group still learns nothing of it.
    await volunteer.send_in(group, "/cerrar", thread_id=thread)
    await family.wait_for(lambda m: "cerró su consulta" in (m.get("text") or ""))
    await stranger.send_in(strangers, SCAM, thread_id=thread)
    await stranger.send_in(strangers, "/cerrar", thread_id=thread)
    await quiet(strangers)
    assert not any("#1" in text for text in texts_in(strangers))
    assert len(strangers.bot_messages) <= 1 and strangers.left_by_bot


async def test_a_community_group_gets_one_line_no_data_and_the_bot_leaves(
    bot: BotUnderTest, telegram: LocalBotApi
) -> None:
    family = telegram.user(user_id=7402, first_name="Wilner")
    await create_account(family, "wilner.joseph@gmail.com")
    community = telegram.group(STRANGERS, "Haitianos en Santiago", members=[family.id])

    for command in ("/reenviar", "/start", "/crear_cuenta", "/bandeja", "/voluntario"):
        await family.send_in(community, command)
    await quiet(community)

    said = texts_in(community)
    assert len(said) == 1, said
    assert "t.me/NinezMigranteBot" in said[0] and "chat privado" in said[0]
    for secret in ("wilner.joseph", "María", "/validate/", "Pérez"):
        assert secret not in said[0]
    assert community.left_by_bot
    # Nothing started in the group reaches into the private chat.
    await answer(family, "/start", "wilner.joseph@gmail.com")


async def test_a_group_that_adds_the_bot_is_told_once_and_left(
    bot: BotUnderTest, telegram: LocalBotApi
) -> None:
    admin = telegram.user(user_id=7403)
    community = telegram.group(STRANGERS, "Vecinos", members=[admin.id])
    community.members[telegram.bot_id] = "left"
    community.add_bot(by=admin)
    await community.wait_for(lambda m: "t.me/NinezMigranteBot" in (m.get("text") or ""))
    await quiet(community)
    assert community.left_by_bot and len(community.bot_messages) == 1


async def test_the_registration_runs_only_in_the_private_chat(
    bot: BotUnderTest, telegram: LocalBotApi
) -> None:
    group, volunteer = in_group(telegram, forum=False)
    family = telegram.user(user_id=7404)
    await answer(family, "/crear_cuenta", "Paso 1 de 9")
    # In the volunteers' group a family's command is pointed away, and starts nothing there.
    await volunteer.send_in(group, "/crear_cuenta")
    pointed = await group.wait_for()
    assert "chat privado" in pointed["text"] and "Paso" not in pointed["text"]
    community = telegram.group(STRANGERS, "Comunidad", members=[family.id])
    await family.send_in(community, "/crear_cuenta")
    await quiet(community)
    await answer(family, "Rosa", "Paso 2 de 9")
    assert not any("Paso" in text for text in texts_in(community) + texts_in(group))


async def test_only_members_of_the_volunteers_group_answer_families(
    bot: BotUnderTest, telegram: LocalBotApi
) -> None:
    group, _volunteer = in_group(telegram, forum=True)
    family = telegram.user(user_id=7418)
    header = await open_ticket(family, group)
    passer_by = telegram.user(user_id=7419)  # a public group lets anyone write
    family.mark()
    await passer_by.send_in(group, SCAM, thread_id=header["message_thread_id"])
    refused = await group.wait_for()
    assert "Solo los miembros" in refused["text"]
    await never_reaches(family, SCAM)


async def test_an_anonymous_admin_gets_no_personal_service(
    bot: BotUnderTest, telegram: LocalBotApi
) -> None:
    group, _volunteer = in_group(telegram, forum=True)
    family = telegram.user(user_id=7405, first_name="Nadia")
    header = await open_ticket(family, group)
    admin = telegram.user(user_id=7406)
    group.add_member(admin.id, "administrator")
    family.mark()
    await admin.send_in(group, SCAM, thread_id=header["message_thread_id"], anonymous=True)
    await admin.send_in(group, "/pendientes", anonymous=True)
    refused = await group.wait_for()
    assert "anónimo" in refused["text"]
    await never_reaches(family, SCAM)


async def test_an_edited_answer_is_not_taken_and_the_family_is_told_once(
    bot: BotUnderTest, telegram: LocalBotApi
) -> None:
    family = telegram.user(user_id=7407)
    await answer(family, "/crear_cuenta", "Paso 1 de 9")
    first = await family.send("Juan")
    await family.wait_for(lambda m: "Paso 2 de 9" in m["text"])
    await family.edit(first, "Juana")
    told = await family.wait_for()
    assert "resumen" in told["text"] and "corregir" in told["text"]
    await family.edit(first, "Juanita")
    await quiet(family)
    assert len([t for t in texts_in(family) if "resumen con un botón" in t]) == 1
    await answer(family, "Pérez", "Paso 3 de 9")
    await press(family, "No tiene segundo apellido", "Paso 4 de 9")
    await answer(family, "23-04-2015", "Paso 5 de 9")
    await press(family, "Haití", "Paso 6 de 9")
    await answer(family, "juan.perez@gmail.com", "Paso 7 de 9")
    await answer(family, "juan.perez@gmail.com", "Paso 8 de 9")
    await answer(family, PASSWORD, "Paso 9 de 9")
    await answer(family, PASSWORD, "no es un robot")
    summary = await press(family, "No soy un robot", "Revise los datos")
    assert "Nombre: Juan\n" in summary["text"] and "Apellido Paterno: Pérez" in summary["text"]


async def test_a_volunteers_edit_does_not_reach_the_family_twice(
    bot: BotUnderTest, telegram: LocalBotApi
) -> None:
    group, volunteer = in_group(telegram, forum=True)
    family = telegram.user(user_id=7408)
    header = await open_ticket(family, group)
    sent = await volunteer.send_in(
        group, "Trauga el pasaporte", thread_id=header["message_thread_id"]
    )
    await family.wait_for(lambda m: "Trauga" in (m.get("text") or ""))
    await volunteer.edit(sent, "Traiga el pasaporte")
    note = await group.wait_for()
    assert "ediciones no llegan" in note["text"]
    await quiet(family)
    assert not any("Traiga" in text for text in texts_in(family))
    kept = await family.reply("/bandeja")
    assert kept["text"].count("pasaporte") == 1


def forged_data(rng: random.Random) -> str:
    """Random strings and near-valid ones, up to Telegram's 64 bytes."""
    near = [
        "pick:nombre:abc",
        "pick:nombre:-1",
        "pick:nombre:99999999999999999999",
        "pick::",
        "pick",
        "edit:correo_confirmacion",
        "edit:",
        "edit:nombre:x",
        "human:ok",
        "create",
        "cancel",
        "ticket:helped:1:1",
        "ticket:helped:x:1",
        "ticket:helped:99999999999:1",
        "inbox:2147483648",
        "ticket:helped:1",
        "ticket:close",
        "faq:",
        "faq:nada",
        "inbox:0",
        "inbox:abc",
        "inbox:99999",
        "pending:2",
        "menu:crear_cuenta",
        "menu:",
        "pick:contrasena:0",
        "edit:contrasena",
        "１２３",
        "pick:nombre:１",
    ]
    if rng.random() < 0.5:
        data = rng.choice(near)
        if rng.random() < 0.3:
            data += rng.choice([":", "::", ":0", "💥", " ", "\x00"])
    else:
        alphabet = string.printable + "ñé💥:"
        data = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
    while len(data.encode()) > 64:
        data = data[:-1]
    return data


async def test_forged_and_stale_buttons_never_raise_and_always_get_an_answer(
    bot: BotUnderTest, telegram: LocalBotApi
) -> None:
    rng = random.Random(7)
    family = telegram.user(user_id=7409)
    await answer(family, "/crear_cuenta", "Paso 1 de 9")
    for _ in range(60):
        before = len(family.callback_answers)
        await family.press_data(forged_data(rng))
        await family.wait_for()
        assert len(family.callback_answers) == before + 1
    stale = await family.press_data("edit:correo_confirmacion")
    assert stale
    assert "ya no sirve" in (await family.wait_for(lambda m: "ya no sirve" in m["text"]))["text"]
    # The registration is unharmed, whatever was pressed.
    await answer(family, "/cancelar", "cancelado")
    await fill_form(family, "otra.familia@gmail.com")
    for _ in range(40):
        await family.press_data(forged_data(rng))
        await family.wait_for()
    assert not bot.errors


async def test_a_press_without_data_is_a_stale_button_not_any_handlers_match(
    bot: BotUnderTest, telegram: LocalBotApi
) -> None:
    # python-telegram-bot matches a press without data against every pattern: the first
    # button handler (the password reset's) would have taken it and the next text with it.
    family = telegram.user(user_id=7412)
    await answer(family, "/crear_cuenta", "Paso 1 de 9")
    await family.press_data("")
    told = await family.wait_for()
    assert "ya no sirve" in told["text"] and "Paso 1 de 9" in told["text"]
    assert len(family.callback_answers) == 1
    await answer(family, "María José", "Paso 2 de 9")  # still the form's answer
    assert not bot.errors


async def test_a_button_of_another_familys_ticket_changes_nothing(
    bot: BotUnderTest, telegram: LocalBotApi
) -> None:
    group, volunteer = in_group(telegram, forum=True)
    family = telegram.user(user_id=7410)
    header = await open_ticket(family, group)
    await volunteer.send_in(group, "/cerrar", thread_id=header["message_thread_id"])
    await family.wait_for(lambda m: "cerró su consulta" in (m.get("text") or ""))
    other = telegram.user(user_id=7411)
    await answer(other, "/start", "Hola")
    await other.press_data("ticket:helped:1:0")
    assert "ya no sirve" in (await other.wait_for())["text"]
    await family.press("Sí, me ayudaron")
    assert "Gracias" in (await family.wait_for())["text"]
    assert bot.running is not None and bot.running.services is not None
    ticket = await bot.running.services.tickets.get(1)
    assert ticket is not None and ticket.helped is True


async def test_a_very_long_answer_is_delivered_in_pieces_and_the_inbox_still_opens(
    bot: BotUnderTest, telegram: LocalBotApi
) -> None:
    group, volunteer = in_group(telegram, forum=True)
    family = telegram.user(user_id=7412)
    header = await open_ticket(family, group)
    thread = header["message_thread_id"]
    long_answer = " ".join(f"palabra{n:04d}" for n in range(334))  # 4,007 characters
    assert 4000 <= len(long_answer) <= 4096
    await volunteer.send_in(group, long_answer, thread_id=thread)
    last = await family.wait_for(lambda m: "palabra0333" in (m.get("text") or ""))
    delivered = " ".join(
        m["text"] for m in family.bot_messages if "palabra" in (m.get("text") or "")
    )
    assert delivered.startswith("Equipo de voluntarios de Niñez Migrante:")
    assert delivered.endswith(long_answer) and last["text"].endswith("palabra0333")
    assert not any("bloqueó" in text for text in texts_in(group))
    for n in range(2):
        await volunteer.send_in(group, f"respuesta{n} " + "x" * 2500, thread_id=thread)
        await family.wait_for(lambda m, n=n: f"respuesta{n}" in (m.get("text") or ""))
    family.mark()
    await family.send("/bandeja")
    await family.wait_for(lambda m: "palabra0333" in (m.get("text") or ""))
    inbox = [m["text"] for m in family.bot_messages[-4:]]
    assert any("Bandeja de Entrada" in text for text in inbox)
    assert all(len(text) <= 4096 for text in inbox)


async def test_the_pending_list_of_many_tickets_is_paged(
    bot: BotUnderTest, telegram: LocalBotApi
) -> None:
    group, volunteer = in_group(telegram, forum=False)
    assert bot.running is not None and bot.running.services is not None
    # Opened through the service: through the chat, 30 headers would wait for the group's
    # rate limit of 20 messages a minute.
    for n in range(30):
        await bot.running.services.tickets.open_ticket(
            7500 + n, 7500 + n, f"Familia{n:02d}" + "ñ" * 60, "es"
        )
    await volunteer.send_in(group, "/pendientes")
    first = await group.wait_for(lambda m: "Consultas abiertas" in (m.get("text") or ""))
    assert "Página 1 de 2" in first["text"] and "Familia00" in first["text"]
    await volunteer.press_in(group, "Siguientes")
    second = await group.wait_for(lambda m: "Página 2 de 2" in (m.get("text") or ""))
    assert "Familia29" in second["text"] and "Familia00" not in second["text"]


async def test_replies_to_the_bot_in_other_groups_cost_a_family_nothing(
    bot: BotUnderTest, telegram: LocalBotApi
) -> None:
    strangers = [telegram.group(STRANGERS - n, f"Grupo {n}") for n in range(40)]
    people = [telegram.user(user_id=7600 + n) for n in range(40)]
    for group, person in zip(strangers, people, strict=True):
        posted = group._new_message(telegram.bot_user, {"text": "Un mensaje del bot"})
        await person.send_in(group, "gracias", reply_to=posted)
        await person.send_in(group, "¿y ahora?", reply_to=posted)
    family = telegram.user(user_id=7700)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await answer(family, "/start", "Hola")
    # Before, each of the 80 replies held a slot for 2 s: /start took 6 s.
    assert loop.time() - started < 2.0


async def test_a_password_typed_for_the_volunteers_is_deleted_and_not_relayed(
    bot: BotUnderTest, telegram: LocalBotApi
) -> None:
    group, _volunteer = in_group(telegram, forum=True)
    family = telegram.user(user_id=7413)
    await answer(family, "/crear_cuenta", "Paso 1 de 9")
    await answer(family, "Ana", "Paso 2 de 9")
    await answer(family, "Pérez", "Paso 3 de 9")
    await press(family, "No tiene segundo apellido", "Paso 4 de 9")
    await answer(family, "23-04-2015", "Paso 5 de 9")
    await press(family, "Haití", "Paso 6 de 9")
    await answer(family, "ana.perez@gmail.com", "Paso 7 de 9")
    await answer(family, "ana.perez@gmail.com", "Paso 8 de 9")
    await answer(family, PASSWORD, "Paso 9 de 9")
    opened = await family.reply("/voluntario")
    assert opened["text"].startswith("Importante: no escriba aquí su contraseña")
    await group.wait_for(lambda m: "Consulta #1" in (m.get("text") or ""))
    typed = await family.send(f"mi clave es {PASSWORD} ayuda")
    told = await family.wait_for()
    assert "Borré su mensaje" in told["text"]
    assert typed["message_id"] in family.deleted_message_ids
    await family.send("¿Qué hago ahora?")
    await group.wait_for(lambda m: m.get("text") == "¿Qué hago ahora?")
    assert not any(PASSWORD in text for text in texts_in(group))


async def test_a_new_password_typed_while_a_ticket_is_open_is_not_relayed(
    bot: BotUnderTest, telegram: LocalBotApi
) -> None:
    group, _volunteer = in_group(telegram, forum=True)
    family = telegram.user(user_id=7416)
    summary = await fill_form(family, "luz.perez@gmail.com")
    await family.reply("/voluntario")
    await group.wait_for(lambda m: "Consulta #1" in (m.get("text") or ""))
    # The summary's buttons still work: the family changes its password with a ticket open.
    await family.press("Contraseña", message=summary)
    await family.wait_for(lambda m: "Paso 8 de 9" in (m.get("text") or ""))
    typed = await family.send("Nueva-Clave-2025")
    told = await family.wait_for(lambda m: "no lo pasé" in (m.get("text") or ""))
    assert "contraseña" in told["text"] and typed["message_id"] in family.deleted_message_ids
    await family.send("no me acepta la clave, ¿qué hago?")
    await group.wait_for(lambda m: "no me acepta" in (m.get("text") or ""))
    assert not any("Nueva-Clave" in text for text in texts_in(group))


async def test_the_bots_own_message_forwarded_to_the_volunteers_is_not_relayed(
    bot: BotUnderTest, telegram: LocalBotApi
) -> None:
    group, _volunteer = in_group(telegram, forum=True)
    family = telegram.user(user_id=7417)
    _done, link = await create_account(family, "rene.perez@gmail.com")
    await family.reply("/voluntario")
    await group.wait_for(lambda m: "Consulta #1" in (m.get("text") or ""))
    origin = {"type": "user", "date": 0, "sender_user": telegram.bot_user}
    await family._send_content({"text": f"¿Qué hago con esto? {link}", "forward_origin": origin})
    assert "No pasé ese mensaje" in (await family.wait_for())["text"]
    assert not any("/validate/" in text for text in texts_in(group))


async def test_closing_a_ticket_of_a_family_that_blocked_the_bot_says_so(
    bot: BotUnderTest, telegram: LocalBotApi
) -> None:
    group, volunteer = in_group(telegram, forum=True)
    family = telegram.user(user_id=7414)
    header = await open_ticket(family, group)
    family.blocked_bot = True
    await volunteer.send_in(group, "/cerrar", thread_id=header["message_thread_id"])
    said = await group.wait_for(lambda m: "cerrada" in (m.get("text") or ""))
    assert "bloqueó el bot" in said["text"]
    assert bot.running is not None and bot.running.services is not None
    assert await bot.running.services.tickets.open_for(family.id) is None


async def test_a_bot_removed_from_the_volunteers_group_tells_the_waiting_families(
    bot: BotUnderTest, telegram: LocalBotApi
) -> None:
    group, _volunteer = in_group(telegram, forum=True)
    family = telegram.user(user_id=7415)
    await answer(family, "/crear_cuenta", "Paso 1 de 9")
    await open_ticket(family, group)
    owner = telegram.user(user_id=VOLUNTEER)
    family.mark()
    group.remove_bot(by=owner)
    told = await family.wait_for(lambda m: "no pueden recibir" in (m.get("text") or ""))
    await family.press("Cerrar consulta", message=told)
    await family.wait_for(lambda m: "Paso 1 de 9" in (m.get("text") or ""))


async def test_an_old_summarys_cancel_is_a_stale_button_and_throws_nothing_away(
    bot: BotUnderTest, telegram: LocalBotApi
) -> None:
    family = telegram.user(user_id=7413)
    await fill_form(family)
    await press(family, "✏️ Contraseña", "Paso 8 de 9")
    # The summary still shows its buttons; the family is answering step 8 again.
    told = await press(family, "Cancelar", "ya no sirve")
    assert "Paso 8 de 9" in told["text"] and "cancelado" not in told["text"]
    await answer(family, "Otra-Clave-Segura-9", "Paso 9 de 9")
    assert not bot.errors
