"""Housekeeping on python-telegram-bot's JobQueue: what ages out is forgotten."""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram.ext import ContextTypes

from bot.runtime.application import SERVICES_KEY
from bot.services import Services

logger = logging.getLogger(__name__)

SWEEP_EVERY = timedelta(hours=1)
KEEP_UPDATE_IDS = timedelta(days=7)


async def sweep(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Hourly: forget unfinished drafts past their time, old update ids, the taken addresses
    met more than a day ago, failed logins past their lock, long-ended sessions, reset links of
    more than a day ago, questions left unanswered, and idle senders."""
    found: Services = context.bot_data[SERVICES_KEY]
    expired = await found.registrations.expire_unfinished(
        timedelta(days=found.settings.draft_ttl_days)
    )
    if expired:
        logger.info("%d unfinished registrations expired", len(expired))
    forgotten = await found.privacy.forget_closed_tickets(
        timedelta(days=found.settings.ticket_retention_days)
    )
    if forgotten:
        logger.info("%d closed tickets past their retention lost who asked", forgotten)
    await found.updates.forget_older_than(KEEP_UPDATE_IDS)
    await found.sessions.forget_old()
    await found.resets.forget_old()
    await found.accounts.forget_old_probes()
    await found.questions.forget_expired()
    found.flood.forget_idle()
    # No reload of what another process changed: each update reads its own family's first
    # (Services.refresh, under the chat's turn).
