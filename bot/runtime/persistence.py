"""python-telegram-bot persistence whose truth is the project's own database.

Every answer is written to its draft before the bot replies, so the conversation's state can
always be derived from the drafts: nothing here has to be flushed, and a crash (SIGKILL) at any
moment loses nothing the family was told was received. python-telegram-bot's own periodic
`update_conversation` calls are therefore no-ops.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput

# As python-telegram-bot keys conversations: (chat id, user id) for ours.
ConversationKey = tuple[int | str, ...]
ConversationDict = dict[ConversationKey, object]
# Name of a persistent ConversationHandler → how to read its conversations from the database.
ConversationLoader = Callable[[], Awaitable[ConversationDict]]


class DatabasePersistence(BasePersistence[dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    def __init__(self, loaders: dict[str, ConversationLoader]) -> None:
        # Nothing but conversations: user, chat and bot data stay in process memory (bot_data
        # holds the services, which are rebuilt at start-up, not stored).
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=False, callback_data=False
            ),
            update_interval=60,
        )
        self._loaders = loaders

    async def get_conversations(self, name: str) -> ConversationDict:
        loader = self._loaders.get(name)
        return await loader() if loader is not None else {}

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        return None  # already durable: the handler wrote the draft before replying

    async def get_user_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def get_chat_data(self) -> dict[int, dict[Any, Any]]:
        return {}

    async def get_bot_data(self) -> dict[Any, Any]:
        return {}

    async def get_callback_data(self) -> None:
        return None

    async def update_user_data(self, user_id: int, data: dict[Any, Any]) -> None:
        return None

    async def update_chat_data(self, chat_id: int, data: dict[Any, Any]) -> None:
        return None

    async def update_bot_data(self, data: dict[Any, Any]) -> None:
        return None

    async def update_callback_data(self, data: Any) -> None:
        return None

    async def drop_chat_data(self, chat_id: int) -> None:
        return None

    async def drop_user_data(self, user_id: int) -> None:
        return None

    async def refresh_user_data(self, user_id: int, user_data: dict[Any, Any]) -> None:
        return None

    async def refresh_chat_data(self, chat_id: int, chat_data: dict[Any, Any]) -> None:
        return None

    async def refresh_bot_data(self, bot_data: dict[Any, Any]) -> None:
        return None

    async def flush(self) -> None:
        return None
