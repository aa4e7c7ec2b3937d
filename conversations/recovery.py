"""/recuperar and the «¿Olvidaste tu contraseña?» button: asks the account's e-mail address,
and sends a link to choose a new password there, by e-mail only.

The answer in the chat is always the same, whether the address has an account or not, so that
nobody can find out which addresses do; the link never appears in the chat.
"""

from __future__ import annotations

import warnings
from datetime import timedelta
from typing import Any, NoReturn

from telegram import Update
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.i18n import N_, Translate
from bot.registration.results import Invalid, Valid
from bot.registration.validation import validate_email
from bot.runtime.conversations import StoredConversation
from conversations.callbacks import ASK_RESET, RESET
from conversations.common import (
    family_of,
    menu_keyboard,
    reply,
    resume_registration,
    services,
    settle_button,
    texts,
)

# Every callback ends by raising ApplicationHandlerStop with the next state: the conversation
# runs in a handler group of its own, and what it answered must reach no other group.

# The one state: the e-mail address is awaited.
ASKING_EMAIL = "asking_email"
END = ConversationHandler.END
# A question left unanswered this long is dropped, so that a text written much later is not
# taken for an e-mail address.
WAIT_FOR_ADDRESS = timedelta(minutes=15)
# The question, in the database (bot.open_questions), so that any process takes the answer.
NAME = "recovery"

ASK = N_(
    "Para elegir una contraseña nueva, escriba el correo electrónico de su cuenta. Le "
    "enviaremos allí un enlace. Para dejarlo, escriba /cancelar."
)
# The same whether the address has an account or not, and whether an e-mail went or not.
SENT_IF_ANY = N_(
    "Si ese correo tiene una cuenta, le enviamos un enlace para elegir una contraseña nueva. "
    "Revise también la carpeta de spam. El enlace vence en 1 hora."
)
NOT_AN_ADDRESS = N_(
    "Eso no parece un correo electrónico. Escríbalo completo, por ejemplo: nombre@gmail.com"
)
ONLY_TEXT = N_(
    "Escriba el correo electrónico en un mensaje de texto, por ejemplo: nombre@gmail.com"
)
CANCELLED = N_("Listo, no cambié nada: su contraseña sigue siendo la misma.")


async def ask_address(update: Update, context: ContextTypes.DEFAULT_TYPE) -> NoReturn:
    await settle_button(update)
    family = family_of(update)
    if family is None:
        raise ApplicationHandlerStop(END)
    user, chat = family
    await services(context).questions.ask(
        user.id, chat.id, NAME, ASKING_EMAIL, patience=WAIT_FOR_ADDRESS
    )
    _ = texts(update, context)
    await reply(update, context, _(ASK))
    # Stops here: a registration in progress keeps its step, and hears nothing of this.
    raise ApplicationHandlerStop(ASKING_EMAIL)


async def receive_address(update: Update, context: ContextTypes.DEFAULT_TYPE) -> NoReturn:
    message = update.effective_message
    family = family_of(update)
    if message is None or message.text is None or family is None:
        raise ApplicationHandlerStop(ASKING_EMAIL)  # the filter lets only texts through
    _ = texts(update, context)
    checked = validate_email(message.text, accept_as_typed=True)
    if not isinstance(checked, Valid):
        # A suggestion ("gmail.com"?) is no answer here: the family types the address again.
        explained = _(checked.message, **checked.params) if isinstance(checked, Invalid) else None
        await reply(update, context, explained or _(NOT_AN_ADDRESS))
        raise ApplicationHandlerStop(ASKING_EMAIL)
    # Whatever the service found (no account, an unverified one, too many requests this
    # hour), the family reads the same words.
    await services(context).resets.request(checked.value, requested_by=family[0].id)
    await services(context).questions.close(family[0].id, NAME)
    await _done(update, context, family[0].id, _(SENT_IF_ANY), _)
    raise ApplicationHandlerStop(END)


async def receive_not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> NoReturn:
    _ = texts(update, context)
    await reply(update, context, _(ONLY_TEXT))
    raise ApplicationHandlerStop(ASKING_EMAIL)


async def stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> NoReturn:
    """A reset:… button that is not the one offered (an old one, or forged)."""
    await settle_button(update)
    _ = texts(update, context)
    await reply(update, context, "\n\n".join((_("Este botón ya no sirve."), _(ASK))))
    raise ApplicationHandlerStop(ASKING_EMAIL)


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> NoReturn:
    family = family_of(update)
    _ = texts(update, context)
    if family is not None:
        await services(context).questions.close(family[0].id, NAME)
        await _done(update, context, family[0].id, _(CANCELLED), _)
    raise ApplicationHandlerStop(END)


async def leave(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Another command or button: the family moved on. The question is dropped and the update
    goes on to whatever handles it (this is no ApplicationHandlerStop)."""
    if update.effective_user is not None:
        await services(context).questions.close(update.effective_user.id, NAME)
    return END


async def _done(
    update: Update, context: ContextTypes.DEFAULT_TYPE, user_id: int, text: str, _: Translate
) -> None:
    # A registration in progress goes on at its question, after these words.
    if not await resume_registration(context, user_id, text):
        await reply(update, context, text, menu_keyboard(_))


def build() -> ConversationHandler:
    """In a handler group of its own, ahead of every conversation: what it does not take (any
    other command or button) goes on to them, and ends the question."""
    private = filters.ChatType.PRIVATE
    entry: list[BaseHandler[Update, Any, object]] = [
        CommandHandler("recuperar", ask_address, filters=private),
        CallbackQueryHandler(ask_address, pattern=f"^{ASK_RESET}$"),
    ]
    with warnings.catch_warnings():
        # Buttons are tracked per chat, not per message, on purpose: one question at a time.
        # python-telegram-bot warns about that combination.
        warnings.simplefilter("ignore", PTBUserWarning)
        return StoredConversation(
            # The open question, read at every update, whichever process asked it; it is
            # dropped after WAIT_FOR_ADDRESS, whatever else the chat does meanwhile.
            state_of=lambda found, chat_id, user_id: found.questions.state(user_id, chat_id, NAME),
            name=NAME,
            entry_points=entry,
            states={
                ASKING_EMAIL: [
                    *entry,
                    CommandHandler("cancelar", cancel, filters=private),
                    MessageHandler(private & filters.TEXT & ~filters.COMMAND, receive_address),
                    MessageHandler(private & ~filters.COMMAND, receive_not_text),
                    CallbackQueryHandler(stale_button, pattern=f"^{RESET}:"),
                ],
            },
            fallbacks=[
                MessageHandler(filters.COMMAND, leave),
                CallbackQueryHandler(leave),
            ],
        )


def handlers() -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, Any]]:
    return [build()]
