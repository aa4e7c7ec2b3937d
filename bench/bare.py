"""The baseline: a bare python-telegram-bot Application whose nine-step ConversationHandler only
asks the next question. No database, no hashing, no e-mail, no rate limiter: what the framework
itself costs per update, for the side-by-side run to divide the bot's figures by.

It answers with the same words the simulated families check for (see `bench.e2e.steps`), and
puts the same buttons under the same questions, so one family script drives both.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)

FIELDS = 9
HUMAN_CHECK, SUMMARY = FIELDS, FIELDS + 1
# The buttons the families press, under the question that offers them (0-based field index).
BUTTONS = {2: "No tiene segundo apellido", 4: "Haití"}

Callback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, int]]


def _markup(*labels: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=label)] for label in labels]
    )


def _question(state: int) -> tuple[str, InlineKeyboardMarkup | None]:
    if state < FIELDS:
        button = BUTTONS.get(state)
        return f"Paso {state + 1} de {FIELDS}", _markup(button) if button else None
    if state == HUMAN_CHECK:
        return "Confirme que usted no es un robot.", _markup("No soy un robot")
    if state == SUMMARY:
        return "Revise los datos.", _markup("Crear cuenta")
    return "Listo: http://127.0.0.1/validate/bare", None


def _asking(state: int) -> Callback:
    """The callback that, having taken an answer, asks question `state`."""

    async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
        if update.callback_query is not None:
            await update.callback_query.answer()
        chat = update.effective_chat
        if chat is None:
            return ConversationHandler.END
        text, markup = _question(state)
        await context.bot.send_message(chat.id, text, reply_markup=markup)
        return state if state <= SUMMARY else ConversationHandler.END

    return ask


def build(token: str, base_url: str) -> Application:
    answer = filters.TEXT & ~filters.COMMAND
    states = {
        state: [
            MessageHandler(answer, _asking(state + 1)),
            CallbackQueryHandler(_asking(state + 1)),
        ]
        for state in range(SUMMARY + 1)
    }
    conversation = ConversationHandler(
        entry_points=[CommandHandler("crear_cuenta", _asking(0))],
        states=states,  # type: ignore[arg-type]
        fallbacks=[],
        per_message=False,
    )
    application = Application.builder().token(token).base_url(base_url).build()
    application.add_handler(conversation)
    return application
