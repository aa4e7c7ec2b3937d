"""What every conversation needs from a Telegram update: the services, the family's language,
a way to send text with buttons, and a keyboard that goes away once pressed."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable, Collection, Coroutine, Sequence
from typing import Any

from telegram import (
    Bot,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    Update,
    User,
)
from telegram.error import BadRequest, TelegramError
from telegram.ext import ApplicationHandlerStop, BaseHandler, ContextTypes

from bot.i18n import N_, Translate, normalise_locale, translator
from bot.portal import TRAMITES, Home
from bot.registration.drafts import DraftRead
from bot.registration.form import asks_a_secret
from bot.registration.results import Valid
from bot.registration.validation import validate_password
from bot.runtime.application import SERVICES_KEY
from bot.services import Services
from bot.settings import Settings
from bot.splitting import split_text
from bot.storage import Account, Holder, RegistrationDraft
from conversations.callbacks import home_rows, menu_rows

logger = logging.getLogger(__name__)


# Where the root puts how to publish one chat's command menu in a language.
CHAT_MENU_KEY = "publish_chat_menu"
ChatMenu = Callable[[Bot, int, str], Awaitable[None]]

# Where the root puts the registration's `resume`, for the conversations that need it.
RESUME_KEY = "resume_registration"
Resume = Callable[[ContextTypes.DEFAULT_TYPE, int, str], Awaitable[bool]]


# Said once per flood, to whoever sends too much too fast (bot/safety/flood.py).
FLOODED = N_(
    "Recibí muchos mensajes seguidos. Espere unos segundos y escriba de nuevo, un mensaje a la "
    "vez, por favor."
)


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    found: Services = context.bot_data[SERVICES_KEY]
    return found


# python-telegram-bot makes one CallbackContext per update, for every handler group: what the
# guards read of the database as the update arrived lives there, and dies with the update.
_ARRIVAL = "_draft_as_arrived"


def arrived(context: ContextTypes.DEFAULT_TYPE, read: DraftRead) -> None:
    """Keeps the family's draft as the guards read it, for this update's handlers."""
    setattr(context, _ARRIVAL, read)


def draft_as_arrived(context: ContextTypes.DEFAULT_TYPE) -> DraftRead | None:
    """The family's draft as read when this update arrived; None when it was not read."""
    read: DraftRead | None = getattr(context, _ARRIVAL, None)
    return read


async def resume_registration(
    context: ContextTypes.DEFAULT_TYPE, telegram_user_id: int, before: str
) -> bool:
    """Asks the family's current registration question again, after `before`; False when it
    has none in progress."""
    resume: Resume = context.bot_data[RESUME_KEY]
    return await resume(context, telegram_user_id, before)


def menu_keyboard(_: Translate) -> InlineKeyboardMarkup | None:
    return keyboard(menu_rows(_))


def privacy_notice(_: Translate, settings: Settings) -> str:
    """What is kept, why, who sees it, for how long, and how to delete it: shown before the
    first registration and by /privacidad."""
    return "\n\n".join(
        (
            _("Sus datos y este asistente"),
            _(
                "Guardamos lo que escribe para crear la cuenta (los datos del documento del niño, "
                "niña o adolescente y el correo), la cuenta creada, sus consultas a los "
                "voluntarios y sus respuestas, y el idioma que eligió."
            ),
            _(
                "Sirve solo para crear y validar la cuenta del portal y para que los voluntarios "
                "le ayuden. Los voluntarios ven sus preguntas y su nombre de Telegram, nunca su "
                "contraseña: de ella guardamos solo una huella que no se puede leer."
            ),
            _(
                "Un registro sin terminar se borra a los {draft_days} días; una cuenta sin "
                "validar, a los {account_days}; las consultas cerradas pierden su nombre a los "
                "{ticket_days} días.",
                draft_days=round(settings.draft_ttl_days),
                account_days=round(settings.unverified_account_days),
                ticket_days=round(settings.ticket_retention_days),
            ),
            _("Para ver todo lo guardado: /mis_datos. Para borrarlo: /borrar_mis_datos."),
        )
    )


def home_text(account: Account, _: Translate, home: Home | None = None) -> str:
    """The portal's home, as the family sees it once its account is verified."""
    home = home or Home()
    lines = [
        _("Servicio Nacional de Migraciones — Trámites"),
        _("Cuenta de {name} ({email})", name=account.first_names, email=account.email),
        "",
        _("Estado de cuenta: Verificado"),
        _("Su cuenta ha sido correctamente verificada."),
        "",
        _("Iniciar trámite"),
        _("Bandeja de Entrada ({n})", n=home.inbox) + " · " + _("Sin asignar"),
        _("Historial de Trámites ({n})", n=home.history),
        *(
            "   " + _("{tramite}: documentos que faltan: {n}", tramite=_(name), n=len(documents))
            for name, documents in home.missing
            if documents
        ),
        "",
        _("Listado de trámites disponibles:"),
        *(f"• {_(tramite)}" for tramite in TRAMITES),
    ]
    return "\n".join(lines)


