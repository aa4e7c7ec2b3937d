"""Checks every update passes before any conversation sees it: a flood is slowed down, a
redelivered update is dropped (or, when a process died handling it, the family is asked its
current question again), and a family whose draft expired is told so once."""

from __future__ import annotations

import logging

from sqlalchemy.exc import SQLAlchemyError
from telegram import Update
from telegram.ext import ApplicationHandlerStop, ContextTypes, TypeHandler

from bot.runtime.turns import ARRIVALS_KEY, Arrival, arrive
from bot.safety.updates import Seen
from conversations.common import (
    FLOODED,
    arrived,
    delete_at_a_password_question,
    reply,
    resume_registration,
    services,
    texts,
)

logger = logging.getLogger(__name__)


async def guard(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    found = services(context)
    user = update.effective_user
    # Button presses are bounded by the bot's own keyboards; a flood is typed or forwarded.
    if user is not None and update.callback_query is None:
        admitted, warn = found.flood.admit(user.id)
        if not admitted:
            await delete_at_a_password_question(found, user.id, update.effective_message)
            if warn and update.effective_chat is not None:
                _ = texts(update, context)
                await reply(update, context, _(FLOODED))
            raise ApplicationHandlerStop

    # The ledger's entry and what is kept about the family, read in one transaction committed
    # before anything is handled (bot/runtime/turns.py, as the chat's turn began): the
    # registration takes the draft from there instead of reading it again.
    arrivals: dict[int, Arrival] = context.bot_data.get(ARRIVALS_KEY, {})
    arrival = arrivals.get(id(update))
    if arrival is None:  # an update handled outside a chat's turn
        arrival = await arrive(found, update, None if user is None else user.id)
    seen = arrival.seen
    if isinstance(seen, SQLAlchemyError):
        # Told once, by the one error handler; the handlers after this one would only fail
        # on the same database again, and tell the family twice.
        await context.application.process_error(update, seen)
        raise ApplicationHandlerStop from seen
    chat = update.effective_chat
    read = arrival.draft
    if (
        seen is Seen.FIRST
        and read is not None
        and user is not None
        and chat is not None
        and chat.id == user.id
        and (read.draft is None or read.draft.telegram_user_id == user.id)
    ):
        arrived(context, read)
    if seen is Seen.HANDLED:
        logger.info("update %s was delivered again; handled once already", update.update_id)
        raise ApplicationHandlerStop
    if seen is Seen.CUT_SHORT:
        # The process that took it died while handling it: part of it may be done (an answer
        # saved), so it is not handled again; the family is shown where it stands instead,
        # and answers that.
        logger.info("update %s was cut short before; the chat is resumed", update.update_id)
        if user is not None:
            await resume_registration(context, user.id, "")
        raise ApplicationHandlerStop

    if user is not None and await found.registrations.take_expiry_notice(user.id):
        if update.effective_chat:
            _ = texts(update, context)
            days = round(found.settings.draft_ttl_days)
            await reply(
                update,
                context,
                _(
                    "La cuenta que empezó a crear quedó sin terminar por más de {days} días, y "
                    "por seguridad borré esos datos. Puede empezar de nuevo con /crear_cuenta.",
                    days=days,
                ),
            )


def handler() -> TypeHandler:
    return TypeHandler(Update, guard)
