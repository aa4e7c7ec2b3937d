"""The form's mechanism below the chat: answers move a draft on, and only what the family is
offered can be changed, whatever a forged button asks for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.accounts import AccountService
from bot.documents import Stated
from bot.registration import FIELDS, SUMMARY, Registrations, summary
from bot.registration.results import Invalid, Valid
from bot.storage import Database, RegistrationDraft

FAMILY = 5_000_000_101


@pytest.fixture
def registrations(db: Database) -> Registrations:
    return Registrations(db, AccountService(db, link_base="http://127.0.0.1:8080"))


async def test_an_answer_moves_the_draft_to_the_next_field(registrations: Registrations) -> None:
    draft = await registrations.begin(FAMILY, FAMILY, "es")
    assert draft.step == "nombre"
    await registrations.answer(draft, "Rosa")
    again = await registrations.current(FAMILY)
    assert again is not None
    assert (again.step, again.answers) == ("apellido_paterno", {"nombre": "Rosa"})


async def test_a_button_of_another_question_or_out_of_range_is_refused(
    registrations: Registrations,
) -> None:
    draft = await registrations.begin(FAMILY, FAMILY, "es")
    await registrations.answer(draft, "Rosa")
    await registrations.answer(draft, "Pérez")
    assert draft.step == "apellido_materno" and draft.choices  # "No tiene segundo apellido"
    assert await registrations.pick(draft, "nombre", 0) is None
    assert await registrations.pick(draft, draft.step, 99) is None
    assert await registrations.pick(draft, draft.step, -1) is None


async def test_only_offered_fields_can_be_changed(registrations: Registrations) -> None:
    draft = await registrations.begin(FAMILY, FAMILY, "es")
    # At the first question, no other field is on offer: a forged "edit" changes nothing.
    assert not await registrations.edit(draft, "correo_confirmacion")
    assert not await registrations.edit(draft, "correo")
    assert not await registrations.edit(draft, "no_such_field")
    assert (await registrations.current(FAMILY)).step == "nombre"  # type: ignore[union-attr]

    draft.answers = {"nombre": "Rosa", "correo": "rosa@gmail.com"}
    draft.step = "correo_confirmacion"
    # Its confirmation offers to change the address it repeats, and only that.
    assert not await registrations.edit(draft, "nombre")
    assert await registrations.edit(draft, "correo")
    assert draft.step == "correo"


async def test_the_summary_offers_every_field_but_the_confirmations(
    registrations: Registrations,
) -> None:
    draft = await registrations.begin(FAMILY, FAMILY, "es")
    draft.answers = {f.key: "x" for f in FIELDS}
    draft.human_checked = True
    draft.step = SUMMARY
    assert not await registrations.edit(draft, "correo_confirmacion")
    assert await registrations.edit(draft, "nombre")
    assert draft.step == "nombre" and "nombre" not in draft.answers


async def test_a_draft_at_a_step_the_form_no_longer_has_goes_on_at_the_first_missing_field(
    registrations: Registrations, db: Database
) -> None:
    async with db.session() as session:
        session.add(
            RegistrationDraft(
                telegram_user_id=FAMILY,
                telegram_chat_id=FAMILY,
                step="telefono",
                answers={"nombre": "Rosa", "telefono": "+56 9 1234 5678"},
            )
        )
        await session.commit()
    draft = await registrations.current(FAMILY)
    assert draft is not None
    assert (draft.step, draft.answers) == ("apellido_paterno", {"nombre": "Rosa"})


async def test_the_summary_shows_every_answer_but_the_confirmations_and_hides_the_password(
    registrations: Registrations,
) -> None:
    draft = await registrations.begin(FAMILY, FAMILY, "es")
    for text in ("Rosa", "Pérez", "Soto", "09-03-2015", "Haití"):
        await registrations.answer(draft, text)
    for text in ("rosa@gmail.com", "rosa@gmail.com", "Clave-Secreta-2024", "Clave-Secreta-2024"):
        await registrations.answer(draft, text)
    await registrations.pass_human_check(draft)
    assert draft.step == SUMMARY
    shown = dict(summary(draft, "es"))
    assert list(shown) == [f.label for f in FIELDS if f.confirms is None]
    assert shown["Nombre"] == "Rosa" and shown["País de nacimiento"] == "Haití"
    assert shown["Fecha de nacimiento"] == "09-03-2015"
    assert "Clave" not in shown["Contraseña"]


async def test_a_confirmation_is_checked_against_the_answer_it_repeats(
    registrations: Registrations,
) -> None:
    draft = await registrations.begin(FAMILY, FAMILY, "es")
    for text in ("Rosa", "Pérez", "Soto", "09-03-2015", "Haití", "rosa@gmail.com"):
        await registrations.answer(draft, text)
    refused = await registrations.answer(draft, "otra@gmail.com")
    assert isinstance(refused, Invalid) and draft.step == "correo_confirmacion"
    assert isinstance(await registrations.answer(draft, "ROSA@gmail.com"), Valid)
    await registrations.answer(draft, "Clave-Secreta-2024")
    assert isinstance(await registrations.answer(draft, "Clave-Otra-2024"), Invalid)
    assert isinstance(await registrations.answer(draft, "Clave-Secreta-2024"), Valid)
    assert draft.step == "human_check"


async def test_an_unfinished_draft_is_reminded_once_after_the_hours_set(db: Database) -> None:
    now = [datetime.now(UTC).replace(tzinfo=None)]
    registrations = Registrations(
        db, AccountService(db, link_base="http://127.0.0.1:8080"), clock=lambda: now[0]
    )
    draft = await registrations.begin(FAMILY, FAMILY, "es")
    await registrations.answer(draft, "Rosa")
    now[0] += timedelta(hours=1.4)
    assert await registrations.remind_unfinished(timedelta(hours=1.5)) == []
    now[0] += timedelta(hours=0.2)
    (reminded,) = await registrations.remind_unfinished(timedelta(hours=1.5))
    assert (reminded.telegram_user_id, reminded.step) == (FAMILY, "apellido_paterno")
    now[0] += timedelta(hours=10)
    assert await registrations.remind_unfinished(timedelta(hours=1.5)) == []


DOCUMENT = {
    "given_names": Stated("Sofía Valentina"),
    "father_surname": Stated("Rodríguez"),
    "mother_surname": Stated("", chosen=True),
    "birth_date": Stated("23-04-2015"),
    "country": Stated("VE", chosen=True),
}


async def test_a_document_answers_its_fields_through_their_own_checks(
    registrations: Registrations,
) -> None:
    draft = await registrations.begin(FAMILY, FAMILY, "es")
    await registrations.answer(draft, "Sofi")  # typed first, then the photo
    assert await registrations.fill(draft, DOCUMENT) == Valid(True)
    again = await registrations.current(FAMILY)
    assert again is not None and again.step == "correo"
    assert again.answers == {
        "nombre": "Sofía Valentina",
        "apellido_paterno": "Rodríguez",
        "apellido_materno": "",
        "fecha_nacimiento": "2015-04-23",
        "pais_nacimiento": "VE",
    }


async def test_a_field_left_out_or_refused_is_asked_next(registrations: Registrations) -> None:
    draft = await registrations.begin(FAMILY, FAMILY, "es")
    await registrations.fill(draft, DOCUMENT, leave_out="apellido_materno")
    assert draft.step == "apellido_materno" and "apellido_materno" not in draft.answers
    assert draft.answers["pais_nacimiento"] == "VE"

    refused = await registrations.fill(draft, {**DOCUMENT, "birth_date": Stated("23-04-2099")})
    assert isinstance(refused, Invalid)
    assert draft.step == "fecha_nacimiento" and "fecha_nacimiento" not in draft.answers
    # Typed or tapped, the same rule: an empty second surname only from the button.
    await registrations.fill(draft, {**DOCUMENT, "mother_surname": Stated("")})
    assert draft.step == "apellido_materno"


async def test_a_document_answers_nothing_once_the_form_is_past_its_fields(
    registrations: Registrations,
) -> None:
    draft = await registrations.begin(FAMILY, FAMILY, "es")
    await registrations.fill(draft, DOCUMENT)
    assert draft.step == "correo"
    assert await registrations.fill(draft, {**DOCUMENT, "given_names": Stated("Otra")}) is None
    assert draft.answers["nombre"] == "Sofía Valentina"
