"""Iniciar sesión end to end: from another phone, the password deleted, the account's home and
"Recuérdame"; one answer for any wrong try; a lock after five; /salir."""

from __future__ import annotations

import httpx

from bot.devtools.local_telegram import LocalBotApi, LocalUser
from bot.runtime.running import RunningBot
from tests.support.chat import GROUP, PASSWORD, answer, create_account, in_group, open_ticket

EMAIL = "wilner.login@gmail.com"


async def verified_family(telegram: LocalBotApi, user_id: int) -> LocalUser:
    family = telegram.user(user_id=user_id, first_name="Wilner")
    _done, link = await create_account(family, EMAIL)
    async with httpx.AsyncClient() as client:
        assert (await client.get(link)).status_code == 200
    await family.wait_for(lambda m: "validado" in (m.get("text") or ""))
    return family


async def log_in(phone: LocalUser, email: str, password: str) -> dict:
    await answer(phone, "/ingresar", "correo electrónico")
    await answer(phone, email, "contraseña")
    typed = await phone.send(password)
    told = await phone.wait_for()
    assert typed["message_id"] in phone.deleted_message_ids
    return told


async def test_a_parent_on_a_new_phone_logs_in_and_is_remembered(
    running_bot: RunningBot, telegram: LocalBotApi
) -> None:
    await verified_family(telegram, 8001)
    new_phone = telegram.user(user_id=8002, first_name="Papá")
    home = await log_in(new_phone, EMAIL, PASSWORD)
    assert "Borré su mensaje" in home["text"] and "Cuenta de María José" in home["text"]
    assert (
        "Estado de cuenta: Verificado" in home["text"] and "Bandeja de Entrada (0)" in home["text"]
    )
    asked = await new_phone.wait_for(lambda m: "Recuérdame" in (m.get("text") or ""))
    await new_phone.press("Sí, por 30 días", message=asked)
    assert "30 días" in (await new_phone.wait_for())["text"]
    assert "Cuenta de María José" in (await new_phone.reply("/start"))["text"]
    assert "Cerró la sesión" in (await new_phone.reply("/salir"))["text"]
    assert "Cuenta de María José" not in (await new_phone.reply("/start"))["text"]


async def test_any_wrong_try_gets_one_answer_and_five_lock_the_login(
    running_bot: RunningBot, telegram: LocalBotApi
) -> None:
    await verified_family(telegram, 8003)
    stranger = telegram.user(user_id=8004)
    wrong_password = await log_in(stranger, EMAIL, "otra-clave-999")
    wrong_address = await log_in(stranger, "nadie.aqui@gmail.com", PASSWORD)
    first = wrong_password["text"].split("\n\n", 1)[1]
    assert first == wrong_address["text"].split("\n\n", 1)[1]
    assert "¿Olvidaste tu contraseña?" in str(wrong_password["reply_markup"])
    for _ in range(3):
        await log_in(stranger, EMAIL, "otra-clave-999")
    locked = await log_in(stranger, EMAIL, PASSWORD)
    assert "bloqueado por 15 minutos" in locked["text"]


async def test_clave_unica_is_explained_in_two_lines(
    running_bot: RunningBot, telegram: LocalBotApi
) -> None:
    phone = telegram.user(user_id=8005)
    await answer(phone, "/ingresar", "correo electrónico")
    await phone.press("Iniciar con Clave Única")
    said = await phone.wait_for()
    assert "RUN chileno" in said["text"] and len(said["text"].splitlines()) == 2


async def test_a_password_typed_for_the_login_never_reaches_an_open_ticket(
    bot_runner, make_settings, telegram: LocalBotApi
) -> None:
    await bot_runner.start(make_settings(volunteers_chat_id=GROUP))
    group, _volunteer = in_group(telegram, forum=True)
    await verified_family(telegram, 8006)
    phone = telegram.user(user_id=8007)
    await answer(phone, "/ingresar", "correo electrónico")
    await answer(phone, EMAIL, "contraseña")
    await open_ticket(phone, group)
    typed = await phone.send(PASSWORD)
    told = await phone.wait_for(lambda m: "no lo pasé" in (m.get("text") or ""))
    assert typed["message_id"] in phone.deleted_message_ids and "contraseña" in told["text"]
    assert not any(PASSWORD in (m.get("text") or "") for m in group.bot_messages)
