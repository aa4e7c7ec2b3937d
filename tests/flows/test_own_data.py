"""The family's own data, end to end: /privacidad, /mis_datos shows everything kept and no
secret, /borrar_mis_datos deletes it after a confirmation, and the address is free again."""

from __future__ import annotations

from pathlib import Path

from bot.devtools.local_telegram import LocalBotApi
from bot.runtime.running import RunningBot
from tests.support.chat import PASSWORD, answer, buttons_of, create_account

EMAIL = "wislande.pierre@gmail.com"


async def test_my_data_are_shown_without_secrets_and_deleted_on_confirmation(
    running_bot: RunningBot, telegram: LocalBotApi, data_dir: Path
) -> None:
    family = telegram.user(user_id=7901, first_name="Wislande")
    await create_account(family, EMAIL)
    shown = await family.reply("/mis_datos")
    for kept in (EMAIL, "María José", "Pérez", "23-04-2015", "Haití", "sin validar"):
        assert kept in shown["text"]
    assert PASSWORD not in shown["text"] and "argon2" not in shown["text"]

    asked = await family.reply("/borrar_mis_datos")
    assert "No se puede deshacer" in asked["text"]
    await family.press("No")
    assert "No borré nada" in (await family.wait_for())["text"]
    assert EMAIL in (await family.reply("/mis_datos"))["text"]

    await family.reply("/borrar_mis_datos")
    await family.press("Sí, borrar todo")
    assert "borré todos sus datos" in (await family.wait_for())["text"]
    assert "No tenemos ningún dato suyo" in (await family.reply("/mis_datos"))["text"]
    if running_bot.services is not None and running_bot.services.database.is_sqlite:
        files = b"".join(p.read_bytes() for p in data_dir.glob("bot.sqlite3*"))
        assert EMAIL.encode() not in files and b"Mar\xc3\xada Jos\xc3\xa9" not in files

    # The address can be used again, for a new account.
    await create_account(family, EMAIL)


async def test_the_privacy_notice_says_what_is_kept_and_how_to_delete_it(
    running_bot: RunningBot, telegram: LocalBotApi
) -> None:
    family = telegram.user(user_id=7902)
    notice = await answer(family, "/privacidad", "/borrar_mis_datos")
    assert "/mis_datos" in notice["text"] and "contraseña" in notice["text"]
    assert "30 días" in notice["text"] and "180 días" in notice["text"]


async def test_a_forged_erase_button_deletes_nothing(
    running_bot: RunningBot, telegram: LocalBotApi
) -> None:
    family = telegram.user(user_id=7903)
    await create_account(family, "rene.forged@gmail.com")
    await family.press_data("privacy:erase:maybe")
    assert "ya no sirve" in (await family.wait_for())["text"]
    assert "rene.forged@gmail.com" in (await family.reply("/mis_datos"))["text"]


async def test_the_notice_comes_before_the_first_question_and_acepto_goes_on_there(
    running_bot: RunningBot, telegram: LocalBotApi
) -> None:
    family = telegram.user(user_id=7904)
    first = await answer(family, "/crear_cuenta", "Paso 1 de 9")
    # One message: the notice, then the question; nothing can be typed before it is shown.
    assert first["text"].index("/borrar_mis_datos") < first["text"].index("Paso 1 de 9")
    assert "Acepto" in buttons_of(first)
    await family.press("Acepto")
    again = await family.wait_for()
    assert "Gracias" in again["text"] and "Paso 1 de 9" in again["text"]
    assert "Acepto" not in buttons_of(again)
    assert "Acepto" not in buttons_of(await family.reply("/privacidad"))
    # Once accepted, a new registration starts without the notice.
    await answer(family, "/cancelar", "")
    assert "/borrar_mis_datos" not in (await answer(family, "/crear_cuenta", "Paso 1"))["text"]


async def test_answering_the_first_question_accepts_the_notice(
    running_bot: RunningBot, telegram: LocalBotApi
) -> None:
    family = telegram.user(user_id=7905)
    assert "Acepto" in buttons_of(await family.reply("/privacidad"))
    await answer(family, "/crear_cuenta", "Paso 1 de 9")
    await answer(family, "Wislande", "Paso 2 de 9")
    assert "Acepto" not in buttons_of(await family.reply("/privacidad"))
    shown = await family.reply("/mis_datos")
    assert "Wislande" in shown["text"] and "Aceptó el aviso de privacidad" in shown["text"]
