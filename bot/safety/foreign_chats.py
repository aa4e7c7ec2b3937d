"""Chats the bot does not serve (any group but the volunteers', any channel): each is told once
that the bot works in private chats, then left, and heard no more.

In memory on purpose: after leaving, Telegram sends nothing more from that chat, so this only
bridges the updates already on their way, and a restart may well forget it.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

# How long a chat stays "told" (someone may add the bot again later), and how many are kept.
TOLD_FOR_SECONDS = 3600.0
MAX_CHATS = 10_000


class ForeignChats:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._told: OrderedDict[int, float] = OrderedDict()

    def first_notice(self, chat_id: int) -> bool:
        """True once per chat (per hour): the one time it is told, and left."""
        now = self._clock()
        told_at = self._told.get(chat_id)
        if told_at is not None and now - told_at < TOLD_FOR_SECONDS:
            return False
        self._told[chat_id] = now
        self._told.move_to_end(chat_id)
        while len(self._told) > MAX_CHATS:
            self._told.popitem(last=False)
        return True
