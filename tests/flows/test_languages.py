"""In the family's language, end to end: a registration in Kreyòl from /start to the verified
home, a change of language in the middle of the form, countries typed in French and Kreyòl,
the e-mail and the page of the link in each language, and the command menu per language.

Expected texts come from the catalogs themselves (`translator`), so the tests say what the
family reads without copying the translations here; each is also checked not to be Spanish.
"""

from __future__ import annotations

import json

import httpx
import pytest

from bot.devtools.local_telegram import LocalBotApi, LocalUser
from bot.faq import QUESTIONS, match
from bot.i18n import LANGUAGE_NAMES, SUPPORTED_LOCALES, translator
from bot.mail.verification import build_verification_email
from bot.registration import FIELDS
from bot.registration.countries import find_country
from bot.registration.results import Valid
from bot.runtime.running import RunningBot
from tests.support.bot import BotUnderTest
from tests.support.chat import (
    GROUP,
    PASSWORD,
    answer,
    in_group,
    open_ticket,
    press,
    url_buttons_of,
)
from tests.support.smtp_server import SmtpServer

ht = translator("ht")
es = translator("es")


def in_kreyol(msgid: str, **params: object) -> str:
    text = ht(msgid, **params)
    assert text != es(msgid, **params), f"not translated into Kreyòl: {msgid!r}"
    return text


def plain_text(email: object) -> str:
    part = email.get_body(preferencelist=("plain",))  # type: ignore[attr-defined]
    return str(part.get_content())


async def test_a_registration_in_kreyol_from_start_to_the_verified_home(
    running_bot: RunningBot, telegram: LocalBotApi, smtp: SmtpServer
) -> None:
    # Telegram has no Kreyòl: a Haitian family's phone says French, or nothing.
    family = telegram.user(user_id=7801, first_name="Wilner", language_code="fr")
    welcome = await family.reply("/start")
    assert "Kreyòl" in str(welcome["reply_markup"])
    await family.press("Kreyòl")
    told = await family.wait_for()
    assert in_kreyol("Listo: desde ahora le escribo en español.") in told["text"]

    first = await family.reply("/crear_cuenta")
    name_label = f"Nombre — {in_kreyol('Nombre')}"
    assert name_label in first["text"]
    step = in_kreyol("Paso {n} de {total}: {label}", n=2, total=9, label="x").split("x")[0]
    await answer(family, "Wilner", step)
    await answer(family, "Joseph", in_kreyol("Apellido Materno"))
    await press(family, in_kreyol("No tiene segundo apellido"), "Fecha de nacimiento")
    await answer(family, "12-10-2016", "País de nacimiento")
    await answer(family, "Ayiti", "Correo electrónico")
    await answer(family, "wilner.joseph@gmail.com", "Confirmar correo electrónico")
    await answer(family, "wilner.joseph@gmail.com", "Contraseña")
    await answer(family, PASSWORD, "Confirmar contraseña")
    await family.send(PASSWORD)
    # The portal's own words stay visible on the button.
    await family.wait_for(lambda m: "No soy un robot" in str(m.get("reply_markup")))
    summary = await press(family, "No soy un robot", "Apellido Paterno — ")
    for shown in ("Wilner", "Joseph", "12-10-2016", "Ayiti", "wilner.joseph@gmail.com"):
        assert shown in summary["text"]
    await family.press("Crear cuenta")
    done = await family.wait_for(lambda m: "/validate/" in m["text"])
    assert in_kreyol("El enlace vence en {hours} horas.", hours=48) in done["text"]
    (link,) = url_buttons_of(done).values()

    email = await smtp.wait_for_message()
    assert email["Subject"] == in_kreyol("Valide su correo electrónico — Trámites de Extranjería")
    assert link in plain_text(email)

    async with httpx.AsyncClient() as client:
        page = await client.get(link)
    assert page.status_code == 200 and 'lang="ht"' in page.text
    verified = in_kreyol("¡Su correo fue validado! La cuenta quedó verificada.")
    home = await family.wait_for(lambda m: verified in m["text"])
    assert in_kreyol("Bandeja de Entrada ({n})", n=0) in home["text"]


