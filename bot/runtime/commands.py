"""The menu of commands Telegram shows: the families' everywhere, the volunteers' in their group.

Published by RunningBot.start itself: python-telegram-bot runs `post_init` only from
run_polling/run_webhook, which this bot does not use."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import BotCommand, BotCommandScopeChat
from telegram.error import TelegramError
from telegram.ext import Application

from bot.i18n import translator

logger = logging.getLogger(__name__)

# (command, description to translate)
Menu = Sequence[tuple[str, str]]


async def publish_commands(
    application: Application, families: Menu, volunteers: Menu, volunteers_chat_id: int | None
) -> None:
    _ = translator("es")
    menus: list[tuple[Menu, BotCommandScopeChat | None]] = [(families, None)]
    if volunteers_chat_id is not None:
        menus.append((volunteers, BotCommandScopeChat(volunteers_chat_id)))
    for menu, scope in menus:
        commands = [BotCommand(name, _(description)) for name, description in menu]
        try:
            await application.bot.set_my_commands(commands, scope=scope)
        except TelegramError as error:
            # The menu of commands is a convenience; the bot works without it.
            logger.warning("could not publish the command menu (%s): %s", scope, error)
