"""ConversationHandlers whose state is read from the database before each update of their chat,
instead of living in one process's memory.

python-telegram-bot keeps a conversation's state in its handler and reads persistence only at
start-up (`get_conversations`); there is no read-back, and `check_update`, which picks the
state's handlers, is synchronous, so it cannot read a database itself (python-telegram-bot
issues #4452 and #5225). The state is therefore read just before, while the chat's turn is
held (bot/runtime/turns.py), and put where `check_update` looks.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from telegram import Update
from telegram.ext import ConversationHandler

from bot.services import Services

# (services, chat id, user id) → the conversation's state for them; None: not in it.
StateOf = Callable[[Services, int, int], object | None]


class StoredConversation(ConversationHandler[Any]):
    """A ConversationHandler keyed by chat and user (the default), whose state for a chat is
    `state_of` it, as the services read it at the start of the update. Its callbacks write the
    state they move to (the registration's draft, an open question) before they return it."""

    def __init__(self, *, state_of: StateOf, **options: Any) -> None:
        super().__init__(**options)
        self._state_of = state_of

    def restore(self, update: Update, services: Services) -> None:
        chat, user = update.effective_chat, update.effective_user
        if chat is None or user is None:
            return
        key = self._get_key(update)
        state = self._state_of(services, chat.id, user.id)
        if state is None:
            self._conversations.pop(key, None)
        else:
            self._conversations[key] = state
