"""The python-telegram-bot Application: how it talks to Telegram, and in what order it takes
updates. Which handlers it has is the composition root's business (bot/app.py)."""

from __future__ import annotations

import asyncio

from telegram import LinkPreviewOptions, Update
from telegram.ext import AIORateLimiter, Application, Defaults

from bot import logs
from bot.runtime.http import AiohttpRequest
from bot.runtime.processing import MAX_RUNNING, Around, PerChatUpdateProcessor

# Where the handlers find the services, in the Application's bot_data.
SERVICES_KEY = "services"

# Connections to the Bot API kept open at most. Each running handler makes one request at a
# time, and the jobs a few more: twice the handlers is room enough (python-telegram-bot's
# default is 256).
CONNECTIONS = 2 * MAX_RUNNING
# How long a request waits for one of them before it fails (python-telegram-bot's default is
# 1 s): a burst waits its turn instead.
CONNECTION_PATIENCE = 10.0


def new_application(
    *,
    token: str,
    base_url: str | None,
    polling: bool,
    update_queue: asyncio.Queue[object],
    around: Around,
) -> Application:
    logs.protect_secrets()
    builder = (
        Application.builder()
        .token(token)
        # The bot's own news (a link opened, an e-mail refused) is put here by the services.
        .update_queue(update_queue)
        # Telegram's preview crawler would open the verification link before the family does.
        .defaults(Defaults(link_preview_options=LinkPreviewOptions(is_disabled=True)))
        # Telegram allows ~30 messages a second overall and ~20 a minute per group: a burst of
        # notifications waits its turn instead of failing with 429.
        .rate_limiter(AIORateLimiter(max_retries=3))
        # aiohttp instead of the framework's httpx: a third of the event loop's CPU per request
        # (bot/runtime/http.py). The long poll keeps a connection of its own, as by default.
        .request(AiohttpRequest(connections=CONNECTIONS, pool_timeout=CONNECTION_PATIENCE))
        .get_updates_request(AiohttpRequest(connections=1, pool_timeout=CONNECTION_PATIENCE))
        # One family's slow moment (a hash, a relay queued for the group's rate limit) must not
        # hold back the others; one family's own updates still go one at a time, in order, and
        # each inside `around` (its chat's turn across processes). No persistence: the
        # conversations' states are read from the database at every update (StoredConversation).
        .concurrent_updates(PerChatUpdateProcessor(chat_of, around=around))
    )
    if base_url:
        builder = builder.base_url(base_url)
        # Files (a photo of a document) are downloaded from the same server, under /file/bot,
        # as Telegram's own and a self-hosted Bot API server lay them out.
        if base_url.rstrip("/").endswith("/bot"):
            builder = builder.base_file_url(base_url.rstrip("/").removesuffix("bot") + "file/bot")
    if not polling:
        builder = builder.updater(None)
    return builder.build()


def chat_of(update: object) -> int | None:
    """The chat an update belongs to, for PerChatUpdateProcessor: a Telegram update's chat, or
    the `chat_id` of the bot's own news (AccountVerified); None serialises the rest together."""
    if isinstance(update, Update):
        chat = update.effective_chat or update.effective_user
        return chat.id if chat is not None else None
    chat_id = getattr(update, "chat_id", None)
    return chat_id if isinstance(chat_id, int) else None