async def account_in_use(found: Services, telegram_user_id: int) -> Account | None:
    """The account logged in to (maybe another child's, or from another phone), else the
    person's own newest."""
    return await found.sessions.account_of(telegram_user_id) or (
        await found.accounts.latest_account(telegram_user_id)
    )


async def holder_of(found: Services, telegram_user_id: int) -> Holder:
    """Whose Bandeja de Entrada and Historial de Trámites this person sees now."""
    return Holder.of(await account_in_use(found, telegram_user_id), telegram_user_id)


async def home_of(found: Services, account: Account, reader: int) -> Home:
    """The counts of the account's home as `reader` sees it: its inbox, its trámites and what
    they still lack."""
    holder = Holder.of(account, reader)
    checklists = await found.tramites.of(holder)
    return Home(
        inbox=await found.inbox.count(holder, unread=True),
        history=len(checklists),
        missing=tuple((c.tramite.name, c.missing) for c in checklists),
    )


def home_keyboard(_: Translate) -> InlineKeyboardMarkup | None:
    return keyboard(home_rows(_))


def locale_of(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    """The family's language: the one it chose, else its Telegram app's, else Spanish."""
    user = update.effective_user
    if user is None:
        return normalise_locale(None)
    return services(context).languages.of(user.id, user.language_code)


def portal_name(spanish: str, _: Translate) -> str:
    """A name the family will meet on the portal, which is in Spanish: beside its translation,
    as "Apellido Paterno — Siyati papa"; alone in Spanish."""
    translated = _(spanish)
    if spanish in translated:  # the translation already shows it, as "Lista (Listado)"
        return translated
    return f"{spanish} — {translated}"


def texts(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Translate:
    return translator(locale_of(update, context))


def keyboard(rows: Sequence[Sequence[tuple[str, str]]]) -> InlineKeyboardMarkup | None:
    """Inline buttons from rows of (label, callback data); None when there are none."""
    buttons = [
        [InlineKeyboardButton(label, callback_data=data) for label, data in row]
        for row in rows
        if row
    ]
    return InlineKeyboardMarkup(buttons) if buttons else None


def in_rows(buttons: Sequence[tuple[str, str]], per_row: int) -> list[list[tuple[str, str]]]:
    return [list(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row)]


async def reply(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
) -> Message:
    chat = update.effective_chat
    if chat is None:
        raise LookupError("this update has no chat to answer in")
    return await send_text(context.bot, chat.id, text, markup)


def family_of(update: Update) -> tuple[User, Chat] | None:
    """The person and the chat an update comes from; None for one with neither (a button of
    an inline message, say), which no family handler answers."""
    user, chat = update.effective_user, update.effective_chat
    return (user, chat) if user is not None and chat is not None else None


async def send_text(
    bot: Bot,
    chat_id: int,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
    **options: Any,
) -> Message:
    """Sends `text` as as many messages as Telegram's length limit needs, in order; the buttons
    go with the last one, which is returned."""
    *pieces, last = split_text(text)
    for piece in pieces:
        await bot.send_message(chat_id, piece, **options)
    return await bot.send_message(chat_id, last, reply_markup=markup, **options)


def button_fields(update: Update, prefix: str, count: int) -> list[str] | None:
    """The `count` fields after `prefix:` in a pressed button's data, or None when the data is
    not of that shape: button data can be forged, so it is read as any other input."""
    query = update.callback_query
    data = query.data if query is not None else None
    if not isinstance(data, str) or not data.startswith(prefix + ":"):
        return None
    fields = data[len(prefix) + 1 :].split(":")
    return fields if len(fields) == count else None


def button_choice(update: Update, prefix: str, choices: Collection[str]) -> str | None:
    """The one field after `prefix:` when it is one of `choices` the bot offers, else None."""
    fields = button_fields(update, prefix, 1)
    return fields[0] if fields is not None and fields[0] in choices else None


# Ids in the database are 32-bit integers: a larger one would make PostgreSQL fail the query.
_LARGEST_ID = 2**31 - 1


def whole_number(text: str) -> int | None:
    """A plain non-negative number as button data carries it ("12"), or None."""
    if not (text.isascii() and text.isdigit() and len(text) <= 10):
        return None
    number = int(text)
    return number if number <= _LARGEST_ID else None


async def answer_button(update: Update, text: str | None) -> None:
    """Answers a button press (a short notice on the phone when `text`), so it stops spinning."""
    query = update.callback_query
    if query is None:
        return
    try:
        await query.answer(text)
    except TelegramError as error:
        logger.info("could not answer a button press: %s", error)


Callback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


def final(callback: Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[object]]) -> Callback:
    """Once `callback` has answered, the update goes no further: for handlers ahead of the
    registration, so that it neither answers too nor loses its step."""

    @functools.wraps(callback)
    async def answered(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await callback(update, context)
        raise ApplicationHandlerStop

    return answered


def answering_first(
    handlers: list[BaseHandler[Update, Any, Any]],
) -> list[BaseHandler[Update, Any, Any]]:
    """`handlers`, each made `final`: what the composition root puts ahead of the registration."""
    for handler in handlers:
        handler.callback = final(handler.callback)
    return handlers


async def settle_button(update: Update) -> None:
    """Acknowledges a button press and removes that keyboard, so an old question's buttons
    cannot be pressed again by mistake. Both are courtesies: failing them changes nothing."""
    if await acknowledge_button(update):
        await remove_pressed_buttons(update)


async def acknowledge_button(update: Update) -> bool:
    """The first half of settle_button: Telegram's spinner on the button stops. False when
    there was no press, or Telegram refused."""
    query = update.callback_query
    if query is None:
        return False
    try:
        await query.answer()
    except TelegramError as error:
        logger.info("could not settle a button press: %s", error)
        return False
    return True


async def remove_pressed_buttons(update: Update) -> None:
    """The second half of settle_button: the pressed message's keyboard goes."""
    query = update.callback_query
    if query is None or query.message is None or not isinstance(query.message, Message):
        return
    try:
        await query.edit_message_reply_markup(reply_markup=None)
    except TelegramError as error:
        logger.info("could not settle a button press: %s", error)


async def delete_quietly(message: Message) -> bool:
    """Deletes a message; returns whether it is gone."""
    try:
        return await message.delete()
    except BadRequest as error:
        if "not found" in str(error).lower():
            return True  # gone already: deleted by an earlier update (two edits in a row)
        logger.warning("could not delete message %s: %s", message.message_id, error)
        return False
    except TelegramError as error:
        logger.warning("could not delete message %s: %s", message.message_id, error)
        return False


async def delete_at_a_password_question(
    found: Services, telegram_user_id: int, message: Message | None
) -> None:
    """For a message dropped unread (a flood): deleted all the same if the family stands at a
    password's question, as far as this process knows, since it may hold one. No hashing."""
    standing = found.registrations.standing(telegram_user_id)
    if (
        message is not None
        and (message.text or message.caption)
        and standing is not None
        and asks_a_secret(standing[1])
    ):
        await delete_quietly(message)


async def password_kept_out(
    found: Services,
    draft: RegistrationDraft,
    message: Message,
    _: Translate,
    *,
    edited: bool = False,
) -> list[str]:
    """Deletes the family's message (its text, or a photo's caption) if it may hold the
    password of its registration in progress, and says so (or asks the family to delete it);
    nothing to say otherwise.

    At a password's question anything typed may be one, a command included, and so may any
    message edited meanwhile. Anywhere else once the password is given (the check, the
    summary, a field changed from it), a text or an edit is checked against the draft's hash:
    one Argon2 verify, spared for a text that could be no password. Before the password is
    given, nothing is checked."""
    text = message.text or message.caption
    if text is None:
        return []
    # At a password's question an edit is deleted on suspicion; anywhere else, only once it
    # proves to be the password. (A field changed from the summary is asked again there: the
    # password typed at it would be saved, and shown back, as a name.)
    suspected = asks_a_secret(draft.step)
    if not suspected:
        stored = found.registrations.password_hash(draft)
        if not (
            stored is not None
            and isinstance(validate_password(text), Valid)
            and await found.accounts.passwords.matches(stored, text)
        ):
            return []
    if await delete_quietly(message):
        if suspected and edited:
            return [_("Borré su mensaje editado, por si tenía la contraseña.")]
        return [_("Borré su mensaje con la contraseña, para protegerla.")]
    return [
        _(
            "No pude borrar su mensaje con la contraseña: bórrelo usted, por "
            "favor (mantenga el dedo sobre el mensaje y elija «Eliminar»)."
        )
    ]


async def send_link_message(bot: Bot, chat_id: int, text: str, link: str, _: Translate) -> None:
    """A verification link: a button, and the URL in the text to copy. Without a preview:
    Telegram's crawler would open the link before the family does."""
    button = InlineKeyboardMarkup(
        [[InlineKeyboardButton(_("Validar mi correo electrónico"), url=link)]]
    )
    no_preview = LinkPreviewOptions(is_disabled=True)
    try:
        await bot.send_message(chat_id, text, reply_markup=button, link_preview_options=no_preview)
    except BadRequest as error:
        # Telegram refuses URL buttons to hosts it cannot reach (a local PUBLIC_URL): the
        # link in the text still works.
        # Not the error's text: Telegram quotes the refused URL, which holds the token.
        logger.warning("link button refused (%s); sending the link as text only", type(error))
        await bot.send_message(chat_id, text, link_preview_options=no_preview)