async def test_a_change_of_language_mid_registration_keeps_every_answer(
    running_bot: RunningBot, telegram: LocalBotApi
) -> None:
    family = telegram.user(user_id=7802, language_code="es")
    await answer(family, "/crear_cuenta", "Paso 1 de 9")
    await answer(family, "Rose", "Paso 2 de 9")
    await answer(family, "Pierre", "Paso 3 de 9")
    await family.reply("/idioma")
    await family.press("English")
    en = translator("en")
    again = await family.wait_for(lambda m: "Apellido Materno — " in m["text"])
    assert en("Paso {n} de {total}: {label}", n=3, total=9, label="").strip() in again["text"]
    await press(family, en("No tiene segundo apellido"), "Fecha de nacimiento")
    await answer(family, "01-02-2015", "País de nacimiento")
    await answer(family, "Haïti", "Correo electrónico")  # in French, in an English chat
    await answer(family, "rose.pierre@gmail.com", "Confirmar correo electrónico")
    await answer(family, "rose.pierre@gmail.com", "Contraseña")
    await answer(family, PASSWORD, "Confirmar contraseña")
    await family.send(PASSWORD)
    await family.wait_for(lambda m: "No soy un robot" in str(m.get("reply_markup")))
    summary = await press(family, "No soy un robot", "Apellido Paterno — ")
    for shown in ("Rose", "Pierre", "01-02-2015", "Haiti", "rose.pierre@gmail.com"):
        assert shown in summary["text"]


async def test_the_chosen_language_is_remembered_across_a_restart(
    bot_runner: BotUnderTest, make_settings, telegram: LocalBotApi
) -> None:
    await bot_runner.start(make_settings())
    family = telegram.user(user_id=7803, language_code="es")
    await family.reply("/start")
    await family.press("Português")
    await family.wait_for()
    await bot_runner.stop()
    await bot_runner.start(make_settings())
    welcome = await family.reply("/start")
    pt = translator("pt")
    assert pt("¡Hola! Soy el asistente del Programa Niñez Migrante.") in welcome["text"]
    assert "Kreyòl" not in str(welcome["reply_markup"])  # asked once, on first contact


@pytest.mark.parametrize(("typed", "locale"), [("Haïti", "fr"), ("Ayiti", "ht"), ("Haití", "en")])
def test_a_country_typed_in_any_of_the_languages_is_found(typed: str, locale: str) -> None:
    assert find_country(typed, locale) == Valid("HT")


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_the_verification_email_is_in_the_accounts_language(locale: str) -> None:
    _ = translator(locale)
    email = build_verification_email(
        to="familia@example.org",
        link="https://ninez.example.cl/validate/abc",
        mail_from="Programa Niñez Migrante <no-reply@ninez.test>",
        locale=locale,
    )
    assert email["Subject"] == _("Valide su correo electrónico — Trámites de Extranjería")
    welcome = _("Bienvenido al sitio de Trámites de Extranjería del Gobierno de Chile.")
    assert welcome in plain_text(email)
    if locale != "es":
        assert welcome != es(
            "Bienvenido al sitio de Trámites de Extranjería del Gobierno de Chile."
        )


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
async def test_a_page_is_in_the_language_asked_for(running_bot: RunningBot, locale: str) -> None:
    async with httpx.AsyncClient(base_url=running_bot.link_base) as client:
        page = await client.get("/validate/not-a-real-token", params={"lang": locale})
    assert page.status_code == 404 and f'lang="{locale}"' in page.text
    for code, name in LANGUAGE_NAMES.items():  # each page links to itself in every language
        assert name in page.text and (code == locale or f"?lang={code}" in page.text)


async def test_the_command_menu_is_published_in_each_language(
    running_bot: RunningBot, telegram: LocalBotApi
) -> None:
    default = json.dumps({"type": "default"}, sort_keys=True)
    for locale in SUPPORTED_LOCALES:
        menu = telegram.commands[(default, "" if locale == "es" else locale)]
        _ = translator(locale)
        described = {command["command"]: command["description"] for command in menu}
        assert described["idioma"] == _("Cambiar el idioma")
        assert described["crear_cuenta"] == _("Crear la cuenta del portal, paso a paso")


