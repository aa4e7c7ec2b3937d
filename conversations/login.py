"""Iniciar sesión: /ingresar (or the menu's button) asks the e-mail, then the password, from
any Telegram account; then the account's home and the portal's "Recuérdame". /salir ends it.

The password's message is deleted at once, as in the registration. A wrong address and a
wrong password get one and the same answer.
"""

from __future__ import annotations

import math
import warnings
from datetime import timedelta
from typing import Any

from telegram import Update
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

from bot.accounts.sessions import LoginStatus
from bot.i18n import Translate
from bot.runtime.conversations import StoredConversation
from bot.services import Services
from bot.storage import Account, utcnow
from conversations.callbacks import ASK_RESET, CLAVE_UNICA, LOG_IN, LOG_OUT, REMEMBER
from conversations.common import (
    button_choice,
    delete_quietly,
    home_of,
    home_text,
    keyboard,
    menu_keyboard,
    reply,
    services,
    settle_button,
    texts,
)

ASKING_EMAIL, ASKING_PASSWORD = "login_email", "login_password"
# A login left unanswered this long is forgotten: a message written later is not taken for a
# password, and the address is kept no longer.
LOGIN_PATIENCE = timedelta(minutes=10)
# The login's question, in the database (bot.open_questions): whichever process takes the
# password knows it is one, and which address it goes with.
NAME = "login"


def _help_rows(_: Translate) -> list[list[tuple[str, str]]]:
    return [
        [(_("¿Olvidaste tu contraseña?"), ASK_RESET)],
        [(_("Iniciar con Clave Única"), CLAVE_UNICA)],
    ]


