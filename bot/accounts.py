"""Accounts: creating one from a finished registration, and verifying it through its link."""

from __future__ import annotations

import asyncio
import enum
import hashlib
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.links import verification_link
from bot.outbox import Outbox
from bot.storage import Account, Database, VerificationToken, utcnow
from bot.validation import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH

# 32 bytes = 256 bits from the OS's CSPRNG; URL-safe base64 gives a 43-character token.
TOKEN_BYTES = 32


class VerifyStatus(enum.Enum):
    VERIFIED = "verified"  # this opening verified the account
    ALREADY_VERIFIED = "already_verified"  # the link was used before; the account is verified
    UNKNOWN = "unknown"  # no such token (mistyped, or replaced by a newer link)
    EXPIRED = "expired"  # the token existed but its time ran out


@dataclass(frozen=True)
class VerifyOutcome:
    status: VerifyStatus
    # Who to tell in the chat; set when status is VERIFIED or ALREADY_VERIFIED.
    telegram_chat_id: int | None = None
    first_name: str | None = None
    locale: str = "es"
    account_id: int | None = None


@dataclass(frozen=True)
class NewAccount:
    email: str
    first_names: str
    father_surname: str
    mother_surname: str
    birth_date: date
    country_code: str
    password_hash: str
    telegram_user_id: int
    telegram_chat_id: int
    locale: str = "es"


@dataclass(frozen=True)
class CreatedAccount:
    account: Account
    link: str
    expires_at: datetime


class ResendStatus(enum.Enum):
    SENT = "sent"
    NO_ACCOUNT = "no_account"
    ALREADY_VERIFIED = "already_verified"
    TOO_SOON = "too_soon"


@dataclass(frozen=True)
class ResendOutcome:
    status: ResendStatus
    account: Account | None = None
    created: CreatedAccount | None = None
    retry_at: datetime | None = None  # UTC, when status is TOO_SOON


