"""The menu of commands Telegram shows: the families' everywhere, the volunteers' in their group.

Published by RunningBot.start itself: python-telegram-bot runs `post_init` only from
run_polling/run_webhook, which this bot does not use."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError
from telegram.ext import Application

from bot.i18n import DEFAULT_LOCALE, SUPPORTED_LOCALES, translator

logger = logging.getLogger(__name__)

# (command, description to translate)
Menu = Sequence[tuple[str, str]]


async def publish_for_chat(bot: Bot, chat_id: int, menu: Menu, locale: str) -> None:
    """One family's menu in the language it chose: Telegram apps have no Kreyòl, so the menu
    by `language_code` alone would never be in it."""
    _ = translator(locale)
    commands = [BotCommand(name, _(description)) for name, description in menu]
    try:
        await bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id))
    except TelegramError as error:
        logger.warning("could not publish the command menu of chat %s: %s", chat_id, error)


async def publish_commands(
    application: Application, families: Menu, volunteers: Menu, volunteers_chat_id: int | None
) -> None:
    # (menu, scope, language): the families' in Spanish for everyone, then in each language
    # for the Telegram apps set to it; the volunteers' group works in Spanish.
    menus: list[tuple[Menu, BotCommandScopeChat | None, str | None]] = [(families, None, None)]
    menus += [(families, None, code) for code in SUPPORTED_LOCALES if code != DEFAULT_LOCALE]
    if volunteers_chat_id is not None:
        menus.append((volunteers, BotCommandScopeChat(volunteers_chat_id), None))
    for menu, scope, language in menus:
        _ = translator(language or DEFAULT_LOCALE)
        commands = [BotCommand(name, _(description)) for name, description in menu]
        try:
            await application.bot.set_my_commands(commands, scope=scope, language_code=language)
        except TelegramError as error:
            # The menu of commands is a convenience; the bot works without it.
            logger.warning("could not publish the command menu (%s): %s", scope, error)
