"""The portal's registration form, declared once as data, and the one mechanism that walks it.

A draft in the database holds every acknowledged answer, so the conversation layer only asks,
shows and forwards; it never decides what comes next.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.accounts import AccountService
from bot.documents import proposal as document
from bot.i18n import N_, translator
from bot.registration.countries import COMMON_COUNTRIES, country_name, find_country
from bot.registration.results import Choice, Invalid, Result, Valid
from bot.registration.validation import (
    format_date,
    validate_birth_date,
    validate_email,
    validate_email_confirmation,
    validate_name,
    validate_password,
)
from bot.storage import RegistrationDraft

HUMAN_CHECK = "human_check"
SUMMARY = "summary"


@dataclass(frozen=True)
class FormContext:
    """What a field's check may need beyond the text: today's date, and the account services."""

    accounts: AccountService
    today: date
    telegram_user_id: int
    locale: str = "es"
    check_deliverability: bool = False
    # For a field that repeats another (FormField.confirms): the answer it must repeat.
    repeated: Any = None


# text, answers so far, context, chosen (True when the text is the value of a button we offered)
Accept = Callable[[str, dict[str, Any], FormContext, bool], Awaitable[Result]]


@dataclass(frozen=True)
class FormField:
    key: str
    label: str  # the portal's own label
    question: str
    example: str
    accept: Accept
    quick_answers: Callable[[str], tuple[Choice, ...]] = lambda _locale: ()
    secret: bool = False  # the message holding it is deleted; it is never shown back
    confirms: str | None = None  # the key of the field this one repeats
    display: Callable[[Any, str], str] = field(default=lambda value, _locale: str(value))
    # The button, on a question that repeats this field, that goes back to change it.
    change_label: str = N_("Cambiar este dato")
    # The datum of the child's identity document that answers it (bot.documents.proposal): a
    # photo of the document may answer it, while the form is at a field that has one.
    document: str | None = None


def _pure(validator: Callable[[str], Result]) -> Accept:
    async def accept(text: str, _answers: dict, _ctx: FormContext, _chosen: bool) -> Result:
        return validator(text)

    return accept


async def _mother_surname(text: str, answers: dict, ctx: FormContext, chosen: bool) -> Result:
    if chosen and text == "":
        return Valid("")
    return validate_name(text)


async def _birth_date(text: str, _answers: dict, ctx: FormContext, _chosen: bool) -> Result:
    result = validate_birth_date(text, today=ctx.today)
    if isinstance(result, Valid):
        # JSON in the draft: the ISO form, turned back into a date when the account is made.
        return Valid(result.value.isoformat(), result.note, result.note_params)
    return result


async def _country(text: str, _answers: dict, ctx: FormContext, chosen: bool) -> Result:
    if chosen:
        return Valid(text)
    return find_country(text, ctx.locale)


# Said of a taken address to a Telegram user that has met too many: nothing about an account.
ADDRESS_UNUSABLE = N_("Ese correo electrónico no se puede usar. Escriba otro correo electrónico.")


async def _email(text: str, _answers: dict, ctx: FormContext, chosen: bool) -> Result:
    # With the DNS check on, validation waits on the network: never on the event loop.
    result = await asyncio.to_thread(
        validate_email, text, check_deliverability=ctx.check_deliverability, accept_as_typed=chosen
    )
    if isinstance(result, Valid) and await ctx.accounts.email_taken(result.value):
        if not await ctx.accounts.may_name_taken(ctx.telegram_user_id, result.value):
            # Refusing it here would still tell taken from free, one address per message.
            # Taken in silence, it is refused only by "Crear cuenta": a whole form each, and
            # each free address so tried is an account, of MAX_ACCOUNTS_PER_USER.
            return result
        return Invalid(
            N_(
                "Ya existe una cuenta con el correo {email}. No se puede crear otra con el "
                "mismo correo. Escriba otro correo electrónico, por ejemplo {example}."
            ),
            {"email": result.value, "example": "nombre@gmail.com"},
        )
    return result


async def _email_confirmation(
    text: str, _answers: dict[str, Any], ctx: FormContext, _chosen: bool
) -> Result:
    result = validate_email_confirmation(text, email=str(ctx.repeated))
    return Valid(True) if isinstance(result, Valid) else result


async def _password(text: str, _answers: dict, ctx: FormContext, _chosen: bool) -> Result:
    result = validate_password(text)
    if isinstance(result, Valid):
        return Valid(await ctx.accounts.passwords.hash(result.value))
    return result


PASSWORDS_DIFFER = N_(
    "Las contraseñas no coinciden. Escriba otra vez la misma contraseña, o toque "
    "«Cambiar la contraseña» para elegir otra."
)


async def _password_confirmation(
    text: str, _answers: dict[str, Any], ctx: FormContext, _chosen: bool
) -> Result:
    # No password passes validate_password unless it may be one (a "/" at its start cannot),
    # so one that does not is no match, without the verify's ~0.1 s.
    if isinstance(validate_password(text), Valid) and await ctx.accounts.passwords.matches(
        str(ctx.repeated), text
    ):
        return Valid(True)
    return Invalid(PASSWORDS_DIFFER)


def _common_countries(locale: str) -> tuple[Choice, ...]:
    return tuple(Choice(country_name(code, locale), code) for code in COMMON_COUNTRIES)


def _hidden(_value: Any, _locale: str) -> str:
    return "••••••••"


FIELDS: tuple[FormField, ...] = (
    FormField(
        key="nombre",
        label=N_("Nombre"),
        question=N_(
            "¿Cuál es el nombre del niño, niña o adolescente? Escriba todos sus nombres, "
            "tal como aparecen en su documento."
        ),
        example=N_("María José"),
        accept=_pure(validate_name),
        document=document.GIVEN_NAMES,
    ),
    FormField(
        key="apellido_paterno",
        label=N_("Apellido Paterno"),
        question=N_("¿Cuál es su primer apellido (apellido paterno), como en su documento?"),
        example=N_("Pérez"),
        accept=_pure(validate_name),
        document=document.FATHER_SURNAME,
    ),
    FormField(
        key="apellido_materno",
        label=N_("Apellido Materno"),
        question=N_(
            "¿Cuál es su segundo apellido (apellido materno)? Si no tiene, toque el botón."
        ),
        example=N_("González"),
        accept=_mother_surname,
        quick_answers=lambda _locale: (Choice(N_("No tiene segundo apellido"), ""),),
        display=lambda value, locale: value or translator(locale)(N_("(no tiene)")),
        document=document.MOTHER_SURNAME,
    ),
    FormField(
        key="fecha_nacimiento",
        label=N_("Fecha de nacimiento"),
        question=N_("¿Cuál es su fecha de nacimiento? Escríbala así: dd-mm-aaaa."),
        example="23-04-2015",
        accept=_birth_date,
        display=lambda value, _locale: format_date(date.fromisoformat(value)),
        document=document.BIRTH_DATE,
    ),
    FormField(
        key="pais_nacimiento",
        label=N_("País de nacimiento"),
        question=N_("¿En qué país nació? Toque un botón o escriba el nombre del país."),
        example=N_("Venezuela"),
        accept=_country,
        quick_answers=_common_countries,
        display=lambda value, locale: country_name(value, locale),
        document=document.COUNTRY,
    ),
    FormField(
        key="correo",
        label=N_("Correo electrónico"),
        question=N_(
            "¿Qué correo electrónico usará la cuenta? Use un correo que la familia revise y "
            "conserve por mucho tiempo: allí llegará el enlace de validación."
        ),
        example="nombre@gmail.com",
        accept=_email,
        change_label=N_("Cambiar el correo"),
    ),
    FormField(
        key="correo_confirmacion",
        label=N_("Confirmar correo electrónico"),
        question=N_("Escriba de nuevo el mismo correo electrónico, para confirmarlo."),
        example="nombre@gmail.com",
        accept=_email_confirmation,
        confirms="correo",
    ),
    FormField(
        key="contrasena",
        label=N_("Contraseña"),
        question=N_(
            "Elija una contraseña para la cuenta: 8 caracteres como mínimo. Apúntela en un "
            "lugar seguro. Borraré su mensaje apenas lo lea."
        ),
        example=N_("una frase que recuerde, con letras y números"),
        accept=_password,
        secret=True,
        display=_hidden,
        change_label=N_("Cambiar la contraseña"),
    ),
    FormField(
        key="contrasena_confirmacion",
        label=N_("Confirmar contraseña"),
        question=N_("Escriba de nuevo la misma contraseña, para confirmarla."),
        example=N_("la misma contraseña"),
        accept=_password_confirmation,
        secret=True,
        confirms="contrasena",
    ),
)

FIELDS_BY_KEY = {form_field.key: form_field for form_field in FIELDS}
# What the summary lists: every field but the confirmations, which only repeat another.
SUMMARY_FIELDS = tuple(form_field for form_field in FIELDS if form_field.confirms is None)
SUMMARY_KEYS = frozenset(form_field.key for form_field in SUMMARY_FIELDS)
# The fields a photo of the child's document can answer, in the form's order.
DOCUMENT_FIELDS = tuple(form_field for form_field in FIELDS if form_field.document is not None)


def asks_a_secret(step: str) -> bool:
    """Whether the step is a password's question: its answer is deleted from the chat, and
    anything typed there may be a password."""
    asking = FIELDS_BY_KEY.get(step)
    return asking is not None and asking.secret


def takes_document(draft: RegistrationDraft) -> bool:
    """Whether the draft is at a question a photo of the document may answer."""
    asking = FIELDS_BY_KEY.get(draft.step)
    return asking is not None and asking.document is not None


TOO_LONG = N_(
    "Ese texto es demasiado largo ({length} caracteres). Escriba solo el dato pedido, "
    "por ejemplo: {example}"
)


@dataclass(frozen=True)
class Progress:
    """Where a draft stands: at field `number` of `total` (its portal label), or reviewing."""

    number: int | None
    total: int
    label: str | None


def progress(draft: RegistrationDraft) -> Progress:
    asking = FIELDS_BY_KEY.get(draft.step)
    if asking is None:  # the human check or the summary
        return Progress(None, len(FIELDS), None)
    return Progress(position(asking.key), len(FIELDS), asking.label)


def position(key: str) -> int:
    """1-based position of a field, for "Paso 3 de 9"."""
    return [form_field.key for form_field in FIELDS].index(key) + 1


def next_step(draft: RegistrationDraft) -> str:
    for form_field in FIELDS:
        if form_field.key not in draft.answers:
            return form_field.key
    return SUMMARY if draft.human_checked else HUMAN_CHECK


def answered_labels(draft: RegistrationDraft) -> list[str]:
    return [form_field.label for form_field in FIELDS if form_field.key in draft.answers]


def summary(draft: RegistrationDraft, locale: str) -> list[tuple[str, str]]:
    """(label, shown value) of each answer, the password hidden; labels still to translate."""
    return [
        (form_field.label, form_field.display(draft.answers[form_field.key], locale))
        for form_field in SUMMARY_FIELDS
        if form_field.key in draft.answers
    ]
