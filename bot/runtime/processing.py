"""Updates of different chats run side by side; the updates of one chat, one at a time, in order.

python-telegram-bot processes updates one by one by default, so one family's slow moment (an
Argon2id hash, a question waiting for the volunteers' group's rate limit of ~20 messages a
minute) would hold back every other family. Its `concurrent_updates` runs them all at once,
which a ConversationHandler cannot bear: two answers of one family could overtake each other.
This processor sits between the two, which is what the ConversationHandler needs (it keys
conversations by chat and user, and every update of a conversation comes from its one chat).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import Awaitable, Callable, Hashable
from contextlib import AbstractAsyncContextManager
from typing import Any

from telegram.ext import BaseUpdateProcessor

KeyOf = Callable[[object], Hashable | None]
# What an update runs inside once its chat's turn in this process came (its turn across
# processes, say); nothing by default.
Around = Callable[[object], AbstractAsyncContextManager[object]]

# Updates accepted at once (running or waiting for their chat's turn): a bound on memory.
MAX_ACCEPTED = 256
# Updates whose handlers run at once. Each may hold a database connection for a moment; the
# pool's default (5 + 10 overflow) must also serve the web pages, the outbox and the jobs.
MAX_RUNNING = 8


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Serialises updates by `key_of(update)`, usually the chat's id; the updates with no key
    (None) are serialised with each other. At most `running` handlers run at once."""

    def __init__(
        self,
        key_of: KeyOf,
        *,
        around: Around | None = None,
        accepted: int = MAX_ACCEPTED,
        running: int = MAX_RUNNING,
    ) -> None:
        super().__init__(max_concurrent_updates=accepted)
        self._key_of = key_of
        self._around: Around = around or (lambda _update: contextlib.nullcontext())
        # Who waits for an update to be through (a webhook request, to answer Telegram).
        self._waiters: dict[int, asyncio.Future[bool]] = {}
        self.max_running = running
        self._running = asyncio.Semaphore(running)
        # Per key: its lock and how many updates hold or wait for it, so that the entry of a
        # chat that went quiet is dropped instead of kept for ever.
        self._turns: dict[Hashable | None, tuple[asyncio.Lock, int]] = {}
        self._in_flight: set[asyncio.Task[Any]] = set()

    @property
    def waiting_chats(self) -> int:
        """Chats with an update running or waiting; none are kept once they are quiet."""
        return len(self._turns)

    def when_through(self, update: object) -> asyncio.Future[bool]:
        """Resolves once `update`, handed to the Application after this call, is through: True
        when its handling ended, False when it was cut short (cancelled, or its turn failed)."""
        future = asyncio.get_running_loop().create_future()
        self._waiters[id(update)] = future
        return future

    def cancel_in_flight(self) -> int:
        """Cancels every update running or waiting for its turn; returns how many. For a stop
        that cannot wait any longer (a family's reply stuck behind a rate limit)."""
        tasks = [task for task in self._in_flight if not task.done()]
        for task in tasks:
            task.cancel()
        return len(tasks)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = self._key_of(update)
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
        lock, users = self._turns.get(key, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._turns[key] = (lock, users + 1)
        started = ended = False
        try:
            # asyncio.Lock wakes its waiters first come, first served, and the Application
            # hands updates over in the order they arrived: a chat's updates keep their order.
            async with lock, self._running, self._around(update):
                started = True
                await coroutine
            ended = True
        finally:
            if not started and inspect.iscoroutine(coroutine):
                coroutine.close()  # cancelled while waiting, or no turn: it will never run
            waiter = self._waiters.pop(id(update), None)
            if waiter is not None and not waiter.done():
                waiter.set_result(ended)
            if task is not None:
                self._in_flight.discard(task)
            lock, users = self._turns[key]
            if users == 1:
                del self._turns[key]
            else:
                self._turns[key] = (lock, users - 1)

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass
