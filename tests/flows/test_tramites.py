"""The portal's home leads somewhere: "Iniciar trámite" opens the list, each trámite a plain
guide with a button to the official portal; starting one makes a checklist in the Historial
de Trámites, and the home says what is still missing."""

from __future__ import annotations

import httpx

from bot.devtools.local_telegram import LocalBotApi, LocalUser
from bot.portal import PORTAL_URL
from bot.runtime.running import RunningBot
from tests.support.chat import create_account, url_buttons_of


async def verified(telegram: LocalBotApi, user_id: int, email: str) -> LocalUser:
    family = telegram.user(user_id=user_id)
    _done, link = await create_account(family, email)
    async with httpx.AsyncClient() as client:
        await client.get(link)
    await family.wait_for(lambda m: "validado" in (m.get("text") or ""))
    return family


async def test_a_tramite_is_guided_and_kept_as_a_checklist_of_its_documents(
    running_bot: RunningBot, telegram: LocalBotApi
) -> None:
    family = await verified(telegram, 8101, "tramite.familia@gmail.com")
    await family.reply("/start")
    await family.press("Iniciar trámite")
    await family.wait_for(lambda m: "Listado de trámites" in (m.get("text") or ""))
    await family.press("Solicitud de Residencias temporales")
    guide = await family.wait_for()
    for needed in ("certificado de nacimiento", "foto", "carnet de control de salud", "cuidado"):
        assert needed in guide["text"]
    assert url_buttons_of(guide)["Abrir en el portal oficial"] == PORTAL_URL
    await family.press("Empezar mi lista de documentos", message=guide)
    checklist = await family.wait_for(lambda m: "Lista de documentos" in (m.get("text") or ""))
    assert checklist["text"].count("⬜") == 4
    await family.press("⬜ 2", message=checklist)
    ticked = await family.wait_for(lambda m: "Lista de documentos" in (m.get("text") or ""))
    assert "✅ 2." in ticked["text"] and ticked["text"].count("⬜") == 3
    await family.press("Historial de Trámites", message=(await family.reply("/start")))
    history = await family.wait_for()
    assert "1 de 4 documentos" in history["text"]
    home = await family.reply("/start")
    assert (
        "Historial de Trámites (1)" in home["text"] and "documentos que faltan: 3" in home["text"]
    )


async def test_another_familys_checklist_cannot_be_ticked(
    running_bot: RunningBot, telegram: LocalBotApi
) -> None:
    family = await verified(telegram, 8102, "lista.propia@gmail.com")
    await family.press_data("tramite:start:permanencia")
    await family.wait_for(lambda m: "Lista de documentos" in (m.get("text") or ""))
    other = telegram.user(user_id=8103)
    await other.reply("/start")
    await other.press_data("tick:1:0")
    assert "ya no sirve" in (await other.wait_for())["text"]
    await family.press_data("tick:1:0")
    mine = await family.wait_for(lambda m: "Lista de documentos" in (m.get("text") or ""))
    assert "✅ 1." in mine["text"]


async def test_a_stale_checklist_button_in_the_middle_of_the_form_asks_its_question_again(
    running_bot: RunningBot, telegram: LocalBotApi
) -> None:
    family = telegram.user(user_id=8104)
    await family.reply("/crear_cuenta")
    await family.press_data("tick:5:5")
    stale = await family.wait_for()
    assert "ya no sirve" in stale["text"] and "Paso 1 de 9" in stale["text"]
