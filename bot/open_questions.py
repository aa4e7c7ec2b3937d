"""The questions a chat has open outside the registration (the login's address, then its
password; the password reset's address), kept in the database so that whichever process takes
the family's next message knows what it answers. The registration needs none of this: its
draft says which field is asked."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, Table, bindparam, delete, select
from sqlmodel import col

from bot.storage import Database, OpenQuestion, utcnow

_QUESTIONS: Table = OpenQuestion.__table__  # type: ignore[attr-defined]
# Read at every update: built once, so each read only binds its values.
_READ = (
    select(
        _QUESTIONS.c.conversation,
        _QUESTIONS.c.telegram_chat_id,
        _QUESTIONS.c.state,
        _QUESTIONS.c.value,
        _QUESTIONS.c.secret,
    )
    .where(_QUESTIONS.c.telegram_user_id == bindparam("user"))
    .where(_QUESTIONS.c.expires_at > bindparam("now"))
)


@dataclass(frozen=True)
class Asked:
    chat_id: int
    state: str
    value: str | None
    secret: bool


class OpenQuestions:
    def __init__(self, database: Database, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._db = database
        self._clock = clock
        # Per family that wrote lately: each conversation's open question, as `note` was told
        # (and as this process changed it since).
        self._asked: dict[int, dict[str, Asked]] = {}

    def read(self, connection: Connection, telegram_user_id: int) -> dict[str, Asked]:
        """The family's open questions, as statements of the caller's transaction (see
        `Database.run`), read before each of its updates: another process that shares the
        database may have asked or closed one. One past its time counts as none."""
        found = connection.execute(_READ, {"user": telegram_user_id, "now": self._clock()})
        return {
            conversation: Asked(chat_id, state, value, secret)
            for conversation, chat_id, state, value, secret in found
        }

    def note(self, telegram_user_id: int, asked: dict[str, Asked]) -> None:
        """Keeps what `read` found, on the event loop."""
        if asked:
            self._asked[telegram_user_id] = asked
        else:
            self._asked.pop(telegram_user_id, None)

    def state(self, telegram_user_id: int, chat_id: int, conversation: str) -> str | None:
        """The conversation's open question in that chat (a question asked in the private chat
        is not answered by a message in a group)."""
        asked = self._asked.get(telegram_user_id, {}).get(conversation)
        return asked.state if asked is not None and asked.chat_id == chat_id else None

    def value(self, telegram_user_id: int, conversation: str) -> str | None:
        asked = self._asked.get(telegram_user_id, {}).get(conversation)
        return asked.value if asked is not None else None

    def awaits_secret(self, telegram_user_id: int) -> bool:
        """Whether the family's next message is taken for a password."""
        return any(asked.secret for asked in self._asked.get(telegram_user_id, {}).values())

    async def ask(
        self,
        telegram_user_id: int,
        chat_id: int,
        conversation: str,
        state: str,
        *,
        patience: timedelta,
        value: str | None = None,
        secret: bool = False,
    ) -> None:
        """Opens (or moves on) the conversation's question; it is dropped after `patience`."""
        async with self._db.session() as session:
            await session.merge(
                OpenQuestion(
                    telegram_user_id=telegram_user_id,
                    conversation=conversation,
                    telegram_chat_id=chat_id,
                    state=state,
                    value=value,
                    secret=secret,
                    expires_at=self._clock() + patience,
                )
            )
            await session.commit()
        self._asked.setdefault(telegram_user_id, {})[conversation] = Asked(
            chat_id, state, value, secret
        )

    async def close(self, telegram_user_id: int, conversation: str) -> None:
        async with self._db.session() as session:
            await session.exec(
                delete(OpenQuestion)
                .where(col(OpenQuestion.telegram_user_id) == telegram_user_id)
                .where(col(OpenQuestion.conversation) == conversation)
            )
            await session.commit()
        asked = self._asked.get(telegram_user_id, {})
        asked.pop(conversation, None)
        if not asked:
            self._asked.pop(telegram_user_id, None)

    async def forget_expired(self) -> None:
        """Drops the questions past their time: what they held (an address) is kept no longer."""
        async with self._db.session() as session:
            await session.exec(
                delete(OpenQuestion).where(col(OpenQuestion.expires_at) <= self._clock())
            )
            await session.commit()
