"""Frequent questions: /preguntas lists them, a button answers one, and a message that no
conversation was waiting for is offered the closest answers."""

from __future__ import annotations

from collections.abc import Iterable

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.faq import QUESTIONS, Question, by_key, match
from bot.i18n import Translate
from conversations.callbacks import QUESTION, SHOW_QUESTIONS, volunteer_button
from conversations.common import (
    keyboard,
    locale_of,
    menu_keyboard,
    reply,
    services,
    settle_button,
    texts,
)


def _question_rows(questions: Iterable[Question], _: Translate) -> list[list[tuple[str, str]]]:
    return [[(_(question.question), QUESTION + question.key)] for question in questions]


def _volunteer_row(_: Translate) -> list[tuple[str, str]]:
    return [volunteer_button(_)]


async def show_questions(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await settle_button(update)
    _ = texts(update, context)
    await reply(update, context, _("Preguntas frecuentes:"), keyboard(_question_rows(QUESTIONS, _)))


async def answer_question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await settle_button(update)
    _ = texts(update, context)
    query = update.callback_query
    data = query.data if query is not None and isinstance(query.data, str) else ""
    question = by_key(data.removeprefix(QUESTION))
    if question is None:
        # A button from an older version of the list: show the current one.
        await show_questions(update, context)
        return
    text = _(question.question) + "\n\n" + _(question.answer)
    markup = keyboard([[(_("Otra pregunta"), SHOW_QUESTIONS)], _volunteer_row(_)])
    await reply(update, context, text, markup)


async def suggest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Offers the answers closest to a free-text message; False when none is close enough."""
    message = update.effective_message
    if message is None or not message.text or message.text.startswith("/"):
        return False
    found = match(message.text, locale=locale_of(update, context))
    if not found:
        return False
    _ = texts(update, context)
    rows = [*_question_rows(found, _), _volunteer_row(_)]
    await reply(update, context, _("Quizás le sirve alguna de estas respuestas:"), keyboard(rows))
    return True


def handlers() -> list:
    return [
        CommandHandler("preguntas", show_questions, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(show_questions, pattern=f"^{SHOW_QUESTIONS}$"),
        CallbackQueryHandler(answer_question, pattern=f"^{QUESTION}"),
    ]


async def hint(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A message that no conversation was waiting for."""
    user = update.effective_user
    _ = texts(update, context)
    draft = await services(context).registrations.current(user.id) if user else None
    if draft is not None:
        text = _("Tiene una cuenta a medio crear. Toque «Crear cuenta» para seguir donde quedó.")
    elif await suggest(update, context):
        return
    else:
        text = _("No entendí su mensaje. Elija una opción del menú, o escriba /ayuda.")
    await reply(update, context, text, menu_keyboard(_))


def catch_all() -> list[BaseHandler]:
    """Registered after everything else: a message in a private chat that no conversation
    was waiting for (the volunteers' group talks among itself)."""
    return [MessageHandler(filters.ChatType.PRIVATE, hint)]
