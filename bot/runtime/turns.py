"""What each update runs inside, once its chat's turn in this process came (bot/runtime/
processing.py): its chat's turn across the processes that share the database, its first
transaction (its ledger entry, and what the services keep about its family, read afresh), and
the conversations' states restored from what was read. So any process can take any update, and
one chat's updates still run one at a time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError
from telegram import Update
from telegram.ext import Application

from bot.registration.drafts import DraftRead
from bot.runtime.application import chat_of
from bot.runtime.conversations import StoredConversation
from bot.safety.updates import Seen
from bot.services import Services

# In the Application's bot_data: id() of the update object → its Arrival, while the update is
# handled. By the object, not by update_id: two chats' updates run at once, and an id that came
# twice (a faulty or forged delivery) must not hand one family's draft to another.
ARRIVALS_KEY = "arrivals"


@dataclass(frozen=True)
class Arrival:
    """How an update's first transaction went: whether the ledger knew it (or the database's
    error, which the guards tell the family of), and its family's draft as read then."""

    seen: Seen | SQLAlchemyError
    draft: DraftRead | None


async def arrive(services: Services, update: Update, user_id: int | None) -> Arrival:
    """The update's first transaction, in one hand-over to the database; what it read of the
    family is kept by the services before anything is handled."""
    try:
        seen, family = await services.database.run(
            lambda connection: services.arrive(connection, update.update_id, user_id)
        )
    except SQLAlchemyError as error:
        return Arrival(error, None)
    if family is None or user_id is None:
        return Arrival(seen, None)
    services.note_family(user_id, family)
    return Arrival(seen, family.draft)


class UpdateTurns:
    def __init__(self, services: Services) -> None:
        self._services = services
        self._conversations: list[StoredConversation] = []
        self.arrivals: dict[int, Arrival] = {}

    def watch(self, application: Application) -> None:
        """Takes note of the application's stored conversations, once its handlers are in,
        and lends the guards this update's arrival."""
        self._conversations = [
            handler
            for group in application.handlers.values()
            for handler in group
            if isinstance(handler, StoredConversation)
        ]
        application.bot_data[ARRIVALS_KEY] = self.arrivals

    @asynccontextmanager
    async def __call__(self, update: object) -> AsyncIterator[None]:
        chat_id = chat_of(update)
        if chat_id is None:
            yield  # no chat (an e-mail refused, say): nothing to keep in order
            return
        found = self._services
        async with found.turns.hold(chat_id) as turn:
            user_id = _user_of(update, chat_id)
            if not isinstance(update, Update):
                await found.refresh(user_id)
                yield
                return
            arrival = self.arrivals[id(update)] = await arrive(found, update, user_id)
            try:
                for conversation in self._conversations:
                    conversation.restore(update, found)
                yield
            finally:
                self.arrivals.pop(id(update), None)
            if not isinstance(arrival.seen, SQLAlchemyError):
                # An update whose arrival failed was never recorded: it must not mark, as
                # ended, an entry that a process which died left cut short.
                await found.updates.finish(update.update_id, turn)


def _user_of(update: object, chat_id: int) -> int:
    # The bot's own news is about a family, told in its private chat, whose id is the user's.
    if isinstance(update, Update) and update.effective_user is not None:
        return update.effective_user.id
    return chat_id
