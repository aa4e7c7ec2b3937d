"""What each update runs inside, once its chat's turn in this process came (bot/runtime/
processing.py): its chat's turn across the processes that share the database, what the services
keep about its family read afresh, and the conversations' states restored from the database.
So any process can take any update, and one chat's updates still run one at a time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from telegram import Update
from telegram.ext import Application

from bot.runtime.application import chat_of
from bot.runtime.conversations import StoredConversation
from bot.services import Services


class UpdateTurns:
    def __init__(self, services: Services) -> None:
        self._services = services
        self._conversations: list[StoredConversation] = []

    def watch(self, application: Application) -> None:
        """Takes note of the application's stored conversations, once its handlers are in."""
        self._conversations = [
            handler
            for group in application.handlers.values()
            for handler in group
            if isinstance(handler, StoredConversation)
        ]

    @asynccontextmanager
    async def __call__(self, update: object) -> AsyncIterator[None]:
        chat_id = chat_of(update)
        if chat_id is None:
            yield  # no chat (an e-mail refused, say): nothing to keep in order
            return
        found = self._services
        async with found.turns.hold(chat_id) as turn:
            user_id = _user_of(update, chat_id)
            await found.refresh(user_id)
            if isinstance(update, Update):
                for conversation in self._conversations:
                    conversation.restore(update, found)
            yield
            if isinstance(update, Update):
                await found.updates.finish(update.update_id, turn)


def _user_of(update: object, chat_id: int) -> int:
    # The bot's own news is about a family, told in its private chat, whose id is the user's.
    if isinstance(update, Update) and update.effective_user is not None:
        return update.effective_user.id
    return chat_id
