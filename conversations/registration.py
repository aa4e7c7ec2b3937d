"""The registration conversation: the portal's "Crear cuenta" form, one field per message.

Which field comes next, and what an answer means, is decided by `bot.registration`; this module
only asks, shows buttons, deletes password messages and sends the link. A photo of the child's
document, read by `bot.documents`, is shown back as a proposal; accepted, its values are the
answers, through the same mechanism as typed ones.
"""

from __future__ import annotations

import functools
import logging
import warnings
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram import Document, Message, PhotoSize, Update
from telegram.error import TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.accounts import CreatedAccount, EmailTaken, TooManyAccounts
from bot.documents import Busy, Proposal, Refusal
from bot.i18n import N_, Translate, translator
from bot.registration.form import (
    ADDRESS_UNUSABLE,
    DOCUMENT_FIELDS,
    FIELDS,
    FIELDS_BY_KEY,
    HUMAN_CHECK,
    PASSWORDS_DIFFER,
    SUMMARY,
    SUMMARY_FIELDS,
    asks_a_secret,
    position,
    summary,
    takes_document,
)
from bot.registration.results import Invalid, Result, Suggestion, Valid
from bot.registration.validation import PASSWORD_STARTS_WITH_SLASH
from bot.runtime.conversations import StoredConversation
from bot.services import Services
from bot.storage import RegistrationDraft, utcnow
from conversations.callbacks import (
    CANCEL,
    CREATE,
    EDIT,
    FIX_DOCUMENT,
    HUMAN_OK,
    PICK,
    START_REGISTRATION,
    USE_DOCUMENT,
    accept_row,
    volunteer_button,
)
from conversations.common import (
    acknowledge_button,
    button_fields,
    delete_quietly,
    draft_as_arrived,
    family_of,
    in_rows,
    keyboard,
    locale_of,
    password_kept_out,
    portal_name,
    privacy_notice,
    remove_pressed_buttons,
    reply,
    send_link_message,
    send_text,
    services,
    settle_button,
    texts,
    whole_number,
)

logger = logging.getLogger(__name__)

# Conversation states. Every form field shares ASKING: the draft knows which field it is.
ASKING, CHECKING_HUMAN, REVIEWING = "asking", "checking_human", "reviewing"

_FAILURES = "registration_failures"


def state_of(draft: RegistrationDraft) -> str:
    return _state_at(draft.step)


def _state_at(step: str) -> str:
    if step == HUMAN_CHECK:
        return CHECKING_HUMAN
    if step == SUMMARY:
        return REVIEWING
    return ASKING


# --- Asking -----------------------------------------------------------------------------------


Rows = list[list[tuple[str, str]]]


def _question(draft: RegistrationDraft, _: Translate, photo: bool = False) -> tuple[str, Rows]:
    if draft.step == HUMAN_CHECK:
        text = _(
            "Último paso antes de revisar: el portal pide confirmar que usted no es un robot. "
            "Toque el botón."
        )
        return text, [[(_("No soy un robot"), HUMAN_OK)]]
    if draft.step == SUMMARY:
        return _summary(draft, _)

    form_field = FIELDS_BY_KEY[draft.step]
    text = "\n\n".join(
        (
            _(
                "Paso {n} de {total}: {label}",
                n=position(form_field.key),
                total=len(FIELDS),
                label=portal_name(form_field.label, _),
            ),
            _(form_field.question),
            _("Ejemplo: {example}", example=_(form_field.example)),
        )
    )
    if photo and form_field.key == FIELDS[0].key:
        text += "\n\n" + _(
            "📷 O envíe una foto del pasaporte (la página de los datos) o del reverso de la "
            "cédula, y leo los datos. Plana, entera, con buena luz y sin flash."
        )
    choices = [
        (_(label), f"{PICK}:{draft.step}:{index}")
        for index, (label, _value) in enumerate(draft.choices)
    ]
    rows = in_rows(choices, 2 if len(choices) > 3 else 1)
    if form_field.confirms:
        repeated = FIELDS_BY_KEY[form_field.confirms]
        rows.append([(_(repeated.change_label), f"{EDIT}:{repeated.key}")])
    return text, rows


