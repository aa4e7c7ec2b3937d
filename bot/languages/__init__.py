"""The language each family is spoken to in: the one it chose, else its Telegram app's, else
Spanish. Kept in the database (across restarts and processes) and in memory, since every
update asks for it."""

from __future__ import annotations

from sqlalchemy import Connection, Table, bindparam, update
from sqlmodel import col, select

from bot.i18n import SUPPORTED_LOCALES, normalise_locale
from bot.storage import (
    Account,
    Database,
    EmailStatus,
    FamilyLanguage,
    OutboxEmail,
    RegistrationDraft,
    Ticket,
    TicketStatus,
    utcnow,
)

_CHOSEN: Table = FamilyLanguage.__table__  # type: ignore[attr-defined]
# Read at every update: built once, so each read only binds the family's id.
_READ = select(_CHOSEN.c.locale).where(_CHOSEN.c.telegram_user_id == bindparam("user"))


class Languages:
    def __init__(self, database: Database) -> None:
        self._db = database
        self._chosen: dict[int, str] = {}

    def read(self, connection: Connection, telegram_user_id: int) -> str | None:
        """The family's choice, as a statement of the caller's transaction (see
        `Database.run`), read before each of its updates: it may have chosen through another
        process that shares the database."""
        return connection.execute(_READ, {"user": telegram_user_id}).scalar()

    def note(self, telegram_user_id: int, locale: str | None) -> None:
        """Keeps what `read` found, on the event loop."""
        if locale is None:
            self._chosen.pop(telegram_user_id, None)
        else:
            self._chosen[telegram_user_id] = locale

    def chosen(self, telegram_user_id: int) -> str | None:
        """The language the family chose, if it ever did."""
        return self._chosen.get(telegram_user_id)

    def of(self, telegram_user_id: int, telegram_language: str | None) -> str:
        """The language to speak to the family in."""
        return self.chosen(telegram_user_id) or normalise_locale(telegram_language)

    def forget(self, telegram_user_id: int) -> None:
        """The family's data were deleted (its row with them): speak as to someone new."""
        self._chosen.pop(telegram_user_id, None)

    async def choose(self, telegram_user_id: int, locale: str) -> None:
        """Remembers the choice; a registration in progress, and the family's accounts (their
        e-mails, pages and reminders), go on in it too."""
        if locale not in SUPPORTED_LOCALES:
            raise ValueError(f"no catalog for {locale!r}")
        async with self._db.session() as session:
            await session.merge(
                FamilyLanguage(telegram_user_id=telegram_user_id, locale=locale, chosen_at=utcnow())
            )
            await session.exec(
                update(RegistrationDraft)
                .where(col(RegistrationDraft.telegram_user_id) == telegram_user_id)
                .values(locale=locale)
            )
            await session.exec(
                update(Account)
                .where(col(Account.telegram_user_id) == telegram_user_id)
                .values(locale=locale)
            )
            # What is still on its way follows too: the signature and notices of an open
            # ticket, and an e-mail waiting in the outbox.
            await session.exec(
                update(Ticket)
                .where(col(Ticket.telegram_user_id) == telegram_user_id)
                .where(col(Ticket.status) == TicketStatus.OPEN)
                .values(locale=locale)
            )
            accounts = select(Account.id).where(col(Account.telegram_user_id) == telegram_user_id)
            await session.exec(
                update(OutboxEmail)
                .where(col(OutboxEmail.account_id).in_(accounts))
                .where(col(OutboxEmail.status) == EmailStatus.PENDING)
                .values(locale=locale)
            )
            await session.commit()
        self._chosen[telegram_user_id] = locale
