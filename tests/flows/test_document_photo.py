"""A family fills the form from a photo of the child's document: the real bot, its OCR worker
process, and photos drawn by the tests, sent through the Bot API stand-in, which the bot
downloads as from Telegram."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select

from bot.devtools.local_telegram import LocalBotApi, LocalUser
from bot.devtools.specimens import (
    Holder,
    document_photo,
    id_card_zone,
    no_document_photo,
    passport_zone,
)
from bot.i18n import SUPPORTED_LOCALES, translator
from bot.registration.form import FIELDS
from bot.runtime.running import RunningBot
from bot.storage import Account, Database, RegistrationDraft
from tests.support.bot import BotUnderTest
from tests.support.chat import (
    GROUP,
    PASSWORD,
    answer,
    buttons_of,
    in_group,
    open_ticket,
    press,
    settle,
    url_buttons_of,
)
from tests.support.smtp_server import SmtpServer

SOFIA = Holder(
    surnames="RODRIGUEZ PENA",
    given_names="SOFIA VALENTINA",
    nationality="VEN",
    birth="150423",
    expiry="250101",  # expired, as many Venezuelan passports are: SERMIG takes them
    number="A12345678",
)


@pytest.fixture
async def reading_bot(bot_runner: BotUnderTest, make_settings) -> RunningBot:
    running = await bot_runner.start(make_settings(document_reading=True))
    assert running.services is not None
    assert await running.services.documents._reader.ready()  # type: ignore[union-attr]
    return running


async def send_photo(user: LocalUser, image: bytes) -> tuple[dict, dict]:
    """Sends the photo; returns the "reading" message and the answer after it."""
    sent = await user.send_photo(image=image)
    reading = await user.wait_for(lambda m: "Estoy leyendo" in m["text"])
    answered = await user.wait_for(lambda m: "Estoy leyendo" not in m["text"], timeout=30)
    assert sent["message_id"] in user.deleted_message_ids
    return reading, answered


async def test_a_passport_photo_fills_five_fields_and_the_account_is_made_with_them(
    reading_bot: RunningBot,
    telegram: LocalBotApi,
    smtp: SmtpServer,
    data_dir: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    user = telegram.user(user_id=3001, first_name="Yelitza")
    first = await answer(user, "/crear_cuenta", "Paso 1 de 9")
    assert "foto del pasaporte" in first["text"]

    zone = passport_zone(SOFIA)
    image = document_photo(zone, angle=-5, blur=1.5)  # tilted and blurred, as a phone takes it
    _, proposal = await send_photo(user, image)
    shown = proposal["text"]
    assert "Borré su foto" in shown
    assert "Esto dice el pasaporte" in shown
    for line in (
        "Nombre: Sofía Valentina",
        "Apellido Paterno: Rodríguez",
        "Apellido Materno: Peña",
        "Fecha de nacimiento: 23-04-2015",
        "País de nacimiento: Venezuela",
    ):
        assert line in shown, shown
    assert "nacionalidad" in shown and "acentos" in shown
    assert "✅ Usar estos datos" in buttons_of(proposal)
    assert "✏️ Apellido Materno" in buttons_of(proposal)

    # Before the family accepts, nothing of the photo or its code is kept anywhere.
    await _nothing_kept(reading_bot, data_dir, caplog, image, zone, ("Rodríguez", "RODRIGUEZ"))

    email_question = await press(user, "Usar estos datos", "Paso 6 de 9")
    assert "Guardé los datos del documento" in email_question["text"]
    await answer(user, "sofia.rodriguez@gmail.com", "Paso 7 de 9")
    await answer(user, "sofia.rodriguez@gmail.com", "Paso 8 de 9")
    await answer(user, PASSWORD, "Paso 9 de 9")
    await answer(user, PASSWORD, "no es un robot")
    review = await press(user, "No soy un robot", "Revise los datos")
    for line in ("Sofía Valentina", "Rodríguez", "Peña", "23-04-2015", "Venezuela"):
        assert line in review["text"]

    await user.press("Crear cuenta")
    done = await user.wait_for(lambda m: "/validate/" in m["text"])
    assert "Validar mi correo electrónico" in url_buttons_of(done)
    assert reading_bot.services is not None
    async with reading_bot.services.database.session() as session:
        account = (await session.exec(select(Account))).one()
    names = (account.first_names, account.father_surname, account.mother_surname)
    assert names == ("Sofía Valentina", "Rodríguez", "Peña")
    assert account.birth_date == date(2015, 4, 23) and account.country_code == "VE"


async def _nothing_kept(
    running: RunningBot,
    data_dir: Path,
    caplog: pytest.LogCaptureFixture,
    image: bytes,
    zone: list[str],
    names: tuple[str, ...],
) -> None:
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for line in zone:
        assert line not in logged
        assert line[:20] not in logged
    for name in names:
        assert name not in logged
    assert image[:64].hex() not in logged
    for path in data_dir.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert image[1000:1064] not in content, path
            for line in zone:
                assert line.encode() not in content, path
            for name in names:
                assert name.encode() not in content, path
    assert running.services is not None
    database: Database = running.services.database
    async with database.session() as session:
        drafts = (await session.exec(select(RegistrationDraft))).all()
    assert drafts, "the registration's draft is there, without the document's data"
    for draft in drafts:
        for name in names:
            assert name not in str(draft.answers)


def use_data_of(proposal: dict) -> str:
    return str(proposal["reply_markup"]["inline_keyboard"][0][0]["callback_data"])


async def test_the_button_under_an_older_photo_does_not_apply_the_newer_one(
    reading_bot: RunningBot, telegram: LocalBotApi
) -> None:
    user = telegram.user(user_id=3004, first_name="Rose")
    await answer(user, "/crear_cuenta", "Paso 1 de 9")
    _, older = await send_photo(user, document_photo(passport_zone(SOFIA)))
    sibling = Holder(surnames="JEAN", given_names="PIERRE", nationality="HTI", birth="140101")
    _, newer = await send_photo(user, document_photo(passport_zone(sibling)))
    assert "Pierre" in newer["text"]
    await user.press_data(use_data_of(older))
    stale = await user.wait_for()
    assert "ya no sirve" in stale["text"] and "Paso 1 de 9" in stale["text"]
    await user.press_data(use_data_of(newer))
    assert "Guardé los datos del documento" in (await user.wait_for())["text"]


async def test_an_id_card_is_read_and_a_field_corrected_by_hand(
    reading_bot: RunningBot, telegram: LocalBotApi
) -> None:
    user = telegram.user(user_id=3002, first_name="Rose")
    await answer(user, "/crear_cuenta", "Paso 1 de 9")
    await answer(user, "Marie", "Paso 2 de 9")  # a photo is taken at any question before the e-mail

    holder = Holder(
        surnames="JEAN BAPTISTE", given_names="MARIE CLAIRE", nationality="HTI", birth="120905"
    )
    image = document_photo(id_card_zone(holder), width=1000, angle=3, blur=1.0)
    _, proposal = await send_photo(user, image)
    shown = proposal["text"]
    ref = use_data_of(proposal).split(":")[2]
    assert "Esto dice el documento de identidad" in shown
    assert "Nombre: Marie Claire" in shown and "Apellido Paterno: Jean" in shown
    assert "Apellido Materno: Baptiste" in shown and "05-09-2012" in shown
    assert "País de nacimiento: Haití" in shown
    assert "acentos" not in shown

    # «Jean Baptiste» is one compound surname: the family types the paternal surname itself.
    asked = await press(user, "✏️ Apellido Paterno", "Paso 2 de 9")
    assert "Guardé los datos del documento" in asked["text"]
    await answer(user, "Jean-Baptiste", "Paso 6 de 9")

    # The button of a proposal already used does nothing more.
    await user.press_data(f"doc:use:{ref}")
    stale = await user.wait_for()
    assert "ya no sirve" in stale["text"] and "Paso 6 de 9" in stale["text"]


async def test_a_wrong_check_digit_or_no_document_fills_nothing_and_asks_again(
    reading_bot: RunningBot, telegram: LocalBotApi
) -> None:
    user = telegram.user(user_id=3003, first_name="Ana")
    await answer(user, "/crear_cuenta", "Paso 1 de 9")

    _, refused = await send_photo(user, document_photo(passport_zone(SOFIA, spoil=True)))
    assert "no usé ningún dato" in refused["text"] and "Paso 1 de 9" in refused["text"]
    assert "Borré su foto" in refused["text"]
    assert "Usar estos datos" not in buttons_of(refused)

    _, nothing = await send_photo(user, no_document_photo())
    assert "No encontré en la foto el código" in nothing["text"]
    assert "Paso 1 de 9" in nothing["text"]

    # A forged button for a proposal never made is only a stale button.
    await user.press_data("doc:fix:0badc0de:nombre")
    stale = await user.wait_for()
    assert "ya no sirve" in stale["text"] and "Paso 1 de 9" in stale["text"]

    # An image sent as a file is read too.
    sent = await user.send_document(
        "pasaporte.jpg", "image/jpeg", data=document_photo(passport_zone(SOFIA))
    )
    read = await user.wait_for(lambda m: "Esto dice el pasaporte" in m["text"], timeout=30)
    assert sent["message_id"] in user.deleted_message_ids
    assert "Sofía Valentina" in read["text"]


async def test_with_reading_off_a_photo_gets_the_usual_answer(
    running_bot: RunningBot, telegram: LocalBotApi
) -> None:
    user = telegram.user(user_id=3004)
    first = await answer(user, "/crear_cuenta", "Paso 1 de 9")
    assert "foto" not in first["text"]
    sent = await user.send_photo(image=document_photo(passport_zone(SOFIA)))
    usual = await user.wait_for()
    assert "escrita con el teclado" in usual["text"] and "Paso 1 de 9" in usual["text"]
    assert sent["message_id"] not in user.deleted_message_ids
    assert not telegram.downloads


# The first question, with the photo's tip, on a phone (tests/flows/test_languages.py).
QUESTION_LIMIT = 330
PHOTO_TIP = (
    "📷 O envíe una foto del pasaporte (la página de los datos) o del reverso de la cédula, y "
    "leo los datos. Plana, entera, con buena luz y sin flash."
)


@pytest.mark.parametrize("locale", SUPPORTED_LOCALES)
def test_the_first_question_with_the_photo_tip_is_short_enough_for_a_phone(locale: str) -> None:
    _ = translator(locale)
    first = FIELDS[0]
    label = first.label if _(first.label) == first.label else f"{first.label} — {_(first.label)}"
    shown = "\n\n".join(
        (
            _("Paso {n} de {total}: {label}", n=1, total=9, label=label),
            _(first.question),
            _("Ejemplo: {example}", example=_(first.example)),
            _(PHOTO_TIP),
        )
    )
    assert _(PHOTO_TIP) != PHOTO_TIP or locale == "es"
    assert len(shown) <= QUESTION_LIMIT, (locale, len(shown))


async def test_a_photo_at_a_document_question_does_not_go_to_an_open_ticket(
    bot_runner: BotUnderTest, make_settings, telegram: LocalBotApi
) -> None:
    await bot_runner.start(make_settings(volunteers_chat_id=GROUP))
    group, _volunteer = in_group(telegram, forum=False)
    user = telegram.user(user_id=3005, first_name="Rose")
    await answer(user, "/crear_cuenta", "Paso 1 de 9")
    await open_ticket(user, group)
    await settle(user)
    in_the_group = len(group.bot_messages)
    await user.send_photo(image=document_photo(passport_zone(SOFIA)))
    told = await user.wait_for(lambda m: "No pasé esa foto" in (m.get("text") or ""))
    assert "/cancelar" in told["text"]
    await settle(user)
    assert len(group.bot_messages) == in_the_group  # nothing of it reached the volunteers
