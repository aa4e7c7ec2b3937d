"""Frequent questions: /preguntas lists them, a button answers one, and `suggest` offers the
closest answers to a message that no conversation was waiting for."""

from __future__ import annotations

from collections.abc import Iterable

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    filters,
)

from bot.faq import QUESTIONS, Question, by_key, match
from bot.i18n import Translate
from conversations.common import final, keyboard, reply, settle_button, texts

FAQ_BUTTON = "menu:preguntas"
VOLUNTEER_BUTTON = "menu:voluntario"  # answered by another module
QUESTION_PREFIX = "faq:"


def _question_rows(questions: Iterable[Question], _: Translate) -> list[list[tuple[str, str]]]:
    return [[(_(question.question), QUESTION_PREFIX + question.key)] for question in questions]


def _volunteer_row(_: Translate) -> list[tuple[str, str]]:
    return [(_("Hablar con un voluntario"), VOLUNTEER_BUTTON)]


async def show_questions(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await settle_button(update)
    _ = texts(update)
    await reply(update, context, _("Preguntas frecuentes:"), keyboard(_question_rows(QUESTIONS, _)))


async def answer_question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await settle_button(update)
    _ = texts(update)
    query = update.callback_query
    data = query.data if query is not None and isinstance(query.data, str) else ""
    question = by_key(data.removeprefix(QUESTION_PREFIX))
    if question is None:
        # A button from an older version of the list: show the current one.
        await show_questions(update, context)
        return
    text = _(question.question) + "\n\n" + _(question.answer)
    markup = keyboard([[(_("Otra pregunta"), FAQ_BUTTON)], _volunteer_row(_)])
    await reply(update, context, text, markup)


async def suggest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Offers the answers closest to a free-text message; False when none is close enough."""
    message = update.effective_message
    if message is None or not message.text or message.text.startswith("/"):
        return False
    found = match(message.text)
    if not found:
        return False
    _ = texts(update)
    rows = [*_question_rows(found, _), _volunteer_row(_)]
    await reply(update, context, _("Quizás le sirve alguna de estas respuestas:"), keyboard(rows))
    return True


def handlers() -> list:
    return [
        CommandHandler("preguntas", final(show_questions), filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(final(show_questions), pattern=f"^{FAQ_BUTTON}$"),
        CallbackQueryHandler(final(answer_question), pattern=f"^{QUESTION_PREFIX}"),
    ]
