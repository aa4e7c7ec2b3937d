"""A family creates and verifies an account, end to end: the real Application polling the Bot
API stand-in over HTTP, a real SMTP server, a real database, and the link opened over HTTP."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from bot.devtools.local_telegram import LocalBotApi
from bot.runtime.running import RunningBot
from tests.support.chat import (
    PASSWORD,
    answer,
    buttons_of,
    country_and_email,
    fill_form,
    finish_form,
    from_the_password,
    kept_out,
    press,
    settle,
    to_the_country,
    to_the_password,
    url_buttons_of,
)
from tests.support.smtp_server import SmtpServer


async def test_start_welcomes_and_offers_to_create_an_account(
    running_bot: RunningBot, telegram: LocalBotApi
) -> None:
    user = telegram.user()
    welcome = await user.reply("/start")
    assert "Niñez Migrante" in welcome["text"]
    assert "gratis" in welcome["text"].lower()
    assert "dinero" in welcome["text"]
    assert "documento" in welcome["text"]
    assert "correo electrónico" in welcome["text"]
    assert "Crear cuenta" in buttons_of(welcome)

    first = await press(user, "Crear cuenta", "Paso 1 de 9")
    assert "Nombre" in first["text"] and "Ejemplo" in first["text"]


async def test_a_family_creates_and_verifies_an_account(
    running_bot: RunningBot,
    telegram: LocalBotApi,
    smtp: SmtpServer,
    data_dir: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    user = telegram.user(user_id=2001, first_name="Rose")
    await answer(user, "/crear_cuenta", "Paso 1 de 9")

    # Mistakes are explained and the same question comes back; nothing given is lost.
    refused = await answer(user, "M4ría", "Paso 1 de 9")
    assert "letras" in refused["text"]
    await answer(user, "  María   José ", "Paso 2 de 9")
    await answer(user, "Pérez", "Paso 3 de 9")
    await answer(user, "González", "Paso 4 de 9")
    await answer(user, "31-02-2015", "Paso 4 de 9")
    await answer(user, "5/7/2014", "Paso 5 de 9")

    await user.send_sticker()
    not_text = await user.wait_for()
    assert "escrita" in not_text["text"] and "Paso 5 de 9" in not_text["text"]

    suggestion = await answer(user, "Hiati", "Haití")
    assert "Haití" in buttons_of(suggestion)
    await press(user, "Haití", "Paso 6 de 9")

    typo = await answer(user, "rose.perez@gmial.com", "gmail.com")
    assert "rose.perez@gmail.com" in buttons_of(typo)
    await press(user, "rose.perez@gmail.com", "Paso 7 de 9")
    await answer(user, "otra@gmail.com", "Paso 7 de 9")
    await answer(user, "Rose.Perez@Gmail.com", "Paso 8 de 9")

    short = await user.send("corta")
    refused = await user.wait_for()
    assert "8 caracteres" in refused["text"] and "Paso 8 de 9" in refused["text"]
    assert short["message_id"] in user.deleted_message_ids

    typed = await user.send(PASSWORD)
    step9 = await user.wait_for()
    assert "Paso 9 de 9" in step9["text"] and "Borré" in step9["text"]
    assert typed["message_id"] in user.deleted_message_ids

    await answer(user, "otra-clave-123", "no coinciden")
    confirm = await user.send(PASSWORD)
    await user.wait_for(lambda m: "No soy un robot" in buttons_of(m))
    assert confirm["message_id"] in user.deleted_message_ids

    review = await press(user, "No soy un robot", "Revise los datos")
    for shown in ("María José", "Pérez", "González", "05-07-2014", "Haití", "rose.perez@gmail.com"):
        assert shown in review["text"]
    assert PASSWORD not in review["text"]

    # Correcting one field comes back to the summary with the rest untouched.
    await press(user, "Nombre", "Paso 1 de 9")
    review = await answer(user, "María Josefina", "Revise los datos")
    assert "María Josefina" in review["text"] and "González" in review["text"]

    await user.press("Crear cuenta")
    done = await user.wait_for(lambda m: "/validate/" in m["text"])
    assert "spam" in done["text"]
    link = url_buttons_of(done)["Validar mi correo electrónico"]
    assert link.startswith(running_bot.link_base + "/validate/") and link in done["text"]
    sent = [p for m, p in telegram.requests if m == "sendMessage" and link in str(p.get("text"))]
    assert all((p.get("link_preview_options") or {}).get("is_disabled") for p in sent)

    email = await smtp.wait_for_message()
    assert email["To"] == "rose.perez@gmail.com"
    plain = email.get_body(("plain",)).get_content()
    html = email.get_body(("html",)).get_content()
    assert "Bienvenido al sitio de Trámites de Extranjería" in plain
    assert link in plain and link in html and "Validar mi correo electrónico" in html

    async with httpx.AsyncClient() as client:
        page = await client.get(link)
        assert page.status_code == 200
        assert "Su cuenta ha sido correctamente verificada" in page.text
        assert "Estado de cuenta: Verificado" in page.text

        told = await user.wait_for(lambda m: "Estado de cuenta: Verificado" in m["text"])
        for shown in ("Bandeja de Entrada (0)", "Historial de Trámites (0)", "Iniciar trámite"):
            assert shown in told["text"]
        assert (
            "Solicitud de Residencias temporales para extranjeros dentro de Chile" in told["text"]
        )

        again = await client.get(link)
        assert again.status_code == 200 and "ya estaba verificada" in again.text

    home = await answer(user, "/start", "Estado de cuenta: Verificado")
    assert "Certificado de Permanencia Definitiva" in home["text"]

    # The password exists nowhere in plaintext: not in the database, the data folder or the logs.
    for path in data_dir.rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path
    assert PASSWORD not in caplog.text
    assert PASSWORD not in str(email)
    async with running_bot.services.database.session() as session:
        from sqlmodel import select

        from bot.storage import Account

        account = (await session.exec(select(Account))).one()
        assert account.password_hash.startswith("$argon2id$")
        assert account.verified_at is not None


async def test_cancel_discards_and_start_again_begins_at_the_first_field(
    running_bot: RunningBot, telegram: LocalBotApi
) -> None:
    user = telegram.user(user_id=3001)
    await answer(user, "/crear_cuenta", "Paso 1 de 9")
    await answer(user, "Jean", "Paso 2 de 9")
    await answer(user, "Baptiste", "Paso 3 de 9")
    cancelled = await answer(user, "/cancelar", "cancelado")
    assert "Nombre" in cancelled["text"] and "Apellido Paterno" in cancelled["text"]
    await answer(user, "/crear_cuenta", "Paso 1 de 9")


async def test_an_address_with_an_account_gets_no_second_one(
    running_bot: RunningBot, telegram: LocalBotApi, smtp: SmtpServer
) -> None:
    first = telegram.user(user_id=4001)
    await fill_form(first, email="compartido@gmail.com")
    await first.press("Crear cuenta")
    await first.wait_for(lambda m: "/validate/" in m["text"])
    await smtp.wait_for_message()

    second = telegram.user(user_id=4002)
    await answer(second, "/crear_cuenta", "Paso 1 de 9")
    for text, step in (("Ana", 2), ("Ruiz", 3), ("Soto", 4), ("01-01-2016", 5)):
        await answer(second, text, f"Paso {step} de 9")
    await press(second, "Perú", "Paso 6 de 9")
    taken = await answer(second, "Compartido@gmail.com", "Paso 6 de 9")
    assert "Ya existe una cuenta" in taken["text"]


async def test_long_text_and_unknown_input_get_a_kind_answer(
    running_bot: RunningBot, telegram: LocalBotApi
) -> None:
    user = telegram.user(user_id=5001)
    hint = await user.reply("hola")
    assert "Crear cuenta" in buttons_of(hint)
    await answer(user, "/crear_cuenta", "Paso 1 de 9")
    too_long = await answer(user, "a" * 5000, "Paso 1 de 9")
    assert "demasiado largo" in too_long["text"]
    await user.send_photo()
    assert "Paso 1 de 9" in (await user.wait_for())["text"]
    await user.send_location()
    assert "Paso 1 de 9" in (await user.wait_for())["text"]
    await answer(user, "/start", "Paso 1 de 9")


async def test_unknown_and_expired_links_get_a_page_that_says_what_to_do(
    running_bot: RunningBot, telegram: LocalBotApi, smtp: SmtpServer
) -> None:
    user = telegram.user(user_id=6001)
    await fill_form(user, email="vence@gmail.com")
    await user.press("Crear cuenta")
    done = await user.wait_for(lambda m: "/validate/" in m["text"])
    link = url_buttons_of(done)["Validar mi correo electrónico"]
    await smtp.wait_for_message()

    from sqlalchemy import update

    from bot.storage import VerificationToken, utcnow

    async with running_bot.services.database.session() as session:
        await session.exec(update(VerificationToken).values(expires_at=utcnow()))
        await session.commit()

    async with httpx.AsyncClient() as client:
        expired = await client.get(link)
        assert expired.status_code == 410 and "/reenviar" in expired.text
        unknown = await client.get(running_bot.link_base + "/validate/" + "x" * 43)
        assert unknown.status_code == 404 and "no es válido" in unknown.text


async def test_the_command_menu_is_published_at_start(
    running_bot: RunningBot, telegram: LocalBotApi
) -> None:
    menu = telegram.commands[('{"type": "default"}', "")]
    names = [command["command"] for command in menu]
    assert names[:2] == ["start", "crear_cuenta"]
    assert {"reenviar", "preguntas", "voluntario", "bandeja", "cancelar", "ayuda"} <= set(names)
    assert all(command["description"] for command in menu)


async def test_a_password_typed_as_a_command_or_again_at_the_summary_leaves_the_chat(
    running_bot: RunningBot, telegram: LocalBotApi
) -> None:
    user = telegram.user(user_id=6101)
    await to_the_password(user, "slash.perez@gmail.com")

    # At a password's question, a command may well be the password ("/Secreto2024").
    slashed = await user.send("/Secreto2024")
    again = await user.wait_for()
    assert "Paso 8 de 9" in again["text"] and "Borré" in again["text"]
    assert slashed["message_id"] in user.deleted_message_ids
    # ...but Telegram takes it for one, so the family is told why, not that it is a command.
    assert "no puede empezar con «/»" in again["text"] and "comando no sirve" not in again["text"]

    await from_the_password(user)

    # Typed once more where a button is due: checked against the draft's hash, and deleted.
    retyped = await user.send(PASSWORD)
    told = await user.wait_for()
    assert "Borré" in told["text"] and "toque uno de los botones" in told["text"]
    assert retyped["message_id"] in user.deleted_message_ids
    # Anything else stays where the family wrote it.
    other = await user.send("¿y ahora qué hago?")
    told = await user.wait_for()
    assert "Borré" not in told["text"] and "toque uno de los botones" in told["text"]
    assert other["message_id"] not in user.deleted_message_ids


async def test_a_message_edited_into_the_password_leaves_the_chat(
    running_bot: RunningBot, telegram: LocalBotApi
) -> None:
    user = telegram.user(user_id=6102)
    named, surname = await to_the_country(user)
    await finish_form(user, "editada.perez@gmail.com")

    # At the summary an edit is checked against the draft's hash, as a sent text is.
    edited = await user.edit(named, PASSWORD)
    told = await kept_out(user, edited, "Borré su mensaje con la contraseña")
    # The summary is already there: the notice points to its buttons, not to one to come.
    assert "toque su botón en el resumen" in told["text"] and "Al final" not in told["text"]
    # Another edit that is not the password stays, and the notice is not said twice.
    await user.edit(surname, "Pérez Soto")
    await answer(user, "¿y ahora?", "toque uno de los botones")
    assert surname["message_id"] not in user.deleted_message_ids
    notices = [m for m in user.bot_messages if "Editar un mensaje" in m.get("text", "")]
    assert len(notices) == 1


async def test_at_the_passwords_question_an_edited_message_leaves_the_chat(
    running_bot: RunningBot, telegram: LocalBotApi
) -> None:
    user = telegram.user(user_id=6103)
    named, _ = await to_the_country(user)
    await country_and_email(user, "pregunta.perez@gmail.com")

    # Typed into an older message, the password to be would stay there for anyone to read.
    edited = await user.edit(named, "MiClaveNueva2024")
    await kept_out(user, edited, "Borré su mensaje editado, por si tenía la contraseña")
    # So would a photo's caption.
    shown = await user.send_photo("MiClaveNueva2024")
    told = await kept_out(user, shown, "Borré su mensaje con la contraseña")
    assert "Paso 8 de 9" in told["text"]
    # The question still waits for its answer, and nothing given is lost.
    await answer(user, PASSWORD, "Paso 9 de 9")


async def test_a_field_changed_from_the_summary_keeps_edits_of_the_password_out_of_the_chat(
    running_bot: RunningBot, telegram: LocalBotApi
) -> None:
    user = telegram.user(user_id=6104)
    named, _ = await to_the_country(user)
    await finish_form(user, "cambia.perez@gmail.com")
    await press(user, "Cambiar el correo", "correo")
    # Back at a field's question, with the password given: an edit is checked against it.
    edited = await user.edit(named, PASSWORD)
    await kept_out(user, edited, "Borré su mensaje con la contraseña")


async def test_a_command_at_the_passwords_confirmation_is_no_match(
    running_bot: RunningBot, telegram: LocalBotApi
) -> None:
    user = telegram.user(user_id=6105)
    await to_the_password(user, "confirma.perez@gmail.com")
    await answer(user, PASSWORD, "Paso 9 de 9")
    slashed = await user.send("/" + PASSWORD)
    told = await kept_out(user, slashed, "no coinciden")
    assert "Paso 9 de 9" in told["text"]
    await answer(user, PASSWORD, "no es un robot")


async def test_the_password_typed_as_a_changed_field_is_never_kept_nor_shown(
    running_bot: RunningBot, telegram: LocalBotApi
) -> None:
    user = telegram.user(user_id=6106)
    await fill_form(user, "cambia.nombre@gmail.com")
    await press(user, "Nombre", "Paso 1 de 9")
    typed = await user.send(PASSWORD)
    told = await kept_out(user, typed, "Borré su mensaje con la contraseña")
    assert "Paso 1 de 9" in told["text"]
    summary = await answer(user, "Ana Luisa", "Revise los datos")
    assert "Ana Luisa" in summary["text"]
    assert all(PASSWORD not in m.get("text", "") for m in user.bot_messages)


async def test_two_edits_into_the_password_in_a_row_are_never_told_it_stayed(
    running_bot: RunningBot, telegram: LocalBotApi
) -> None:
    user = telegram.user(user_id=6107)
    named, _ = await to_the_country(user)
    await finish_form(user, "dos.ediciones@gmail.com")
    await user.edit(named, PASSWORD)
    await user.edit(named, PASSWORD)  # its message is gone by the time the bot reads it
    await user.wait_for(lambda m: "Borré su mensaje con la contraseña" in m["text"])
    await settle(user)
    assert named["message_id"] in user.deleted_message_ids
    assert not [m for m in user.bot_messages if "No pude borrar" in m.get("text", "")]
