"""Accounts: creating one from a finished registration, and verifying it through its link."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from enum import StrEnum

from sqlalchemy import Connection, bindparam, delete, func, insert, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.accounts.addresses import address_key
from bot.accounts.links import verification_link
from bot.accounts.passwords import MAX_HASHES_CHECKED, PasswordHashing
from bot.accounts.tokens import TOKEN_BYTES, hash_address, hash_token
from bot.mail.outbox import Outbox
from bot.storage import (
    Account,
    AccountSession,
    Database,
    InboxKind,
    InboxMessage,
    LoginFailure,
    OutboxEmail,
    PasswordResetToken,
    TakenAddressSeen,
    Ticket,
    TramiteChecklist,
    VerificationToken,
    inserted_values,
    utcnow,
)

# A family is told this long before its never-verified account is deleted: a day is time
# enough to find the e-mail or ask /reenviar, yet close enough to the deadline to matter. The
# deletion never comes sooner than this after the notice, even when the notice came late (the
# bot was down) or UNVERIFIED_ACCOUNT_DAYS is shorter.
DELETION_NOTICE = timedelta(days=1)
# Mainland Chile's winter time, the earlier of its two offsets: a deletion date told in it is
# never later than the family's own calendar says.
CHILE_EARLIEST = timezone(timedelta(hours=-4))
# Past this many different taken addresses met in PROBE_WINDOW, a Telegram user is no longer
# told that an address has an account: enough for a family's typos and its own children's
# addresses, too few to test a list of somebody else's.
PROBE_NAMED = 3
PROBE_WINDOW = timedelta(days=1)

# Asked as every registration begins: built once, each call only binds its user.
_ANY_ACCOUNT_OF = (
    select(col(Account.id)).where(col(Account.telegram_user_id) == bindparam("user")).limit(1)
)
_ACCOUNTS_OF = (
    select(func.count())
    .select_from(Account)
    .where(col(Account.telegram_user_id) == bindparam("user"))
)


class VerifyStatus(StrEnum):
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


class ResendStatus(StrEnum):
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


@dataclass(frozen=True)
class UnverifiedNotice:
    """What to tell a family about its account that was never verified."""

    telegram_chat_id: int
    locale: str
    email: str
    deletes_at: datetime  # UTC; when warned, the moment of the deletion to come
    account_id: int = 0
    telegram_user_id: int = 0

    @property
    def deletion_date(self) -> date:
        return self.deletes_at.replace(tzinfo=UTC).astimezone(CHILE_EARLIEST).date()


class EmailTaken(Exception):
    """That e-mail address already has an account: no second account, no link.

    `named` is False once the Telegram user has met too many taken addresses: it must not be
    told that this one has an account."""

    def __init__(self, email: str, *, named: bool = True) -> None:
        super().__init__(email)
        self.named = named


class TooManyAccounts(Exception):
    """The Telegram user already has MAX_ACCOUNTS_PER_USER accounts: nothing was created."""

    def __init__(self, count: int) -> None:
        super().__init__(count)
        self.count = count


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
        unverified_ttl: timedelta = timedelta(days=7),
        max_accounts_per_user: int = 5,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._db = database
        self._unverified_ttl = unverified_ttl
        self._max_accounts = max_accounts_per_user
        self._clock = clock
        self._outbox = outbox
        self._resend_limit = resend_limit_per_hour
        self._link_base = link_base.rstrip("/")
        self._token_ttl = token_ttl
        self.passwords = passwords or PasswordHashing()

    def link_for(self, token: str) -> str:
        return verification_link(self._link_base, token)

    async def email_taken(self, email: str) -> bool:
        async with self._db.session() as session:
            found = await session.exec(
                select(Account.id).where(Account.email == address_key(email))
            )
            return found.first() is not None

    async def may_name_taken(self, telegram_user_id: int, email: str) -> bool:
        """Records that the user met `email`, which has an account; True when it may be told
        so: the address is one of the first PROBE_NAMED different ones it met in PROBE_WINDOW
        (the same address again is no new one)."""
        now = self._clock()
        seen = hash_address(email)
        async with self._db.session() as session:
            session.add(
                TakenAddressSeen(telegram_user_id=telegram_user_id, email_hash=seen, seen_at=now)
            )
            await session.flush()
            first = await session.exec(
                select(TakenAddressSeen.email_hash)
                .where(TakenAddressSeen.telegram_user_id == telegram_user_id)
                .where(col(TakenAddressSeen.seen_at) > now - PROBE_WINDOW)
                .group_by(col(TakenAddressSeen.email_hash))
                .order_by(func.min(TakenAddressSeen.id))
                .limit(PROBE_NAMED)
            )
            named = seen in first.all()
            await session.commit()
        return named

    async def forget_old_probes(self) -> None:
        async with self._db.session() as session:
            await session.exec(
                delete(TakenAddressSeen).where(
                    col(TakenAddressSeen.seen_at) <= self._clock() - PROBE_WINDOW
                )
            )
            await session.commit()

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

    async def has_account(self, telegram_user_id: int) -> bool:
        """Whether the family created any account before (asked as a registration begins: a
        Core statement through `Database.run`)."""
        found = {"user": telegram_user_id}
        return await self._db.run(lambda c: c.execute(_ANY_ACCOUNT_OF, found).first() is not None)

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

    async def change_password(
        self, session: AsyncSession, account_id: int, password_hash: str
    ) -> None:
        """Replaces the account's password hash in the caller's transaction: the old password
        stops working when the caller commits. Whatever else a new password must end (the
        account's login sessions) belongs here, so that it ends in the same commit."""
        await session.exec(
            update(Account).where(col(Account.id) == account_id).values(password_hash=password_hash)
        )
        await session.exec(
            update(AccountSession)
            .where(col(AccountSession.account_id) == account_id)
            .where(col(AccountSession.ended_at).is_(None))
            .values(ended_at=self._clock())
        )
        # A family locked out by wrong guesses may log in with its new password at once.
        found = await session.exec(select(Account.email).where(col(Account.id) == account_id))
        email = found.first()
        if email is not None:
            await session.exec(
                delete(LoginFailure).where(col(LoginFailure.address_hash) == hash_address(email))
            )

    async def create(
        self, new: NewAccount, *, alongside: Callable[[Connection, Account], object] | None = None
    ) -> CreatedAccount:
        """Creates the account, its first link and that link's e-mail, in one transaction;
        `alongside` adds its own statements to it, once the account has its id (what other
        services keep of a new account: the draft it came from goes, the inbox gets its news).
        An IntegrityError is a taken address only when the address has an account once it is
        rolled back; any other is raised as it is.

        Raises TooManyAccounts past MAX_ACCOUNTS_PER_USER, and EmailTaken when the address has
        an account already."""
        account = Account(
            email=address_key(new.email),
            first_names=new.first_names,
            father_surname=new.father_surname,
            mother_surname=new.mother_surname,
            birth_date=new.birth_date,
            country_code=new.country_code,
            password_hash=new.password_hash,
            telegram_user_id=new.telegram_user_id,
            telegram_chat_id=new.telegram_chat_id,
            locale=new.locale,
            created_at=self._clock(),
        )

        def insert_all(connection: Connection) -> CreatedAccount:
            # Counted in the transaction that inserts: on SQLite it holds the write lock from
            # its BEGIN; on PostgreSQL one user's updates reach one process, one at a time.
            count = connection.execute(_ACCOUNTS_OF, {"user": new.telegram_user_id}).scalar_one()
            if count >= self._max_accounts:
                raise TooManyAccounts(count)
            # UNIQUE(email) decides whether the address is taken.
            account.id = connection.execute(
                insert(Account).values(inserted_values(account)).returning(col(Account.id))
            ).scalar_one()
            token, link = self._new_link(account)
            connection.execute(insert(VerificationToken).values(inserted_values(link)))
            if self._outbox is not None:
                row = self._outbox.verification_row(account=account, token=token)
                connection.execute(insert(OutboxEmail).values(inserted_values(row)))
            if alongside is not None:
                alongside(connection, account)
            return CreatedAccount(
                account=account, link=self.link_for(token), expires_at=link.expires_at
            )

        try:
            created = await self._db.run(insert_all)
        except IntegrityError as refused:
            account.id = None
            if not await self.email_taken(new.email):
                # Some other constraint: a fault to report as one, not a taken address that
                # would send the family to choose another.
                raise
            named = await self.may_name_taken(new.telegram_user_id, new.email)
            raise EmailTaken(new.email, named=named) from refused
        self._wake_outbox()
        return created

    async def resend(self, telegram_user_id: int) -> ResendOutcome:
        """A fresh link for the family's newest unverified account, in the chat and by e-mail;
        every older link of that account stops working."""
        now = self._clock()
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
        token, link = self._new_link(account)
        session.add(link)
        if self._outbox is not None:
            self._outbox.add_verification(session, account=account, token=token)
        return CreatedAccount(
            account=account, link=self.link_for(token), expires_at=link.expires_at
        )

    def _new_link(self, account: Account) -> tuple[str, VerificationToken]:
        """A new token for the account, and the row that keeps its hash."""
        if account.id is None:
            raise ValueError("flush the account first: its link refers to its id")
        token = secrets.token_urlsafe(TOKEN_BYTES)
        now = self._clock()
        return token, VerificationToken(
            account_id=account.id,
            token_hash=hash_token(token),
            created_at=now,
            expires_at=now + self._token_ttl,
        )

    def _wake_outbox(self) -> None:
        if self._outbox is not None:
            self._outbox.wake()

    async def verify(self, token: str) -> VerifyOutcome:
        now = self._clock()
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
            def told(status: VerifyStatus) -> VerifyOutcome:
                return VerifyOutcome(
                    status,
                    telegram_chat_id=account.telegram_chat_id,
                    first_name=account.first_names.split(" ")[0],
                    locale=account.locale,
                    account_id=account.id,
                )

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
            return told(status)

    # --- accounts never verified ----------------------------------------------------------------

    def _notice(self, account: Account, warned_at: datetime) -> UnverifiedNotice:
        deletes_at = max(account.created_at + self._unverified_ttl, warned_at + DELETION_NOTICE)
        return UnverifiedNotice(
            account.telegram_chat_id,
            account.locale,
            account.email,
            deletes_at,
            account_id=account.id or 0,
            telegram_user_id=account.telegram_user_id,
        )

    async def remind_unverified(self, after: timedelta) -> list[UnverifiedNotice]:
        """The accounts still unverified `after` their making, not yet reminded (nor warned
        of their deletion), each marked as reminded: each is returned once, to be told once."""
        now = self._clock()
        async with self._db.session() as session:
            found = await session.exec(
                select(Account)
                .where(col(Account.verified_at).is_(None))
                .where(col(Account.reminded_at).is_(None))
                .where(col(Account.deletion_warned_at).is_(None))
                .where(col(Account.created_at) <= now - after)
            )
            due = [(account.id, self._notice(account, now)) for account in found.all()]
            reminders = []
            for account_id, notice in due:
                # Conditional: of two processes sweeping at once, one reminds the family.
                marked = await session.exec(
                    update(Account)
                    .where(col(Account.id) == account_id)
                    .where(col(Account.reminded_at).is_(None))
                    .values(reminded_at=now)
                )
                if marked.rowcount == 1:
                    reminders.append(notice)
            await session.commit()
        return reminders

    async def warn_unverified(self) -> list[UnverifiedNotice]:
        """The accounts never verified that are now within DELETION_NOTICE of their deletion,
        each marked as warned: each is returned once, to be told once."""
        now = self._clock()
        warn_from = now - max(self._unverified_ttl - DELETION_NOTICE, timedelta(0))
        async with self._db.session() as session:
            found = await session.exec(
                select(Account)
                .where(col(Account.verified_at).is_(None))
                .where(col(Account.deletion_warned_at).is_(None))
                .where(col(Account.created_at) <= warn_from)
            )
            due = [(account.id, self._notice(account, now)) for account in found.all()]
            notices = []
            for account_id, notice in due:
                # Conditional: of two processes sweeping at once, one tells the family.
                marked = await session.exec(
                    update(Account)
                    .where(col(Account.id) == account_id)
                    .where(col(Account.verified_at).is_(None))
                    .where(col(Account.deletion_warned_at).is_(None))
                    .values(deletion_warned_at=now)
                )
                if marked.rowcount == 1:
                    notices.append(notice)
            await session.commit()
        return notices

    async def delete_unverified(self) -> list[UnverifiedNotice]:
        """Deletes the accounts never verified whose family was warned and whose time is up,
        with their links and e-mails, freeing their addresses; returns whom to tell."""
        now = self._clock()
        async with self._db.session() as session:
            found = await session.exec(
                select(Account)
                .where(col(Account.verified_at).is_(None))
                .where(col(Account.deletion_warned_at).is_not(None))
                .where(col(Account.created_at) <= now - self._unverified_ttl)
            )
            due = [
                (account.id, self._notice(account, account.deletion_warned_at))
                for account in found.all()
                if account.deletion_warned_at is not None
            ]
        deleted = []
        for account_id, notice in due:
            if notice.deletes_at <= now and await self._delete_unverified(account_id):
                deleted.append(notice)
        return deleted

    async def _delete_unverified(self, account_id: int | None) -> bool:
        if account_id is None:
            return False
        async with self._db.session() as session:
            # Locked first, as an erasure does: a message for it arriving meanwhile waits.
            await session.exec(
                select(Account.id).where(col(Account.id) == account_id).with_for_update()
            )
            await delete_what_refers_to(session, [account_id])
            gone = await session.exec(
                delete(Account)
                .where(col(Account.id) == account_id)
                .where(col(Account.verified_at).is_(None))
            )
            if gone.rowcount != 1:
                # Verified at the last moment (or deleted by another process): keep it whole.
                await session.rollback()
                return False
            await session.commit()
        return True


async def delete_what_refers_to(session: AsyncSession, account_ids: list[int]) -> None:
    """Deletes, in the caller's transaction, every row that refers to these accounts (their
    e-mails, links, reset links, sessions and the bot's messages in their inbox), so that the
    accounts themselves can go next. The volunteers' answers, the checklists and the tickets
    go back to their person, as before it had an account: an account deleted for never being
    verified must not take a volunteer's answer with it (an erasure deletes them next)."""
    await session.exec(delete(OutboxEmail).where(col(OutboxEmail.account_id).in_(account_ids)))
    await session.exec(
        delete(VerificationToken).where(col(VerificationToken.account_id).in_(account_ids))
    )
    await session.exec(
        delete(PasswordResetToken).where(col(PasswordResetToken.account_id).in_(account_ids))
    )
    await session.exec(
        delete(AccountSession).where(col(AccountSession.account_id).in_(account_ids))
    )
    of_these = col(InboxMessage.account_id).in_(account_ids)
    await session.exec(
        delete(InboxMessage).where(of_these, col(InboxMessage.kind) != InboxKind.ANSWER)
    )
    await session.exec(update(InboxMessage).where(of_these).values(account_id=None))
    await session.exec(
        update(TramiteChecklist)
        .where(col(TramiteChecklist.account_id).in_(account_ids))
        .values(account_id=None)
    )
    await session.exec(
        update(Ticket).where(col(Ticket.account_id).in_(account_ids)).values(account_id=None)
    )
