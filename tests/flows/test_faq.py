"""The frequent questions: the matcher on the phrasings families use, and /preguntas end to end."""

from __future__ import annotations

import pytest

from bot.devtools.local_telegram import LocalBotApi
from bot.faq import QUESTIONS, by_key, match, normalise
from bot.runtime.running import RunningBot
from conversations import callbacks
from tests.support.chat import buttons_of


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("no me llega el correo", "correo"),
        ("No me llegó el mail", "correo"),
        ("el correo no llega, ya revisé spam", "correo"),
        ("el link expiró", "enlace_vencido"),
        ("El enlace ya venció", "enlace_vencido"),
        ("cuanto cuesta", "gratis"),
        ("¿Cuánto cuesta?", "gratis"),
        ("es gratis?", "gratis"),
        ("me pidieron plata", "gratis"),
        ("me piden pagar", "gratis"),
        ("que es clave unica", "clave_unica"),
        ("¿Qué es la Clave Única?", "clave_unica"),
        ("no tengo rut", "clave_unica"),
        ("con que documento", "documento"),
        ("Mi hija tiene pasaporte", "documento"),
        ("contraseña corta", "contrasena"),
        ("la página no carga", "navegador"),
        ("quién tiene que crear la cuenta", "quien"),
        ("qué documentos necesito para la residencia", "documentos_tramite"),
        ("mis papás no tienen papeles", "ninez_migrante"),
    ],
)
def test_typical_questions_find_their_answer(text: str, key: str) -> None:
    found = match(text)
    assert found and found[0].key == key, [q.key for q in found]


@pytest.mark.parametrize(
    "text",
    [
        "hola",
        "gracias",
        "asdf",
        "Buenos días",
        "ok",
        "sí",
        "no",
        "que",
        "",
        "   ",
        "¡¡!!",
        "mi nombre es María",
        "hola, buenas tardes",
        "necesito ayuda por favor",
        "se me olvidó",
    ],
)
def test_unrelated_text_matches_nothing(text: str) -> None:
    assert match(text) == []


def test_every_question_finds_itself_and_keywords_are_normalised() -> None:
    for question in QUESTIONS:
        assert match(question.question)[0] is question
        assert all(keyword == normalise(keyword) for keyword in question.keywords)
        assert by_key(question.key) is question
    assert len({question.key for question in QUESTIONS}) == len(QUESTIONS)
    assert by_key("no-such-key") is None


def test_match_respects_the_limit() -> None:
    text = "qué documentos necesito para la residencia"
    assert len(match(text, limit=1)) == 1
    assert len(match(text)) <= 3


def test_normalise() -> None:
    assert normalise("  ¿Expiró el LINK?  ") == "expiro el link"
    assert normalise("contraseña_corta!!") == "contrasena corta"


def _callback_data(message: dict) -> dict[str, str]:
    markup = message.get("reply_markup") or {}
    return {b["text"]: b["callback_data"] for row in markup["inline_keyboard"] for b in row}


async def test_preguntas_lists_and_answers(running_bot: RunningBot, telegram: LocalBotApi) -> None:
    user = telegram.user()
    listing = await user.reply("/preguntas")
    assert listing["text"] == "Preguntas frecuentes:"
    assert buttons_of(listing) == [question.question for question in QUESTIONS]

    await user.press("No me llega el correo de validación, ¿qué hago?")
    answer = await user.wait_for()
    assert answer["text"].startswith("No me llega el correo de validación, ¿qué hago?\n\n")
    assert "spam" in answer["text"] and "/reenviar" in answer["text"]
    data = _callback_data(answer)
    assert data["Hablar con un voluntario"] == "menu:voluntario"
    assert data["Otra pregunta"] == callbacks.SHOW_QUESTIONS

    await user.press("Otra pregunta")
    again = await user.wait_for()
    assert again["text"] == "Preguntas frecuentes:"
    await user.press("¿Cuánto cuesta? ¿Alguien me puede cobrar?")
    cost = await user.wait_for()
    assert "gratis" in cost["text"] and "dinero" in cost["text"]


async def test_suggest_offers_answers_to_free_text(
    running_bot: RunningBot, telegram: LocalBotApi
) -> None:
    user = telegram.user()
    offer = await user.reply("el link expiró")
    assert offer["text"] == "Quizás le sirve alguna de estas respuestas:"
    assert buttons_of(offer)[0] == "El enlace de validación venció, ¿qué hago?"
    assert _callback_data(offer)["Hablar con un voluntario"] == "menu:voluntario"

    await user.press("El enlace de validación venció, ¿qué hago?")
    answer = await user.wait_for()
    assert "48 horas" in answer["text"]


async def test_a_question_in_the_middle_of_a_registration_keeps_its_step(
    running_bot: RunningBot, telegram: LocalBotApi
) -> None:
    user = telegram.user(user_id=9301)
    first = await user.reply("/crear_cuenta")
    assert "Paso 1 de 9" in first["text"]
    listing = await user.reply("/preguntas")
    assert listing["text"] == "Preguntas frecuentes:"
    await user.press("¿Cuánto cuesta? ¿Alguien me puede cobrar?")
    assert "gratis" in (await user.wait_for())["text"]
    step2 = await user.reply("Ana")
    assert "Paso 2 de 9" in step2["text"]