async def start_login(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    await settle_button(update)
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None:
        return ConversationHandler.END
    await services(context).questions.ask(
        user.id, chat.id, NAME, ASKING_EMAIL, patience=LOGIN_PATIENCE
    )
    _ = texts(update, context)
    await reply(
        update,
        context,
        "\n\n".join(
            (
                _("Iniciar sesión: escriba el correo electrónico de la cuenta."),
                _("Puede entrar desde cualquier teléfono. Para salir, escriba /cancelar."),
            )
        ),
        keyboard(_help_rows(_)),
    )
    return ASKING_EMAIL


async def receive_email(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str:
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    _ = texts(update, context)
    if message is None or not message.text or user is None or chat is None:
        return ASKING_EMAIL
    # Kept for the next message only, at most LOGIN_PATIENCE: an address is not a secret.
    await services(context).questions.ask(
        user.id,
        chat.id,
        NAME,
        ASKING_PASSWORD,
        patience=LOGIN_PATIENCE,
        value=message.text.strip()[:320],
        secret=True,
    )
    await reply(
        update, context, _("Ahora escriba la contraseña. Borraré su mensaje apenas lo lea.")
    )
    return ASKING_PASSWORD


async def receive_password(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | int:
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    _ = texts(update, context)
    if message is None or user is None or chat is None:
        return ConversationHandler.END
    password = message.text or ""
    deleted = await delete_quietly(message)
    before = (
        _("Borré su mensaje con la contraseña, para protegerla.")
        if deleted
        else _(
            "No pude borrar su mensaje con la contraseña: bórrelo usted, por favor (mantenga el "
            "dedo sobre el mensaje y elija «Eliminar»)."
        )
    )
    found = services(context)
    email = found.questions.value(user.id, NAME) or ""
    await found.questions.close(user.id, NAME)
    outcome = await found.sessions.log_in(user.id, chat.id, email, password)
    if outcome.status is LoginStatus.IN and outcome.account is not None:
        await reply(
            update, context, before + "\n\n" + await _home(outcome.account, found, _, user.id)
        )
        await reply(
            update,
            context,
            _("Recuérdame: ¿mantener la sesión abierta en este teléfono?"),
            keyboard(
                [
                    [(_("Sí, por 30 días"), f"{REMEMBER}:1")],
                    [(_("No, cerrarla mañana"), f"{REMEMBER}:0")],
                ]
            ),
        )
        return ConversationHandler.END
    if outcome.status is LoginStatus.LOCKED and outcome.locked_until is not None:
        minutes = max(1, math.ceil((outcome.locked_until - utcnow()).total_seconds() / 60))
        text = _(
            "Por seguridad, tras varios intentos fallidos, el ingreso queda bloqueado por "
            "{minutes} minutos. Si olvidó la contraseña, puede elegir una nueva.",
            minutes=minutes,
        )
        await reply(update, context, before + "\n\n" + text, keyboard(_help_rows(_)))
        return ConversationHandler.END
    if outcome.status is LoginStatus.UNVERIFIED:
        text = _(
            "Esa cuenta todavía no está validada: abra el enlace que le enviamos por correo. Si "
            "no lo encuentra, escriba /reenviar desde el teléfono donde creó la cuenta."
        )
        await reply(update, context, before + "\n\n" + text, menu_keyboard(_))
        return ConversationHandler.END
    await found.questions.ask(user.id, chat.id, NAME, ASKING_EMAIL, patience=LOGIN_PATIENCE)
    text = _("El correo o la contraseña no son correctos. Escriba otra vez el correo electrónico.")
    await reply(update, context, before + "\n\n" + text, keyboard(_help_rows(_)))
    return ASKING_EMAIL


async def _home(account: Account, found: Services, _: Translate, reader: int) -> str:
    return home_text(account, _, await home_of(found, account, reader))


def home_rows(_: Translate) -> list[list[tuple[str, str]]]:
    """Under the home of a logged-in account: another child's account, or leave."""
    return [[(_("Cambiar de cuenta"), LOG_IN), (_("Cerrar sesión"), LOG_OUT)]]


async def remember(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await settle_button(update)
    user = update.effective_user
    choice = button_choice(update, REMEMBER, ("0", "1"))
    _ = texts(update, context)
    if user is None or choice is None:
        await reply(update, context, _("Este botón ya no sirve."), menu_keyboard(_))
        return
    for_long = choice == "1"
    if not await services(context).sessions.remember(user.id, for_long):
        await reply(update, context, _("La sesión ya terminó. Para entrar otra vez: /ingresar."))
        return
    said = (
        _("Listo: la sesión seguirá abierta 30 días. Para cerrarla antes: /salir.")
        if for_long
        else _("Listo: la sesión se cerrará mañana. Para cerrarla antes: /salir.")
    )
    await reply(update, context, said, keyboard(home_rows(_)))


async def log_out(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await settle_button(update)
    user = update.effective_user
    _ = texts(update, context)
    if user is None:
        return
    if await services(context).sessions.log_out(user.id):
        await reply(update, context, _("Cerró la sesión."), menu_keyboard(_))
    else:
        await reply(update, context, _("No había una sesión abierta."), menu_keyboard(_))


async def clave_unica(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await settle_button(update)
    _ = texts(update, context)
    await reply(
        update,
        context,
        _(
            "Clave Única es para quien tiene un RUN chileno.\nSi el niño, niña o adolescente no "
            "tiene RUN, use la cuenta creada aquí, con su correo y contraseña."
        ),
    )


async def not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    _ = texts(update, context)
    await reply(update, context, _("Aquí necesito una respuesta escrita con el teclado."))
    return None  # the same question stands


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    await settle_button(update)
    if update.effective_user is not None:
        await services(context).questions.close(update.effective_user.id, NAME)
    _ = texts(update, context)
    await reply(update, context, _("Listo, no inicié sesión."), menu_keyboard(_))
    return ConversationHandler.END


def build() -> ConversationHandler[Any]:
    with warnings.catch_warnings():
        # One login at a time per chat, whatever message its buttons are on: on purpose.
        warnings.simplefilter("ignore", PTBUserWarning)
        return _conversation()


def _conversation() -> ConversationHandler[Any]:
    text = filters.TEXT & ~filters.COMMAND
    # A password may well start with "/": at the password, any text is taken, but /cancelar.
    password = filters.TEXT & ~filters.Regex(r"^/cancelar(@\w+)?\s*$")
    return StoredConversation(
        # The open question, read at every update, whichever process asked it.
        state_of=lambda found, chat_id, user_id: found.questions.state(user_id, chat_id, NAME),
        name=NAME,
        entry_points=[
            CommandHandler("ingresar", start_login, filters=filters.ChatType.PRIVATE),
            CallbackQueryHandler(start_login, pattern=f"^{LOG_IN}$"),
        ],
        states={
            ASKING_EMAIL: [MessageHandler(text, receive_email)],
            ASKING_PASSWORD: [MessageHandler(password, receive_password)],
        },
        fallbacks=[
            CommandHandler("cancelar", cancel),
            CommandHandler("ingresar", start_login),
            CallbackQueryHandler(start_login, pattern=f"^{LOG_IN}$"),
            MessageHandler(~filters.COMMAND, not_text),
        ],
    )


def handlers() -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
    """Outside the login's questions: the session's buttons, /salir, Clave Única."""
    return [
        CallbackQueryHandler(remember, pattern=f"^{REMEMBER}:"),
        CallbackQueryHandler(log_out, pattern=f"^{LOG_OUT}$"),
        CommandHandler("salir", log_out, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(clave_unica, pattern=f"^{CLAVE_UNICA}$"),
    ]