def _summary(draft: RegistrationDraft, _: Translate) -> tuple[str, Rows]:
    lines = [
        _(
            "Revise los datos de la cuenta. Deben ser los del documento del niño, niña o "
            "adolescente:"
        ),
        "",
    ]
    lines += [f"{portal_name(label, _)}: {shown}" for label, shown in summary(draft, draft.locale)]
    lines += [
        "",
        _(
            "Si algo está mal, toque el dato para corregirlo. Si todo está bien, toque "
            "«Crear cuenta»."
        ),
    ]
    edits = [(f"✏️ {_(f.label)}", f"{EDIT}:{f.key}") for f in SUMMARY_FIELDS]
    rows = [*in_rows(edits, 2), [(_("✅ Crear cuenta"), CREATE)], [(_("Cancelar"), CANCEL)]]
    return "\n".join(lines), rows


async def ask(
    context: ContextTypes.DEFAULT_TYPE,
    draft: RegistrationDraft,
    *before: str,
    offer_volunteer: bool = False,
    first_row: list[tuple[str, str]] | None = None,
) -> str:
    """Sends the draft's current question, after any `before` lines; returns the state."""
    _ = translator(draft.locale)
    question, rows = _question(draft, _, photo=services(context).documents.available)
    if first_row:
        rows.insert(0, first_row)
    if offer_volunteer:
        rows.append([volunteer_button(_)])
    text = "\n\n".join((*before, question))
    await send_text(context.bot, draft.telegram_chat_id, text, keyboard(rows))
    return state_of(draft)


async def resume(context: ContextTypes.DEFAULT_TYPE, telegram_user_id: int, before: str) -> bool:
    """Asks a family's current registration question again, after `before` if any (after a
    question to volunteers, say); False when it has no registration in progress."""
    draft = await services(context).registrations.current(telegram_user_id)
    if draft is None:
        return False
    await ask(context, draft, *([before] if before else []))
    return True


def _explain(result: Result, _: Translate) -> str | None:
    if isinstance(result, Invalid):
        return _(result.message, **result.params)
    if isinstance(result, Valid) and result.note:
        return _(result.note, **result.note_params)
    return None


async def _respond(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    draft: RegistrationDraft,
    result: Result,
    *before: str,
) -> str:
    _ = translator(draft.locale)
    if isinstance(result, Suggestion):
        buttons = [
            (label, f"{PICK}:{draft.step}:{index}")
            for index, (label, _value) in enumerate(draft.choices)
        ]
        text = "\n\n".join(
            (
                *before,
                _(result.message, **result.params),
                _("Toque la opción correcta, o escriba la respuesta de nuevo."),
            )
        )
        await reply(update, context, text, keyboard(in_rows(buttons, 1)))
        return state_of(draft)
    explanation = _explain(result, _)
    return await ask(
        context,
        draft,
        *before,
        *([explanation] if explanation else []),
        offer_volunteer=_failed_twice(context, draft, result),
    )


def _failed_twice(
    context: ContextTypes.DEFAULT_TYPE, draft: RegistrationDraft, result: Result
) -> bool:
    """Counts refusals of the current field; from the second on, a volunteer is offered.
    In memory on purpose: it is only a hint, and a restart may well forget it."""
    if context.user_data is None:
        return False
    failures: dict[str, int] = context.user_data.setdefault(_FAILURES, {})
    if not isinstance(result, Invalid):
        failures.clear()  # the field was answered; the draft has moved on
        return False
    failures[draft.step] = failures.get(draft.step, 0) + 1
    return failures[draft.step] >= 2


# --- Entry ------------------------------------------------------------------------------------


async def start_registration(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    await settle_button(update)
    family = family_of(update)
    if family is None:
        return ConversationHandler.END
    user, chat = family
    found = services(context)
    _ = texts(update, context)
    # Read before the draft is begun: should either read fail, no draft stands at its first
    # question that a family could answer, and so accept a notice it was never shown.
    earlier = await found.accounts.has_account(user.id)
    accepted = await found.privacy.accepted(user.id)
    draft = await found.registrations.begin(
        user.id, chat.id, locale_of(update, context), read=draft_as_arrived(context)
    )
    if draft.answers or draft.step != FIELDS[0].key:
        intro = _("Seguimos con la cuenta que estaba creando, donde quedó.")
    else:
        intro = _(
            "Vamos a crear la cuenta del portal de trámites del Servicio Nacional de "
            "Migraciones, con los datos del documento del niño, niña o adolescente (NNA). "
            "Son {total} preguntas. Puede escribir /cancelar en cualquier momento.",
            total=len(FIELDS),
        )
        if earlier:
            intro += "\n\n" + _(
                "Usted ya creó una cuenta antes. Esta será otra cuenta, para otro niño, niña "
                "o adolescente, con otro correo electrónico."
            )
        if not accepted:
            # The notice comes before any data is given, in the same message as the first
            # question (one message less on a thin connection); answering that question also
            # accepts it, as the notice itself says.
            notice = (
                privacy_notice(_, found.settings)
                + "\n\n"
                + _(
                    "Al responder la primera pregunta, usted acepta este aviso. Puede leerlo de "
                    "nuevo con /privacidad."
                )
            )
            return await ask(context, draft, intro, notice, first_row=accept_row(_))
    return await ask(context, draft, intro)


# --- Answers ----------------------------------------------------------------------------------


DraftHandler = Callable[
    [Update, ContextTypes.DEFAULT_TYPE, RegistrationDraft], Awaitable[str | int]
]
StateHandler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, str | int]]


def with_draft(handler: DraftHandler) -> StateHandler:
    """Hands the family's draft to `handler`; without one, says so and ends the conversation."""

    @functools.wraps(handler)
    async def wrapper(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
        acknowledged = await acknowledge_button(update)
        try:
            return await _with_draft(update, context)
        finally:
            # After the reply, not before: taking the old buttons away is a courtesy, a round
            # trip to Telegram the family need not wait for.
            if acknowledged:
                await remove_pressed_buttons(update)

    async def _with_draft(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
        user = update.effective_user
        if user is None:
            return ConversationHandler.END
        draft = await services(context).registrations.current(
            user.id, read=draft_as_arrived(context)
        )
        if draft is None:
            _ = texts(update, context)
            await reply(
                update,
                context,
                _("Ese registro ya no está en curso. Escriba /crear_cuenta para empezar."),
            )
            return ConversationHandler.END
        return await handler(update, context, draft)

    return wrapper


@with_draft
async def receive_text(
    update: Update, context: ContextTypes.DEFAULT_TYPE, draft: RegistrationDraft
) -> str | int:
    message = update.effective_message
    if message is None or message.text is None:  # the filter lets only texts through
        return state_of(draft)
    _ = translator(draft.locale)
    found = services(context)
    if draft.step not in FIELDS_BY_KEY:
        # The summary or the human check waits for a button; an old state can also lag here.
        # A family that types its password once more is told it was taken out of the chat.
        return await ask(
            context,
            draft,
            *await password_kept_out(found, draft, message, _),
            _("Para seguir, toque uno de los botones."),
        )
    # Deleted before anything else is done with it: the chat must not keep a password.
    before = await password_kept_out(found, draft, message, _)
    if before and not asks_a_secret(draft.step):
        # The password itself, typed at another field's question (changed from the summary):
        # never an answer, which the summary would show.
        return await ask(context, draft, *before)
    if not draft.answers:
        await found.privacy.accept(draft.telegram_user_id)  # as the notice said it would be
    result = await found.registrations.answer(draft, message.text)
    if result is None:  # the draft moved past the fields meanwhile
        return await ask(context, draft, *before)
    return await _respond(update, context, draft, result, *before)


@with_draft
async def receive_choice(
    update: Update, context: ContextTypes.DEFAULT_TYPE, draft: RegistrationDraft
) -> str | int:
    fields = button_fields(update, PICK, 2)
    index = whole_number(fields[1]) if fields else None
    result = None
    if fields is not None and index is not None:
        result = await services(context).registrations.pick(draft, fields[0], index)
    if result is None:
        return await _stale_button(context, draft)
    return await _respond(update, context, draft, result)


async def _stale_button(context: ContextTypes.DEFAULT_TYPE, draft: RegistrationDraft) -> str:
    _ = translator(draft.locale)
    return await ask(context, draft, _("Este botón ya no sirve."))


@with_draft
async def receive_not_text(
    update: Update, context: ContextTypes.DEFAULT_TYPE, draft: RegistrationDraft
) -> str | int:
    return await _ask_for_text(context, draft, update.effective_message)


async def _ask_for_text(
    context: ContextTypes.DEFAULT_TYPE, draft: RegistrationDraft, message: Message | None
) -> str:
    _ = translator(draft.locale)
    # A photo's caption typed at a password's question may hold it as well as a text would.
    before = (
        [] if message is None else await password_kept_out(services(context), draft, message, _)
    )
    return await ask(
        context,
        draft,
        *before,
        _(
            "Aquí necesito una respuesta escrita con el teclado (no sirven stickers, fotos, audios "
            "ni ubicaciones)."
        ),
    )


# --- A photo of the child's document ---------------------------------------------------------

# Telegram lets a bot download up to 20 MB; a photo of a page needs far less.
_LARGEST_PHOTO = 10 * 1024 * 1024

_UNREAD = {
    Refusal.NOT_FOUND: N_(
        "No encontré en la foto el código de la parte de abajo del documento (las líneas con "
        "«<<<»). Pruebe con otra foto: el documento plano, entero, con buena luz y sin flash. "
        "O escriba la respuesta."
    ),
    Refusal.UNVERIFIED: N_(
        "No pude leer el código del documento con seguridad, así que no usé ningún dato de la "
        "foto. Pruebe con otra foto: plana, entera, con buena luz y sin flash. O escriba la "
        "respuesta."
    ),
    Busy.WAITING: N_(
        "Ahora hay muchas fotos por leer. Envíela otra vez en un minuto, o escriba la respuesta."
    ),
    Busy.TIMED_OUT: N_(
        "La lectura de la foto tardó demasiado. Pruebe con otra foto, o escriba la respuesta."
    ),
}


def _picture(message: Message) -> PhotoSize | Document | None:
    """The photo in a message (its largest size), or an image sent as a file."""
    if message.photo:
        return message.photo[-1]
    document = message.document
    if document is not None and (document.mime_type or "").startswith("image/"):
        return document
    return None


async def _download(picture: PhotoSize | Document) -> bytes | None:
    """The picture's bytes, in memory only; None when it is too large or cannot be had."""
    if picture.file_size is not None and picture.file_size > _LARGEST_PHOTO:
        return None
    try:
        file = await picture.get_file()
        data = await file.download_as_bytearray()
    except TelegramError as error:
        # The error's type only: its text may quote the file's address.
        logger.warning("could not download a photo of a document (%s)", type(error).__name__)
        return None
    return bytes(data) if len(data) <= _LARGEST_PHOTO else None


@with_draft
async def receive_photo(
    update: Update, context: ContextTypes.DEFAULT_TYPE, draft: RegistrationDraft
) -> str | int:
    """A photo at a question the child's document answers: read, and shown back for the family
    to accept or correct. Anywhere else, or with reading off, the usual "please type"."""
    message = update.effective_message
    found = services(context)
    picture = _picture(message) if message is not None else None
    if message is None or picture is None:
        return await _ask_for_text(context, draft, message)
    if not (found.documents.available and takes_document(draft)):
        return await _ask_for_text(context, draft, message)
    _ = translator(draft.locale)
    await reply(update, context, _("Estoy leyendo la foto del documento. Tarda unos segundos."))
    image = await _download(picture)
    # Deleted as soon as it is in memory: the chat must not keep a child's document.
    if await delete_quietly(message):
        before = [
            _("Borré su foto del chat, para proteger los datos del niño, niña o adolescente.")
        ]
    else:
        before = [
            _(
                "No pude borrar su foto: bórrela usted, por favor (mantenga el dedo sobre la "
                "foto y elija «Eliminar»)."
            )
        ]
    if image is None:
        failed = _("No pude descargar la foto. Envíela otra vez, o escriba la respuesta.")
        return await ask(context, draft, *before, failed)
    reading = await found.documents.read(draft.telegram_user_id, image)
    if not isinstance(reading, Proposal):
        return await ask(context, draft, *before, _(_UNREAD[reading]))
    text, rows = _proposal(reading, draft.locale, _)
    await reply(update, context, "\n\n".join((*before, text)), keyboard(rows))
    return state_of(draft)


def _proposal(proposal: Proposal, locale: str, _: Translate) -> tuple[str, Rows]:
    """One message: what the document says, field by field, what was guessed, and a button to
    use it all or one to correct each field."""
    lines = [
        _("Esto dice el pasaporte:")
        if proposal.passport
        else _("Esto dice el documento de identidad:"),
        "",
    ]
    corrections = []
    for form_field in DOCUMENT_FIELDS:
        given = proposal.stated.get(form_field.document or "")
        if given is None:
            continue
        # A typed answer is shown as typed; a button's value as the summary shows it.
        shown = form_field.display(given.text, locale) if given.chosen else given.text
        lines.append(f"{portal_name(form_field.label, _)}: {shown}")
        corrections.append(
            (f"✏️ {_(form_field.label)}", f"{FIX_DOCUMENT}:{proposal.ref}:{form_field.key}")
        )
    notes = []
    if proposal.country_from_nationality:
        notes.append(
            _(
                "El país de nacimiento es el de la nacionalidad del documento: si nació en otro "
                "país, corríjalo."
            )
        )
    if proposal.accents_added:
        notes.append(
            _(
                "El código del documento no lleva acentos: los agregué donde el nombre es común "
                "(como Pérez o Sofía). Revíselos."
            )
        )
    if proposal.surnames_unsure:
        notes.append(
            _(
                "Los apellidos tienen más de dos palabras: revise cuál es el paterno y cuál el "
                "materno."
            )
        )
    notes.append(
        _(
            "Si todo está bien, toque «Usar estos datos». Si algo está mal, toque ese dato para "
            "escribirlo usted. Al final podrá revisar todo."
        )
    )
    rows = [
        [(_("✅ Usar estos datos"), f"{USE_DOCUMENT}:{proposal.ref}")],
        *in_rows(corrections, 2),
    ]
    return "\n".join(lines) + "\n\n" + "\n\n".join(notes), rows


@with_draft
async def use_document(
    update: Update, context: ContextTypes.DEFAULT_TYPE, draft: RegistrationDraft
) -> str | int:
    fields = button_fields(update, USE_DOCUMENT, 1)
    if fields is None:
        return await _stale_button(context, draft)
    return await _answer_from_document(context, draft, fields[0], leave_out=None)


@with_draft
async def fix_document(
    update: Update, context: ContextTypes.DEFAULT_TYPE, draft: RegistrationDraft
) -> str | int:
    fields = button_fields(update, FIX_DOCUMENT, 2)
    if fields is None:
        return await _stale_button(context, draft)
    return await _answer_from_document(context, draft, fields[0], leave_out=fields[1])


async def _answer_from_document(
    context: ContextTypes.DEFAULT_TYPE, draft: RegistrationDraft, ref: str, leave_out: str | None
) -> str:
    """The proposal's values as the answers, but `leave_out`'s, which is asked; only what the
    family was offered: its own proposal, the one under whose message the button was (`ref`),
    still kept, and a field that proposal showed."""
    found = services(context)
    proposal = found.documents.proposal(draft.telegram_user_id)
    shown = {
        form_field.key
        for form_field in DOCUMENT_FIELDS
        if proposal is not None and form_field.document in proposal.stated
    }
    if (
        proposal is None
        or proposal.ref != ref
        or (leave_out is not None and leave_out not in shown)
    ):
        return await _stale_button(context, draft)
    result = await found.registrations.fill(draft, proposal.stated, leave_out=leave_out)
    if result is None:  # the form is past the document's fields
        return await _stale_button(context, draft)
    found.documents.forget(draft.telegram_user_id)
    _ = translator(draft.locale)
    explanation = _explain(result, _)
    before = [_("Guardé los datos del documento."), *([explanation] if explanation else [])]
    return await ask(context, draft, *before)


@with_draft
async def receive_out_of_place(
    update: Update, context: ContextTypes.DEFAULT_TYPE, draft: RegistrationDraft
) -> str | int:
    """A message where a button is expected, a command that does not fit here, or a button
    that belongs to no current question."""
    if update.callback_query is not None:
        return await _stale_button(context, draft)
    _ = translator(draft.locale)
    asked = FIELDS_BY_KEY.get(draft.step)
    if draft.step in (HUMAN_CHECK, SUMMARY):
        hint = _("Para seguir, toque uno de los botones.")
    elif asked is not None and asked.secret:
        # A password that starts with "/" came as a command: what the family meant to answer
        # (at its confirmation, no match, since none starts so).
        hint = _(PASSWORD_STARTS_WITH_SLASH if asked.confirms is None else PASSWORDS_DIFFER)
    else:
        hint = _(
            "Ese comando no sirve ahora. Responda la pregunta, o escriba /cancelar para salir."
        )
    message = update.effective_message
    kept_out = (
        await password_kept_out(services(context), draft, message, _) if message is not None else []
    )
    return await ask(context, draft, *kept_out, hint)


@with_draft
async def pass_human_check(
    update: Update, context: ContextTypes.DEFAULT_TYPE, draft: RegistrationDraft
) -> str | int:
    await services(context).registrations.pass_human_check(draft)
    return await ask(context, draft)


@with_draft
async def edit_field(
    update: Update, context: ContextTypes.DEFAULT_TYPE, draft: RegistrationDraft
) -> str | int:
    fields = button_fields(update, EDIT, 1)
    if fields is None or not await services(context).registrations.edit(draft, fields[0]):
        return await _stale_button(context, draft)
    return await ask(context, draft)


# --- The end ----------------------------------------------------------------------------------


@with_draft
async def create_account(
    update: Update, context: ContextTypes.DEFAULT_TYPE, draft: RegistrationDraft
) -> str | int:
    _ = translator(draft.locale)
    found = services(context)
    if draft.step != SUMMARY:
        return await ask(context, draft)
    try:
        created = await found.create_account(draft)
    except EmailTaken as taken:
        return await ask(
            context,
            draft,
            _(
                "Ese correo electrónico ya tiene una cuenta: no se puede crear otra con el mismo "
                "correo. Escriba otro correo electrónico."
            )
            if taken.named
            else _(ADDRESS_UNUSABLE),
        )
    except TooManyAccounts as limit:
        return await ask(
            context,
            draft,
            _(
                "Ya creó el máximo de cuentas que se pueden crear desde este Telegram ({n}). Si "
                "necesita otra, hable con un voluntario: /voluntario.",
                n=limit.count,
            ),
        )
    # The e-mail was queued in the outbox with the account; its worker sends it.
    await send_link(context, draft.telegram_chat_id, created, _)
    return ConversationHandler.END


async def send_link(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, created: CreatedAccount, _: Translate
) -> None:
    """The verification link in the chat: a button, and the URL as text to copy."""
    account = created.account
    text = "\n\n".join(
        (
            _("¡Listo! La cuenta de {name} fue creada.", name=account.first_names),
            _(
                "Para terminar, valide el correo electrónico: abra este enlace (también se lo "
                "enviamos a {email}; si no lo ve, revise la carpeta de spam o correo no deseado):",
                email=account.email,
            ),
            created.link,
            _("El enlace vence en {hours} horas.", hours=_hours(created)),
        )
    )
    await send_link_message(context.bot, chat_id, text, created.link, _)


def _hours(created: CreatedAccount) -> int:
    return max(1, round((created.expires_at - utcnow()).total_seconds() / 3600))


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    await settle_button(update)
    user = update.effective_user
    if user is None:
        return ConversationHandler.END
    _ = texts(update, context)
    services(context).documents.forget(user.id)
    discarded = await services(context).registrations.discard(user.id)
    if discarded:
        text = _(
            "Registro cancelado. Borré lo que había escrito: {fields}.",
            fields=", ".join(_(label) for label in discarded),
        )
    else:
        text = _("Registro cancelado.")
    await reply(
        update, context, text + "\n\n" + _("Cuando quiera empezar de nuevo, escriba /crear_cuenta.")
    )
    return ConversationHandler.END


NAME = "registration"


def stored_state(found: Services, chat_id: int, user_id: int) -> str | None:
    """Where the family stands in its chat, from its draft as read at the start of the update:
    whichever process took its last answer."""
    standing = found.registrations.standing(user_id)
    if standing is None or standing[0] != chat_id:
        return None
    return _state_at(standing[1])


def build() -> ConversationHandler:
    # Last in the fallbacks: whatever the current state has no handler for is answered with
    # the current question again, never with silence.
    out_of_place: list[BaseHandler[Update, Any, object]] = [
        MessageHandler(filters.ALL, receive_out_of_place),
        CallbackQueryHandler(receive_out_of_place),
    ]
    with warnings.catch_warnings():
        # The registration tracks buttons per chat, not per message, on purpose: a family has
        # one registration at a time. python-telegram-bot warns about that combination.
        warnings.simplefilter("ignore", PTBUserWarning)
        return _conversation(out_of_place)


def _conversation(out_of_place: list[BaseHandler[Update, Any, object]]) -> ConversationHandler:
    text_answer = filters.TEXT & ~filters.COMMAND
    anything_else = ~filters.COMMAND
    return StoredConversation(
        # The state is the draft's step, read at every update: see stored_state.
        state_of=stored_state,
        name=NAME,
        entry_points=[
            CommandHandler("crear_cuenta", start_registration, filters=filters.ChatType.PRIVATE),
            CallbackQueryHandler(start_registration, pattern=f"^{START_REGISTRATION}$"),
        ],
        states={
            ASKING: [
                MessageHandler(text_answer, receive_text),
                CallbackQueryHandler(receive_choice, pattern=f"^{PICK}:"),
                CallbackQueryHandler(edit_field, pattern=f"^{EDIT}:"),
                # A photo of the child's document, and what it proposed.
                MessageHandler(filters.PHOTO | filters.Document.IMAGE, receive_photo),
                CallbackQueryHandler(use_document, pattern=f"^{USE_DOCUMENT}:"),
                CallbackQueryHandler(fix_document, pattern=f"^{FIX_DOCUMENT}:"),
                MessageHandler(anything_else, receive_not_text),
            ],
            CHECKING_HUMAN: [CallbackQueryHandler(pass_human_check, pattern=f"^{HUMAN_OK}$")],
            REVIEWING: [
                CallbackQueryHandler(edit_field, pattern=f"^{EDIT}:"),
                CallbackQueryHandler(create_account, pattern=f"^{CREATE}$"),
                # The summary's own button, only while the summary is what is asked: pressed on
                # an old summary (the family went back to change an answer), it is a stale
                # button like the others, and throws nothing away.
                CallbackQueryHandler(cancel, pattern=f"^{CANCEL}$"),
            ],
        },
        fallbacks=[
            # Typed, it is the family's own word, whatever the step.
            CommandHandler("cancelar", cancel),
            # /crear_cuenta or the menu button inside the flow: go on where the family was.
            CommandHandler("crear_cuenta", start_registration),
            CallbackQueryHandler(start_registration, pattern=f"^{START_REGISTRATION}$"),
            *out_of_place,
        ],
        allow_reentry=False,
    )
