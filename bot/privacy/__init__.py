"""The family's own data: the privacy notice's acceptance, everything kept about a Telegram
user (shown back on request, never a password hash or a token), its deletion, and the
retention of closed tickets.

Deleted means gone from the database file too: SQLite overwrites what it frees
(`secure_delete`, see bot.storage.database), and the write-ahead log is checkpointed into the
file and truncated after an erasure.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, Table, bindparam, delete, func, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.accounts.service import delete_what_refers_to
from bot.accounts.tokens import hash_address
from bot.storage import (
    Account,
    AccountSession,
    Database,
    DeletedAccount,
    FamilyLanguage,
    InboxMessage,
    LoginFailure,
    OpenQuestion,
    PasswordResetToken,
    PrivacyConsent,
    RegistrationDraft,
    RegistrationStart,
    TakenAddressSeen,
    Ticket,
    TicketStatus,
    TramiteChecklist,
    utcnow,
)

_CONSENTS: Table = PrivacyConsent.__table__  # type: ignore[attr-defined]
_ACCEPTED = select(_CONSENTS.c.telegram_user_id).where(
    _CONSENTS.c.telegram_user_id == bindparam("user")
)

# Who a ticket belonged to, once it no longer says: no Telegram id is 0.
NOBODY = 0


@dataclass(frozen=True)
class AccountData:
    email: str
    first_names: str
    father_surname: str
    mother_surname: str
    birth_date: date
    country_code: str
    verified: bool
    locale: str
    created_at: datetime


@dataclass(frozen=True)
class FamilyData:
    """Everything kept about one Telegram user, but secrets (hashes, tokens)."""

    accounts: list[AccountData]
    # The registration in progress: field key -> answer, secret fields left out by the caller.
    draft: dict[str, object]
    language: str | None
    tickets: int
    inbox: int
    accepted_at: datetime | None
    tramites: int = 0
    sessions: int = 0


@dataclass(frozen=True)
class Erased:
    accounts: int
    tickets: int


class Privacy:
    def __init__(self, database: Database, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._db = database
        self._clock = clock
        dialect = sqlite if database.is_sqlite else postgresql
        self._accept = dialect.insert(PrivacyConsent).on_conflict_do_nothing(
            index_elements=["telegram_user_id"]
        )

    async def accepted(self, telegram_user_id: int) -> bool:
        # A Core statement through `Database.run`: the registration asks this on its way.
        found = {"user": telegram_user_id}
        return await self._db.run(lambda c: c.execute(_ACCEPTED, found).first() is not None)

    async def accept(self, telegram_user_id: int) -> None:
        """Records the first acceptance; a later press (an old button), or two at once, keeps
        the first one's date."""
        statement = self._accept.values(
            telegram_user_id=telegram_user_id, accepted_at=self._clock()
        )
        await self._db.run(lambda connection: connection.execute(statement))

    async def report(self, telegram_user_id: int) -> FamilyData:
        async with self._db.session() as session:
            accounts = (
                await session.exec(
                    select(Account)
                    .where(col(Account.telegram_user_id) == telegram_user_id)
                    .order_by(col(Account.id))
                )
            ).all()
            draft = await session.get(RegistrationDraft, telegram_user_id)
            language = await session.get(FamilyLanguage, telegram_user_id)
            consent = await session.get(PrivacyConsent, telegram_user_id)
            tickets = await _count(session, col(Ticket.telegram_user_id) == telegram_user_id)
            ids = [account.id for account in accounts]
            inbox = await _count(
                session,
                or_(
                    col(InboxMessage.telegram_user_id) == telegram_user_id,
                    col(InboxMessage.account_id).in_(ids),
                ),
            )
            tramites = await _count(
                session,
                or_(
                    col(TramiteChecklist.telegram_user_id) == telegram_user_id,
                    col(TramiteChecklist.account_id).in_(ids),
                ),
            )
            sessions = await _count(
                session,
                (col(AccountSession.telegram_user_id) == telegram_user_id)
                & col(AccountSession.ended_at).is_(None),
            )
        return FamilyData(
            accounts=[
                AccountData(
                    email=account.email,
                    first_names=account.first_names,
                    father_surname=account.father_surname,
                    mother_surname=account.mother_surname,
                    birth_date=account.birth_date,
                    country_code=account.country_code,
                    verified=account.verified_at is not None,
                    locale=account.locale,
                    created_at=account.created_at,
                )
                for account in accounts
            ],
            draft=dict(draft.answers) if draft is not None and draft.expired_at is None else {},
            language=language.locale if language is not None else None,
            tickets=tickets,
            inbox=inbox,
            accepted_at=consent.accepted_at if consent is not None else None,
            tramites=tramites,
            sessions=sessions,
        )

    async def erase(self, telegram_user_id: int) -> Erased:
        """Deletes the user's accounts and everything tied to them, in one transaction; its
        tickets stay for the statistics, closed and without anything that identifies it."""
        async with self._db.session() as session:
            # Locked first (PostgreSQL; SQLite's write transaction already is): an answer or a
            # message for these accounts arriving meanwhile waits, then finds them gone, instead
            # of landing between the deletions and refusing the erasure.
            accounts = (
                await session.exec(
                    select(Account)
                    .where(col(Account.telegram_user_id) == telegram_user_id)
                    .with_for_update()
                )
            ).all()
            await session.exec(
                select(Ticket.id)
                .where(col(Ticket.telegram_user_id) == telegram_user_id)
                .with_for_update()
            )
            ids = [account.id for account in accounts if account.id is not None]
            session.add_all(
                DeletedAccount(created_at=account.created_at, verified_at=account.verified_at)
                for account in accounts
            )
            await delete_what_refers_to(session, ids)
            # This user's own sessions on others' accounts; failed logins from this chat, and
            # on these accounts' addresses.
            await session.exec(
                delete(AccountSession).where(
                    col(AccountSession.telegram_user_id) == telegram_user_id
                )
            )
            addresses = [hash_address(account.email) for account in accounts]
            await session.exec(
                delete(LoginFailure).where(
                    or_(
                        col(LoginFailure.telegram_chat_id) == telegram_user_id,
                        col(LoginFailure.address_hash).in_(addresses),
                    )
                )
            )
            await session.exec(delete(Account).where(col(Account.id).in_(ids)))
            # Reset links this user asked for on others' accounts no longer say who asked.
            await session.exec(
                update(PasswordResetToken)
                .where(col(PasswordResetToken.requested_by) == telegram_user_id)
                .values(requested_by=None)
            )
            mine = telegram_user_id
            await session.exec(
                delete(RegistrationDraft).where(col(RegistrationDraft.telegram_user_id) == mine)
            )
            await session.exec(
                delete(FamilyLanguage).where(col(FamilyLanguage.telegram_user_id) == mine)
            )
            await session.exec(
                delete(OpenQuestion).where(col(OpenQuestion.telegram_user_id) == mine)
            )
            await session.exec(
                delete(PrivacyConsent).where(col(PrivacyConsent.telegram_user_id) == mine)
            )
            await session.exec(
                delete(TakenAddressSeen).where(col(TakenAddressSeen.telegram_user_id) == mine)
            )
            await session.exec(
                delete(InboxMessage).where(col(InboxMessage.telegram_user_id) == mine)
            )
            await session.exec(
                delete(TramiteChecklist).where(col(TramiteChecklist.telegram_user_id) == mine)
            )
            tickets = await session.exec(
                update(Ticket)
                .where(col(Ticket.telegram_user_id) == telegram_user_id)
                .values(
                    telegram_user_id=NOBODY,
                    telegram_chat_id=NOBODY,
                    first_name="",
                    status=TicketStatus.CLOSED,
                    closed_at=func.coalesce(col(Ticket.closed_at), self._clock()),
                )
            )
            await session.exec(
                update(RegistrationStart)
                .where(col(RegistrationStart.telegram_user_id) == telegram_user_id)
                .values(telegram_user_id=NOBODY)
            )
            await session.commit()
        await self._db.reclaim()
        return Erased(accounts=len(ids), tickets=tickets.rowcount)

    async def forget_closed_tickets(self, older_than: timedelta) -> int:
        """Closed tickets older than `older_than` lose who asked; returns how many."""
        cutoff = self._clock() - older_than
        async with self._db.session() as session:
            forgotten = await session.exec(
                update(Ticket)
                .where(col(Ticket.status) == TicketStatus.CLOSED)
                .where(col(Ticket.closed_at) < cutoff)
                .where(col(Ticket.telegram_user_id) != NOBODY)
                .values(telegram_user_id=NOBODY, telegram_chat_id=NOBODY, first_name="")
            )
            await session.commit()
        if forgotten.rowcount:
            await self._db.reclaim()
        return forgotten.rowcount


async def _count(session: AsyncSession, condition: ColumnElement[bool]) -> int:
    found = await session.exec(select(func.count()).where(condition))
    return int(found.one())
