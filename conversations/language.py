"""The family's language: /idioma and the menu's button show the choice, a button makes it.

A registration in progress goes on in the new language, at the same step, with every answer.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.i18n import LANGUAGE_NAMES, N_, translator
from conversations.callbacks import CHOOSE_LANGUAGE, SHOW_LANGUAGES, language_row
from conversations.common import (
    CHAT_MENU_KEY,
    ChatMenu,
    button_choice,
    keyboard,
    menu_keyboard,
    reply,
    resume_registration,
    services,
    settle_button,
    texts,
)

CHOOSE = N_("Elija su idioma:")


def choose_in_every_language() -> str:
    """The question in each language at once: whoever reads it finds theirs."""
    return "\n".join(f"🌐 {translator(code)(CHOOSE)}" for code in LANGUAGE_NAMES)


async def show_languages(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await settle_button(update)
    await _offer_languages(update, context)


async def _offer_languages(
    update: Update, context: ContextTypes.DEFAULT_TYPE, *before: str
) -> None:
    text = "\n\n".join((*before, choose_in_every_language()))
    await reply(update, context, text, keyboard([language_row()]))


async def choose_language(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await settle_button(update)
    user = update.effective_user
    locale = button_choice(update, CHOOSE_LANGUAGE, LANGUAGE_NAMES)
    if user is None or locale is None:
        # A button of an older list (a language no longer offered), or forged: said so, and
        # the list as it is now.
        await _offer_languages(update, context, texts(update, context)("Este botón ya no sirve."))
        return
    found = services(context)
    await found.languages.choose(user.id, locale)
    await found.registrations.offer_again(user.id)
    publish: ChatMenu = context.bot_data[CHAT_MENU_KEY]
    await publish(context.bot, user.id, locale)
    _ = translator(locale)
    told = _("Listo: desde ahora le escribo en español.")
    # With a ticket open, what the family types goes to the volunteers: asking the form's
    # question now would have its answer land there.
    if found.tickets.has_open_ticket(user.id) or not await resume_registration(
        context, user.id, told
    ):
        await reply(update, context, told, menu_keyboard(_))


def handlers() -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
    """Ahead of the registration: the language can change in the middle of it."""
    return [
        CommandHandler("idioma", show_languages, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(show_languages, pattern=f"^{SHOW_LANGUAGES}$"),
        CallbackQueryHandler(choose_language, pattern=f"^{CHOOSE_LANGUAGE}:"),
    ]