async def test_help_names_every_command_of_the_menu_in_the_familys_language(
    running_bot: RunningBot, telegram: LocalBotApi
) -> None:
    family = telegram.user(user_id=7811, first_name="Nadège", language_code="fr")
    help_text = (await family.reply("/ayuda"))["text"]

    fr = translator("fr")
    assert help_text.startswith(fr("Esto es lo que puedo hacer:"))
    default = json.dumps({"type": "default"}, sort_keys=True)
    for command in telegram.commands[(default, "fr")]:
        if command["command"] != "ayuda":
            # The account's own commands too, which the help once left out.
            assert f"/{command['command']} — {command['description']}" in help_text
    assert "/ingresar" in help_text and "/borrar_mis_datos" in help_text


# The longest a question may be, on a phone, in any language, counting the portal's label
# (shown in Spanish beside its translation) and the example: about 10 lines of 32 characters.
QUESTION_LIMIT = 330


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_every_question_is_short_enough_for_a_phone(locale: str) -> None:
    _ = translator(locale)
    for field in FIELDS:
        label = (
            field.label if _(field.label) == field.label else f"{field.label} — {_(field.label)}"
        )
        shown = "\n\n".join(
            (
                _("Paso {n} de {total}: {label}", n=9, total=9, label=label),
                _(field.question),
                _("Ejemplo: {example}", example=_(field.example)),
            )
        )
        assert len(shown) <= QUESTION_LIMIT, (locale, field.key, len(shown))


def test_the_language_choice_names_each_language_in_itself() -> None:
    assert list(LANGUAGE_NAMES.values()) == [
        "Kreyòl",
        "Français",
        "English",
        "Português",
        "Español",
    ]


async def test_a_forged_language_button_says_so_and_shows_the_choice_again(
    running_bot: RunningBot, telegram: LocalBotApi
) -> None:
    family: LocalUser = telegram.user(user_id=7804)
    await family.reply("/start")
    await family.press_data("lang:xx")
    again = await family.wait_for()
    assert again["text"].startswith("Este botón ya no sirve.")
    assert "Kreyòl" in str(again["reply_markup"])
    # In the middle of the form, nothing given is lost: the next language goes on from it.
    await family.reply("/crear_cuenta")
    await family.reply("Ana")
    await family.press_data("lang:fr")
    await family.wait_for(lambda m: "Étape 2" in m.get("text", ""))


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_a_frequent_question_typed_as_the_family_reads_it_is_found(locale: str) -> None:
    _ = translator(locale)
    for question in QUESTIONS:
        assert question in match(_(question.question), locale=locale), (locale, question.key)


async def test_a_change_of_language_with_a_ticket_open_reaches_the_ticket_not_the_form(
    bot_runner: BotUnderTest, make_settings, telegram: LocalBotApi
) -> None:
    await bot_runner.start(make_settings(volunteers_chat_id=GROUP))
    group, volunteer = in_group(telegram, forum=True)
    family = telegram.user(user_id=7805, language_code="es")
    await answer(family, "/crear_cuenta", "Paso 1 de 9")
    header = await open_ticket(family, group)
    await family.reply("/idioma")
    await family.press("Français")
    told = await family.wait_for()
    fr = translator("fr")
    assert fr("Listo: desde ahora le escribo en español.") in told["text"]
    assert "Paso 1 de 9" not in told["text"] and "Nombre —" not in told["text"]
    await volunteer.send_in(group, "Bonjour", thread_id=header["message_thread_id"])
    signed = await family.wait_for(lambda m: "Bonjour" in (m.get("text") or ""))
    assert fr("Equipo de voluntarios de Niñez Migrante:") in signed["text"]
    scope = json.dumps({"type": "chat", "chat_id": family.id}, sort_keys=True)
    described = {c["command"]: c["description"] for c in telegram.commands[(scope, "")]}
    assert described["idioma"] == fr("Cambiar el idioma")