class EmailTaken(Exception):
    """That e-mail address already has an account: no second account, no link."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class PasswordHashing:
    """Argon2id (argon2-cffi's defaults, RFC 9106's low-memory profile), off the event loop."""

    def __init__(
        self, hasher: PasswordHasher | None = None, *, parallel: int | None = None
    ) -> None:
        self._hasher = hasher or PasswordHasher()
        # Each hash keeps a core busy and holds 64 MiB for ~0.1 s. Families' updates run side by
        # side, but hashes on every core would starve the event loop (every other family's
        # reply) and only add memory: one core stays free, the other hashes wait here.
        self._slots = asyncio.Semaphore(parallel or max(1, (os.cpu_count() or 2) - 1))

    async def hash(self, password: str) -> str:
        async with self._slots:
            return await asyncio.to_thread(self._hasher.hash, password)

    async def matches(self, password_hash: str, password: str) -> bool:
        def check() -> bool:
            try:
                return self._hasher.verify(password_hash, password)
            except (VerificationError, InvalidHashError):
                return False

        async with self._slots:
            return await asyncio.to_thread(check)

    async def found_in(self, text: str, password_hashes: Iterable[str]) -> bool:
        """Whether `text`, or a word of it, is the password of one of these hashes. For a
        message about to reach other people: a family may type its password where it should
        not. Each check costs a hash, so only a few likely words are tried."""
        hashes = list(dict.fromkeys(password_hashes))[:MAX_HASHES_CHECKED]
        for candidate in password_candidates(text):
            for password_hash in hashes:
                if await self.matches(password_hash, candidate):
                    return True
        return False


# A family's hashes (its draft's and its newest accounts') and the words of one message tried
# against them: at ~0.1 s a check, a question to the volunteers waits a second at the most.
MAX_HASHES_CHECKED = 3
MAX_WORDS_CHECKED = 4


def password_candidates(text: str) -> list[str]:
    """The whole text, then its longest words that could be a password (8 characters or more,
    as the portal asks), without repeats."""
    # Passwords keep their spaces (bot.validation), so the text as typed comes first.
    words = sorted(
        {word.strip(".,;:!?¡¿\"'()«»") for word in text.split()},
        key=lambda word: (-len(word), word),
    )
    found: list[str] = []
    for candidate in (text, text.strip(), *words):
        if len(found) > MAX_WORDS_CHECKED:
            break
        if MIN_PASSWORD_LENGTH <= len(candidate) <= MAX_PASSWORD_LENGTH and candidate not in found:
            found.append(candidate)
    return found


class AccountService:
    def __init__(
        self,
        database: Database,
        *,
        link_base: str,
        token_ttl: timedelta = timedelta(hours=48),
        passwords: PasswordHashing | None = None,
        outbox: Outbox | None = None,
        resend_limit_per_hour: int = 3,
    ) -> None:
        self._db = database
        self._outbox = outbox
        self._resend_limit = resend_limit_per_hour
        self._link_base = link_base.rstrip("/")
        self._token_ttl = token_ttl
        self.passwords = passwords or PasswordHashing()

    def link_for(self, token: str) -> str:
        return verification_link(self._link_base, token)

    async def email_taken(self, email: str) -> bool:
        async with self._db.session() as session:
            found = await session.exec(select(Account.id).where(Account.email == email.lower()))
            return found.first() is not None

    async def get(self, account_id: int) -> Account | None:
        async with self._db.session() as session:
            return await session.get(Account, account_id)

    async def latest_account(self, telegram_user_id: int) -> Account | None:
        """The family's newest account, verified ones first (a family may register several
        children, each with its own e-mail)."""
        async with self._db.session() as session:
            found = await session.exec(
                select(Account)
                .where(Account.telegram_user_id == telegram_user_id)
                .order_by(col(Account.verified_at).is_(None), col(Account.id).desc())
            )
            return found.first()

    async def password_hashes(self, telegram_user_id: int) -> list[str]:
        """The password hashes of the family's accounts, newest first."""
        async with self._db.session() as session:
            found = await session.exec(
                select(Account.password_hash)
                .where(Account.telegram_user_id == telegram_user_id)
                .order_by(col(Account.id).desc())
                .limit(MAX_HASHES_CHECKED)
            )
            return list(found.all())

    async def create(self, new: NewAccount) -> CreatedAccount:
        """Creates the account, its first link and that link's e-mail, in one transaction."""
        account = Account(
            email=new.email.lower(),
            first_names=new.first_names,
            father_surname=new.father_surname,
            mother_surname=new.mother_surname,
            birth_date=new.birth_date,
            country_code=new.country_code,
            password_hash=new.password_hash,
            telegram_user_id=new.telegram_user_id,
            telegram_chat_id=new.telegram_chat_id,
            locale=new.locale,
        )
        async with self._db.session() as session:
            session.add(account)
            try:
                await session.flush()  # the account's id, for its link; UNIQUE(email) decides
                created = self._issue_link(session, account)
                await session.commit()
            except IntegrityError as error:
                await session.rollback()
                raise EmailTaken(new.email) from error
        self._wake_outbox()
        return created

    async def resend(self, telegram_user_id: int) -> ResendOutcome:
        """A fresh link for the family's newest unverified account, in the chat and by e-mail;
        every older link of that account stops working."""
        now = utcnow()
        async with self._db.session() as session:
            found = await session.exec(
                select(Account)
                .where(Account.telegram_user_id == telegram_user_id)
                .order_by(col(Account.verified_at).is_not(None), col(Account.id).desc())
            )
            account = found.first()
            if account is None:
                return ResendOutcome(ResendStatus.NO_ACCOUNT)
            if account.verified_at is not None:
                return ResendOutcome(ResendStatus.ALREADY_VERIFIED, account=account)
            recent = (
                await session.exec(
                    select(VerificationToken.created_at)
                    .where(VerificationToken.account_id == account.id)
                    .where(col(VerificationToken.created_at) > now - timedelta(hours=1))
                    .order_by(col(VerificationToken.created_at))
                )
            ).all()
            # The first link comes with the account; the limit counts the ones asked for after.
            if len(recent) > self._resend_limit:
                retry_at = recent[-self._resend_limit - 1] + timedelta(hours=1)
                return ResendOutcome(ResendStatus.TOO_SOON, account=account, retry_at=retry_at)
            await session.exec(
                update(VerificationToken)
                .where(col(VerificationToken.account_id) == account.id)
                .where(col(VerificationToken.revoked_at).is_(None))
                .where(col(VerificationToken.used_at).is_(None))
                .values(revoked_at=now)
            )
            created = self._issue_link(session, account)
            await session.commit()
        self._wake_outbox()
        return ResendOutcome(ResendStatus.SENT, account=account, created=created)

    def _issue_link(self, session: AsyncSession, account: Account) -> CreatedAccount:
        """A new token for the account, its hash stored and its e-mail queued, in `session`."""
        assert account.id is not None
        token = secrets.token_urlsafe(TOKEN_BYTES)
        expires_at = utcnow() + self._token_ttl
        session.add(
            VerificationToken(
                account_id=account.id, token_hash=hash_token(token), expires_at=expires_at
            )
        )
        if self._outbox is not None:
            self._outbox.add_verification(session, account=account, token=token)
        return CreatedAccount(account=account, link=self.link_for(token), expires_at=expires_at)

    def _wake_outbox(self) -> None:
        if self._outbox is not None:
            self._outbox.wake()

    async def verify(self, token: str) -> VerifyOutcome:
        now = utcnow()
        async with self._db.session() as session:
            found = await session.exec(
                select(VerificationToken).where(VerificationToken.token_hash == hash_token(token))
            )
            stored = found.first()
            if stored is None:
                return VerifyOutcome(VerifyStatus.UNKNOWN)
            account = await session.get(Account, stored.account_id)
            if account is None:
                return VerifyOutcome(VerifyStatus.UNKNOWN)
            if account.verified_at is None and stored.used_at is None:
                if stored.revoked_at is not None:
                    # Replaced by a newer link (/reenviar): only the newest one works.
                    return VerifyOutcome(VerifyStatus.UNKNOWN)
                if stored.expires_at <= now:
                    return VerifyOutcome(VerifyStatus.EXPIRED)
            # Read before the UPDATEs below, which expire the loaded account.
            told = {
                "telegram_chat_id": account.telegram_chat_id,
                "first_name": account.first_names.split(" ")[0],
                "locale": account.locale,
                "account_id": account.id,
            }

            # Only one of two simultaneous openings may win: the conditional UPDATEs tell which
            # (of one link opened twice, or of two links of one account opened at once).
            used = await session.exec(
                update(VerificationToken)
                .where(col(VerificationToken.id) == stored.id)
                .where(col(VerificationToken.used_at).is_(None))
                .values(used_at=now)
            )
            verified = await session.exec(
                update(Account)
                .where(col(Account.id) == account.id)
                .where(col(Account.verified_at).is_(None))
                .values(verified_at=now)
            )
            won = used.rowcount == 1 and verified.rowcount == 1
            await session.commit()
            status = VerifyStatus.VERIFIED if won else VerifyStatus.ALREADY_VERIFIED
            return VerifyOutcome(status, **told)
