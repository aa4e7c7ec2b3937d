"""The one error handler: a failure is logged with ids only, and the family is told kindly."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.exc import DBAPIError
from telegram import Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.i18n import normalise_locale, translator
from bot.runtime.application import SERVICES_KEY
from bot.services import Services

logger = logging.getLogger(__name__)

# Called with every exception a handler raises; the tests use it to fail loudly, since
# python-telegram-bot itself only logs them.
ErrorHook = Callable[[BaseException], None]
ERROR_HOOK = "error_hook"


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    # Only ids are logged: an update may hold a password the family has just typed.
    update_id = getattr(update, "update_id", None)
    chat = update.effective_chat if isinstance(update, Update) else None
    if isinstance(context.error, DBAPIError):
        # The database's own message can quote values (PostgreSQL's DETAIL, asyncpg's
        # out-of-range argument), which hide_parameters does not reach: its kind only.
        logger.error(
            "handler failed (update %s, chat %s): database error %s",
            update_id,
            chat.id if chat else None,
            type(context.error.orig).__name__,
        )
    else:
        logger.error(
            "handler failed (update %s, chat %s)",
            update_id,
            chat.id if chat else None,
            exc_info=context.error,
        )
    hook = context.bot_data.get(ERROR_HOOK)
    if hook is not None and context.error is not None:
        hook(context.error)
    # The text is for a family; the volunteers' group sees the failure in the logs only.
    if chat is None or chat.type != ChatType.PRIVATE or not isinstance(update, Update):
        return
    user = update.effective_user
    found = context.bot_data.get(SERVICES_KEY)
    if user is not None and isinstance(found, Services):
        _ = translator(found.languages.of(user.id, user.language_code))
    else:
        _ = translator(normalise_locale(user.language_code if user else None))
    try:
        await context.bot.send_message(
            chat.id,
            # The failure may have been the very save of the answer: promise nothing.
            _(
                "Perdón, algo falló de nuestro lado y puede que su última respuesta no se "
                "haya guardado. Envíela de nuevo en un momento, o escriba /start."
            ),
        )
    except TelegramError:
        logger.exception("could not tell chat %s about the failure", chat.id)
