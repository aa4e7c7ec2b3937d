"""The Bandeja de Entrada and the Historial de Trámites are the account's: the bot's messages
to it and the volunteers' answers, the same from another phone, and never another child's."""

from __future__ import annotations

import httpx

from bot.devtools.local_telegram import LocalBotApi, LocalUser
from bot.runtime.running import RunningBot
from tests.support.chat import PASSWORD, answer, create_account


async def verified(family: LocalUser, email: str) -> None:
    _done, link = await create_account(family, email)
    async with httpx.AsyncClient() as client:
        assert (await client.get(link)).status_code == 200
    await family.wait_for(lambda m: "validado" in (m.get("text") or ""))


async def log_in(phone: LocalUser, email: str) -> dict:
    await answer(phone, "/ingresar", "correo electrónico")
    await answer(phone, email, "contraseña")
    await phone.send(PASSWORD)
    home = await phone.wait_for(lambda m: "Cuenta de" in (m.get("text") or ""))
    asked = await phone.wait_for(lambda m: "Recuérdame" in (m.get("text") or ""))
    await phone.press("No, cerrarla mañana", message=asked)
    await phone.wait_for()
    return home


async def test_the_inbox_keeps_the_bots_messages_and_follows_the_account(
    running_bot: RunningBot, telegram: LocalBotApi
) -> None:
    family = telegram.user(user_id=8301)
    await verified(family, "bandeja.uno@gmail.com")
    # As on the portal, a new account's inbox reads (0): what it holds was read in the chat.
    home = await family.reply("/start")
    assert "Bandeja de Entrada (0)" in home["text"]
    kept = await family.reply("/bandeja")
    assert "Le enviamos el enlace para validar el correo a bandeja.uno@gmail.com" in kept["text"]
    assert "correctamente verificada" in kept["text"]
    assert "/validate/" not in kept["text"]  # the link itself is never kept

    # A trámite started here is the account's: a parent's other phone sees and ticks it.
    await family.press_data("tramite:start:permanencia")
    await family.wait_for(lambda m: "Lista de documentos" in (m.get("text") or ""))
    phone = telegram.user(user_id=8302)
    home = await log_in(phone, "bandeja.uno@gmail.com")
    assert "Bandeja de Entrada (0)" in home["text"] and "Historial de Trámites (1)" in home["text"]
    assert "correctamente verificada" in (await phone.reply("/bandeja"))["text"]
    history = await phone.reply("/start")
    await phone.press("Historial de Trámites", message=history)
    assert "0 de" in (await phone.wait_for())["text"]

    # A second child's account of the same family starts with its own inbox and history.
    await phone.reply("/salir")
    await verified(family, "bandeja.dos@gmail.com")
    second = await family.reply("/start")
    assert "bandeja.dos@gmail.com" in second["text"]
    assert (
        "Bandeja de Entrada (0)" in second["text"] and "Historial de Trámites (0)" in second["text"]
    )
    assert "bandeja.uno" not in (await family.reply("/bandeja"))["text"]
