"""The password reset ("¿Olvidaste tu contraseña?"): a link by e-mail to the account's own
address, and the new password chosen on the web page it opens.

The chat that asks learns nothing: whether the address has an account or not, the request
answers the same, and the link goes only to the address. A link's token is 256 bits from
`secrets`, kept only as its SHA-256; it works once, for RESET_TTL, and only while it is the
account's newest. The web form carries a check (an HMAC of the link's token with a key of the
server's) that another site cannot know, so it cannot post the form for someone.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, update
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.accounts.addresses import address_key
from bot.accounts.service import AccountService
from bot.accounts.tokens import TOKEN_BYTES, hash_token
from bot.mail.outbox import Outbox
from bot.storage import Account, Database, PasswordResetToken, utcnow

# What the chat and the e-mail promise: "El enlace vence en 1 hora".
RESET_TTL = timedelta(hours=1)
REQUEST_WINDOW = timedelta(hours=1)
# Links one person may have sent in REQUEST_WINDOW, whatever the addresses: enough for a
# family's own children's accounts and a retry, too few to fill strangers' mailboxes from one
# Telegram account.
REQUESTER_LIMIT = 5
REQUESTER_LOCK_SPACE = 0x5E5E7  # PostgreSQL advisory locks of this module: (space, person)
# Reset links are kept this long, then forgotten by the hourly sweep: long enough to count the
# requests of the last hour and to tell a used or expired link from an unknown one.
KEEP_RESETS = timedelta(days=1)


class ResetStatus(StrEnum):
    READY = "ready"  # the link works: the form may be shown, or the password changed
    CHANGED = "changed"  # this very request changed the password
    USED = "used"  # the link changed a password already
    EXPIRED = "expired"  # its hour is over
    UNKNOWN = "unknown"  # no such link (mistyped, or replaced by a newer request)


@dataclass(frozen=True)
class ResetOutcome:
    status: ResetStatus
    # The account's, when the link is known: the page's language, and whom to tell in the chat.
    locale: str = "es"
    account_id: int | None = None
    telegram_chat_id: int | None = None


class PasswordResets:
    def __init__(
        self,
        database: Database,
        accounts: AccountService,
        *,
        form_key: bytes,
        outbox: Outbox | None = None,
        limit_per_hour: int = 3,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._db = database
        self._accounts = accounts
        self._form_key = form_key
        self._outbox = outbox
        self._limit = limit_per_hour
        # Public, so that a test can move time on for a running bot.
        self.clock = clock

    async def request(self, email: str, requested_by: int | None = None) -> bool:
        """Sends a reset link to `email` when it is a verified account's address, within the
        hourly limits (per account, and per person asking); older links of that account stop
        working. Returns whether one was sent, for the logs and the tests only: the person
        who asked must never be told."""
        now = self.clock()
        async with self._db.session() as session:
            found = await session.exec(select(Account).where(Account.email == address_key(email)))
            account = found.first()
            # Verified accounts only: an unverified account's address was never shown to be
            # its family's (a typo can name a stranger's), so that address may not choose its
            # password. Such a family needs /reenviar, not a new password.
            if account is None or account.id is None or account.verified_at is None:
                return False
            recent = (
                await session.exec(
                    select(PasswordResetToken.id)
                    .where(PasswordResetToken.account_id == account.id)
                    .where(col(PasswordResetToken.created_at) > now - REQUEST_WINDOW)
                )
            ).all()
            # As /reenviar: a few an hour per account, so nobody can fill a family's mailbox.
            if len(recent) >= self._limit:
                return False
            if requested_by is not None:
                if not self._db.is_sqlite:
                    # Counted and added under one lock per person (SQLite's write transaction
                    # already is one): two processes cannot both let a sixth request through.
                    # The two-key form, so as not to meet the one-key locks kept per chat.
                    await session.exec(
                        select(
                            func.pg_advisory_xact_lock(
                                REQUESTER_LOCK_SPACE, requested_by % 2_147_483_647
                            )
                        )
                    )
                asked = await session.exec(
                    select(func.count())
                    .where(col(PasswordResetToken.requested_by) == requested_by)
                    .where(col(PasswordResetToken.created_at) > now - REQUEST_WINDOW)
                )
                if int(asked.one()) >= REQUESTER_LIMIT:
                    return False
            await session.exec(
                update(PasswordResetToken)
                .where(col(PasswordResetToken.account_id) == account.id)
                .where(col(PasswordResetToken.revoked_at).is_(None))
                .where(col(PasswordResetToken.used_at).is_(None))
                .values(revoked_at=now)
            )
            token = secrets.token_urlsafe(TOKEN_BYTES)
            session.add(
                PasswordResetToken(
                    account_id=account.id,
                    token_hash=hash_token(token),
                    created_at=now,
                    expires_at=now + RESET_TTL,
                    requested_by=requested_by,
                )
            )
            if self._outbox is not None:
                self._outbox.add_password_reset(session, account=account, token=token)
            await session.commit()
        if self._outbox is not None:
            self._outbox.wake()
        return True

    async def forget_old(self, keep: timedelta = KEEP_RESETS) -> int:
        """Forgets the reset links made more than `keep` ago (long expired by then), and with
        them who asked; returns how many."""
        async with self._db.session() as session:
            gone = await session.exec(
                delete(PasswordResetToken).where(
                    col(PasswordResetToken.created_at) < self.clock() - keep
                )
            )
            await session.commit()
        return gone.rowcount

    async def look(self, token: str) -> ResetOutcome:
        """Where the link stands, without using it."""
        async with self._db.session() as session:
            return await self._standing(session, token)

    async def complete(self, token: str, password_hash: str) -> ResetOutcome:
        """Uses the link: the account's password becomes `password_hash` (the old one stops
        working), the account's other links stop working too. CHANGED for one request only,
        however many post the form at once."""
        now = self.clock()
        async with self._db.session() as session:
            standing = await self._standing(session, token)
            if standing.status is not ResetStatus.READY or standing.account_id is None:
                return standing
            # Of two posts at the same moment, one wins: the conditional UPDATE tells which.
            used = await session.exec(
                update(PasswordResetToken)
                .where(col(PasswordResetToken.token_hash) == hash_token(token))
                .where(col(PasswordResetToken.used_at).is_(None))
                .where(col(PasswordResetToken.revoked_at).is_(None))
                .where(col(PasswordResetToken.expires_at) > now)
                .values(used_at=now)
            )
            if used.rowcount != 1:
                await session.rollback()
                return ResetOutcome(ResetStatus.USED, locale=standing.locale)
            await session.exec(
                update(PasswordResetToken)
                .where(col(PasswordResetToken.account_id) == standing.account_id)
                .where(col(PasswordResetToken.used_at).is_(None))
                .where(col(PasswordResetToken.revoked_at).is_(None))
                .values(revoked_at=now)
            )
            await self._accounts.change_password(session, standing.account_id, password_hash)
            await session.commit()
        return ResetOutcome(
            ResetStatus.CHANGED,
            locale=standing.locale,
            account_id=standing.account_id,
            telegram_chat_id=standing.telegram_chat_id,
        )

    async def _standing(self, session: AsyncSession, token: str) -> ResetOutcome:
        found = await session.exec(
            select(PasswordResetToken).where(PasswordResetToken.token_hash == hash_token(token))
        )
        stored = found.first()
        # A replaced link is as unknown as a mistyped one: only the newest works.
        if stored is None or stored.revoked_at is not None:
            return ResetOutcome(ResetStatus.UNKNOWN)
        account = await session.get(Account, stored.account_id)
        if account is None:
            return ResetOutcome(ResetStatus.UNKNOWN)
        if stored.used_at is not None:
            return ResetOutcome(ResetStatus.USED, locale=account.locale)
        if stored.expires_at <= self.clock():
            return ResetOutcome(ResetStatus.EXPIRED, locale=account.locale)
        return ResetOutcome(
            ResetStatus.READY,
            locale=account.locale,
            account_id=account.id,
            telegram_chat_id=account.telegram_chat_id,
        )

    def form_check(self, token: str) -> str:
        """The value the reset form carries: only this server can make it for this link."""
        digest = hmac.new(self._form_key, b"reset-form:" + token.encode(), hashlib.sha256)
        return digest.hexdigest()

    def form_check_holds(self, token: str, given: str) -> bool:
        return hmac.compare_digest(self.form_check(token).encode(), given.encode())
