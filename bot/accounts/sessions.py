"""Logging in to an account from any Telegram account (a parent on a new phone), one account
at a time per Telegram user; and the lock that five failures in a row put on a login.

A wrong address and a wrong password are one and the same outcome, and take the same time
(an unknown address still costs a hash check), so a login never tells whether an address has
an account.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.accounts.addresses import address_key
from bot.accounts.passwords import PasswordHashing
from bot.accounts.tokens import hash_address
from bot.storage import Account, AccountSession, Database, LoginFailure, utcnow

FAILURES_BEFORE_LOCK = 5
LOCKED_FOR = timedelta(minutes=15)
# "Recuérdame": the portal's choice, as the session's length.
REMEMBERED = timedelta(days=30)
FOR_A_DAY = timedelta(days=1)
# How long an ended session's row stays (for a family asking what happened), then it goes.
KEEP_ENDED = timedelta(days=7)


class LoginStatus(enum.StrEnum):
    IN = "in"
    WRONG = "wrong"  # the address or the password: never said which
    LOCKED = "locked"
    UNVERIFIED = "unverified"


@dataclass(frozen=True)
class LoginOutcome:
    status: LoginStatus
    account: Account | None = None
    locked_until: datetime | None = None


class Sessions:
    def __init__(
        self,
        database: Database,
        passwords: PasswordHashing,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._db = database
        self._passwords = passwords
        self._clock = clock
        # What an unknown address is checked against, so that it costs what a known one does.
        self._decoy: str | None = None

    async def log_in(
        self, telegram_user_id: int, telegram_chat_id: int, email: str, password: str
    ) -> LoginOutcome:
        now = self._clock()
        address = address_key(email)
        hashed = hash_address(address)
        # Counted before the password is checked, so that attempts side by side (chats run in
        # parallel) cannot all get past the limit; taken back on success.
        failure = LoginFailure(
            address_hash=hashed, telegram_chat_id=telegram_chat_id, failed_at=now
        )
        async with self._db.session() as session:
            account = (await session.exec(select(Account).where(Account.email == address))).first()
            session.add(failure)
            await session.commit()
            await session.refresh(failure)
        locked_until = await self._locked_until(hashed, telegram_chat_id, now)
        if locked_until is not None:
            # Refused unread, so not a failure that would stretch the lock; and at the same
            # cost as any other answer, so the lock tells nothing either.
            async with self._db.session() as session:
                await session.exec(delete(LoginFailure).where(col(LoginFailure.id) == failure.id))
                await session.commit()
            await self._passwords.matches(await self._decoy_hash(), password)
            return LoginOutcome(LoginStatus.LOCKED, locked_until=locked_until)
        if account is None or account.id is None:
            await self._passwords.matches(await self._decoy_hash(), password)
            return await self._wrong(hashed, telegram_chat_id, now)
        if not await self._passwords.matches(account.password_hash, password):
            return await self._wrong(hashed, telegram_chat_id, now)
        # A hash an older release made with other Argon2id parameters is made anew now, the
        # one moment the password is at hand; only if nobody changed it meanwhile (a reset).
        upgraded = (
            await self._passwords.hash(password)
            if self._passwords.needs_rehash(account.password_hash)
            else None
        )
        async with self._db.session() as session:
            # The password was checked outside any transaction (it takes a while, off the event
            # loop); a new password chosen meanwhile on the reset page must win. The row is
            # locked (PostgreSQL; SQLite's write transaction already is) so that the change
            # cannot land between this check and the session below.
            now_hash = (
                await session.exec(
                    select(Account.password_hash)
                    .where(col(Account.id) == account.id)
                    .with_for_update()
                )
            ).first()
            if now_hash != account.password_hash:
                await session.commit()
                return await self._wrong(hashed, telegram_chat_id, now)
            if upgraded is not None:
                await session.exec(
                    update(Account)
                    .where(col(Account.id) == account.id)
                    .where(col(Account.password_hash) == account.password_hash)
                    .values(password_hash=upgraded)
                )
            # A success starts the count again for this address, and only for it: failures on
            # other addresses from this chat stay counted.
            await session.exec(delete(LoginFailure).where(col(LoginFailure.address_hash) == hashed))
            if account.verified_at is None:
                await session.commit()
                return LoginOutcome(LoginStatus.UNVERIFIED, account=account)
            await self._end(session, col(AccountSession.telegram_user_id) == telegram_user_id, now)
            session.add(
                AccountSession(
                    account_id=account.id,
                    telegram_user_id=telegram_user_id,
                    created_at=now,
                    expires_at=now + FOR_A_DAY,
                )
            )
            await session.commit()
        return LoginOutcome(LoginStatus.IN, account=account)

    async def _wrong(self, address_hash: str, telegram_chat_id: int, now: datetime) -> LoginOutcome:
        """A wrong try; the fifth in a row says that the login is now locked."""
        locked_until = await self._locked_until(address_hash, telegram_chat_id, now, including=True)
        if locked_until is not None:
            return LoginOutcome(LoginStatus.LOCKED, locked_until=locked_until)
        return LoginOutcome(LoginStatus.WRONG)

    async def _decoy_hash(self) -> str:
        if self._decoy is None:
            self._decoy = await self._passwords.hash("decoy password, never anyone's")
        return self._decoy

    async def remember(self, telegram_user_id: int, for_long: bool) -> bool:
        """The portal's "Recuérdame": the current session lasts 30 days, or ends after a day.
        False when there is no session to remember."""
        now = self._clock()
        length = REMEMBERED if for_long else FOR_A_DAY
        async with self._db.session() as session:
            current = await self._current(session, telegram_user_id, now)
            if current is None:
                return False
            current.expires_at = current.created_at + length
            session.add(current)
            await session.commit()
        return True

    async def account_of(self, telegram_user_id: int) -> Account | None:
        """The account this Telegram user is logged in to now, if any."""
        async with self._db.session() as session:
            current = await self._current(session, telegram_user_id, self._clock())
            return await session.get(Account, current.account_id) if current else None

    async def log_out(self, telegram_user_id: int) -> bool:
        async with self._db.session() as session:
            ended = await self._end(
                session, col(AccountSession.telegram_user_id) == telegram_user_id, self._clock()
            )
            await session.commit()
        return ended > 0

    async def forget_failures(self, email: str) -> None:
        """The address's failed logins are forgotten (a new password was chosen for it)."""
        async with self._db.session() as session:
            await session.exec(
                delete(LoginFailure).where(
                    col(LoginFailure.address_hash) == hash_address(address_key(email))
                )
            )
            await session.commit()

    async def forget_old(self, keep: timedelta = KEEP_ENDED) -> int:
        """Failed logins past their lock, and sessions ended or expired more than `keep` ago:
        nothing needs them any more. Returns how many rows went."""
        now = self._clock()
        async with self._db.session() as session:
            failures = await session.exec(
                delete(LoginFailure).where(col(LoginFailure.failed_at) < now - LOCKED_FOR)
            )
            sessions = await session.exec(
                delete(AccountSession).where(
                    or_(
                        col(AccountSession.ended_at) < now - keep,
                        col(AccountSession.expires_at) < now - keep,
                    )
                )
            )
            await session.commit()
        return int(failures.rowcount) + int(sessions.rowcount)

    async def end_all(self, account_id: int) -> int:
        """Every session of the account ends (its password was changed, say)."""
        async with self._db.session() as session:
            ended = await self._end(
                session, col(AccountSession.account_id) == account_id, self._clock()
            )
            await session.commit()
        return ended

    async def _locked_until(
        self, address_hash: str, telegram_chat_id: int, now: datetime, *, including: bool = False
    ) -> datetime | None:
        """Five failures in a row within the lock's length lock the address, and the chat,
        until 15 minutes after the last one. The attempt being made is recorded already: it
        counts among them only once it failed (`including`)."""
        since = now - LOCKED_FOR
        conditions = [
            col(LoginFailure.telegram_chat_id) == telegram_chat_id,
            col(LoginFailure.address_hash) == address_hash,
        ]
        latest: datetime | None = None
        async with self._db.session() as session:
            for condition in conditions:
                found = (
                    await session.exec(
                        select(func.count(), func.max(LoginFailure.failed_at))
                        .where(condition)
                        .where(col(LoginFailure.failed_at) > since)
                    )
                ).one()
                count, last = found
                failures = count if including else count - 1
                if failures >= FAILURES_BEFORE_LOCK and last is not None:
                    latest = max(latest or last, last)
        return latest + LOCKED_FOR if latest is not None else None

    @staticmethod
    async def _current(
        session: AsyncSession, telegram_user_id: int, now: datetime
    ) -> AccountSession | None:
        found = await session.exec(
            select(AccountSession)
            .where(col(AccountSession.telegram_user_id) == telegram_user_id)
            .where(col(AccountSession.ended_at).is_(None))
            .where(col(AccountSession.expires_at) > now)
            .order_by(col(AccountSession.id).desc())
        )
        return found.first()

    @staticmethod
    async def _end(session: AsyncSession, which: ColumnElement[bool], now: datetime) -> int:
        ended = await session.exec(
            update(AccountSession)
            .where(which)
            .where(col(AccountSession.ended_at).is_(None))
            .values(ended_at=now)
        )
        return int(ended.rowcount)
