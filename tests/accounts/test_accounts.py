"""Accounts on a real database: what is stored, and what opening a verification link does."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import threading
import time
from datetime import date, timedelta
from itertools import count
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from cryptography.fernet import Fernet
from sqlalchemy import Connection, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.accounts import (
    AccountService,
    CreatedAccount,
    EmailTaken,
    NewAccount,
    PasswordHashing,
    TooManyAccounts,
    VerifyStatus,
    hash_token,
    password_candidates,
)
from bot.accounts.passwords import MAX_WORDS_CHECKED
from bot.mail.outbox import Outbox, TokenSeal
from bot.mail.sender import Mailer, MailSettings
from bot.priority import BACKGROUND_NICENESS
from bot.storage import Account, Database, VerificationToken, utcnow
from tests.support.data import Clock

LINK_BASE = "https://bot.example.org"
TTL = timedelta(hours=48)
# The link's last path segment: URL-safe base64 of at least 128 bits (22 characters = 132 bits).
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{22,}$")

_user_ids = count(1000)


@pytest.fixture
def accounts(db: Database) -> AccountService:
    return AccountService(db, link_base=LINK_BASE + "/", token_ttl=TTL)


def new_account(
    email: str = "Maria.Perez@Example.ORG",
    *,
    first_names: str = "María José",
    telegram_user_id: int | None = None,
) -> NewAccount:
    user_id = next(_user_ids) if telegram_user_id is None else telegram_user_id
    return NewAccount(
        email=email,
        first_names=first_names,
        father_surname="Pérez",
        mother_surname="González",
        birth_date=date(2015, 3, 9),
        country_code="VE",
        password_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2g",
        telegram_user_id=user_id,
        telegram_chat_id=user_id + 5_000_000_000,  # beyond 32 bits, as real chat ids can be
        locale="es",
    )


def token_of(created: CreatedAccount) -> str:
    assert created.link.startswith(LINK_BASE + "/validate/"), created.link
    return created.link.rsplit("/", 1)[1]


async def all_rows(db: Database, table: str) -> list[tuple[object, ...]]:
    async with db.engine.connect() as connection:
        result = await connection.execute(text(f"SELECT * FROM {table}"))
        return [tuple(row) for row in result]


async def stored_token(db: Database, token: str) -> VerificationToken:
    async with db.session() as session:
        found = await session.exec(
            select(VerificationToken).where(VerificationToken.token_hash == hash_token(token))
        )
        return found.one()


# --- create() ---------------------------------------------------------------------------------


async def test_create_stores_the_email_lowercased(accounts: AccountService, db: Database) -> None:
    created = await accounts.create(new_account("Maria.Perez@Example.ORG"))

    assert created.account.email == "maria.perez@example.org"
    stored = await accounts.get(created.account.id)
    assert stored is not None
    assert stored.email == "maria.perez@example.org"
    assert stored.verified_at is None
    assert await accounts.email_taken("MARIA.PEREZ@EXAMPLE.ORG")


async def test_the_plain_token_is_stored_nowhere_only_its_sha256(
    accounts: AccountService, db: Database
) -> None:
    created = await accounts.create(new_account())
    token = token_of(created)

    token_rows = await all_rows(db, "verificationtoken")
    account_rows = await all_rows(db, "account")
    assert len(token_rows) == 1
    assert len(account_rows) == 1
    for row in token_rows + account_rows:
        for value in row:
            assert token not in str(value), f"the plain token is stored in the database: {row!r}"

    stored = await stored_token(db, token)
    assert stored.token_hash == hash_token(token)
    assert re.fullmatch(r"[0-9a-f]{64}", stored.token_hash)
    assert stored.account_id == created.account.id
    assert stored.used_at is None


async def test_the_token_is_url_safe_and_unguessable(accounts: AccountService) -> None:
    tokens = [
        token_of(await accounts.create(new_account(f"child{n}@example.org"))) for n in range(5)
    ]

    for token in tokens:
        assert TOKEN_PATTERN.fullmatch(token), token
    assert len(set(tokens)) == len(tokens)


async def test_the_link_expires_after_the_configured_ttl(db: Database) -> None:
    ttl = timedelta(hours=6)
    service = AccountService(db, link_base=LINK_BASE, token_ttl=ttl)

    before = utcnow()
    created = await service.create(new_account())
    after = utcnow()

    assert before + ttl <= created.expires_at <= after + ttl
    stored = await stored_token(db, token_of(created))
    assert stored.expires_at == created.expires_at
    assert abs((stored.expires_at - stored.created_at) - ttl) < timedelta(seconds=5)


async def test_same_address_twice_in_any_case_is_refused(
    accounts: AccountService, db: Database
) -> None:
    await accounts.create(new_account("ana@example.org"))

    with pytest.raises(EmailTaken):
        await accounts.create(new_account("ANA@Example.org"))

    assert len(await all_rows(db, "account")) == 1
    assert len(await all_rows(db, "verificationtoken")) == 1


async def test_another_constraint_refused_is_not_read_as_a_taken_address(
    accounts: AccountService, db: Database
) -> None:
    def breaks_a_constraint(connection: Connection, account: Account) -> None:
        # The account's own id again: a primary key refused, not the address.
        connection.execute(
            text("INSERT INTO account SELECT * FROM account WHERE id = :id"), {"id": account.id}
        )

    with pytest.raises(IntegrityError):
        await accounts.create(new_account("otra.falla@example.org"), alongside=breaks_a_constraint)
    # Nothing was kept, and the address is still free for the family.
    assert await all_rows(db, "account") == []
    created = await accounts.create(new_account("otra.falla@example.org"))
    assert created.account.email == "otra.falla@example.org"


async def test_two_simultaneous_registrations_of_one_address_make_one_account(
    accounts: AccountService, db: Database
) -> None:
    results = await asyncio.gather(
        accounts.create(new_account("Luis@example.org")),
        accounts.create(new_account("luis@EXAMPLE.org")),
        return_exceptions=True,
    )

    created = [result for result in results if isinstance(result, CreatedAccount)]
    refused = [result for result in results if isinstance(result, EmailTaken)]
    assert len(created) == 1, results
    assert len(refused) == 1, results
    rows = await all_rows(db, "account")
    assert len(rows) == 1
    assert len(await all_rows(db, "verificationtoken")) == 1
    # The winner's link works.
    outcome = await accounts.verify(token_of(created[0]))
    assert outcome.status is VerifyStatus.VERIFIED


# --- verify() ---------------------------------------------------------------------------------


async def test_verify_the_first_time_then_already_verified(
    accounts: AccountService, db: Database
) -> None:
    created = await accounts.create(new_account(first_names="María José"))
    token = token_of(created)

    first = await accounts.verify(token)

    assert first.status is VerifyStatus.VERIFIED
    assert first.telegram_chat_id == created.account.telegram_chat_id
    assert first.first_name == "María"
    assert first.account_id == created.account.id
    assert first.locale == "es"
    account = await accounts.get(created.account.id)
    assert account is not None
    assert account.verified_at is not None
    verified_at = account.verified_at
    assert (await stored_token(db, token)).used_at is not None

    again = await accounts.verify(token)

    assert again.status is VerifyStatus.ALREADY_VERIFIED
    assert again.telegram_chat_id == created.account.telegram_chat_id
    assert again.first_name == "María"
    account = await accounts.get(created.account.id)
    assert account is not None
    assert account.verified_at == verified_at  # not moved by the second opening


async def test_verify_an_unknown_token(accounts: AccountService, db: Database) -> None:
    created = await accounts.create(new_account())

    for token in (secrets.token_urlsafe(32), "", token_of(created)[:-1]):
        outcome = await accounts.verify(token)
        assert outcome.status is VerifyStatus.UNKNOWN
        assert outcome.telegram_chat_id is None
        assert outcome.first_name is None

    account = await accounts.get(created.account.id)
    assert account is not None
    assert account.verified_at is None


async def test_verify_an_expired_token(accounts: AccountService, db: Database) -> None:
    created = await accounts.create(new_account())
    token = token_of(created)
    # Time passes: the link's deadline is now behind us.
    async with db.session() as session:
        await session.exec(
            update(VerificationToken)
            .where(col(VerificationToken.token_hash) == hash_token(token))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        await session.commit()

    outcome = await accounts.verify(token)

    assert outcome.status is VerifyStatus.EXPIRED
    assert outcome.telegram_chat_id is None
    account = await accounts.get(created.account.id)
    assert account is not None
    assert account.verified_at is None
    assert (await stored_token(db, token)).used_at is None


async def test_a_link_created_already_expired_does_not_verify(db: Database) -> None:
    service = AccountService(db, link_base=LINK_BASE, token_ttl=timedelta(seconds=-1))
    created = await service.create(new_account())

    assert (await service.verify(token_of(created))).status is VerifyStatus.EXPIRED
    account = await service.get(created.account.id)
    assert account is not None
    assert account.verified_at is None


async def test_two_simultaneous_openings_of_one_link(
    accounts: AccountService, db: Database
) -> None:
    created = await accounts.create(new_account())
    token = token_of(created)

    outcomes = await asyncio.gather(accounts.verify(token), accounts.verify(token))

    statuses = sorted(outcome.status.value for outcome in outcomes)
    assert statuses == sorted([VerifyStatus.VERIFIED.value, VerifyStatus.ALREADY_VERIFIED.value]), (
        outcomes
    )
    for outcome in outcomes:
        assert outcome.telegram_chat_id == created.account.telegram_chat_id
    account = await accounts.get(created.account.id)
    assert account is not None
    assert account.verified_at is not None


# --- has_account() ----------------------------------------------------------------------------


async def test_has_account_is_the_familys_own_accounts_verified_or_not(
    accounts: AccountService,
) -> None:
    family, other = 434343, 535353
    assert not await accounts.has_account(family)

    await accounts.create(new_account("mine@example.org", telegram_user_id=family))
    await accounts.create(new_account("theirs@example.org", telegram_user_id=other))

    assert await accounts.has_account(family)  # not verified yet: it was made all the same
    assert await accounts.has_account(other)
    assert not await accounts.has_account(1)


# --- latest_account() -------------------------------------------------------------------------


async def test_latest_account_prefers_a_verified_account(accounts: AccountService) -> None:
    family = 424242
    older = await accounts.create(new_account("first@example.org", telegram_user_id=family))
    newer = await accounts.create(new_account("second@example.org", telegram_user_id=family))
    await accounts.create(new_account("other@example.org"))  # another family

    latest = await accounts.latest_account(family)
    assert latest is not None
    assert latest.id == newer.account.id  # none verified: the newest

    assert (await accounts.verify(token_of(older))).status is VerifyStatus.VERIFIED

    latest = await accounts.latest_account(family)
    assert latest is not None
    assert latest.id == older.account.id
    assert latest.verified_at is not None

    assert await accounts.latest_account(1) is None


# --- PasswordHashing --------------------------------------------------------------------------


async def test_password_hashing_uses_argon2id() -> None:
    passwords = PasswordHashing()
    password = "Un gato azul 2024!"

    hashed = await passwords.hash(password)

    assert hashed.startswith("$argon2id$")
    assert password not in hashed
    assert await passwords.matches(hashed, password)
    assert not await passwords.matches(hashed, "Un gato azul 2024")
    assert not await passwords.matches(hashed, "")
    assert not await passwords.matches("not a hash", password)
    assert not await passwords.matches("", password)
    # The same password hashed twice gives two different hashes (a random salt each time).
    assert await passwords.hash(password) != hashed


async def test_hashes_run_at_a_lower_cpu_priority_than_the_event_loop() -> None:
    class Observing(PasswordHasher):
        niceness: int | None = None

        def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
            self.niceness = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
            return super().hash(password, salt=salt)

    hasher = Observing(time_cost=1, memory_cost=8, parallelism=1)
    await PasswordHashing(hasher, parallel=1).hash("clave de prueba")
    loop = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    assert hasher.niceness == min(loop + BACKGROUND_NICENESS, 19)
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == loop


async def test_no_more_hashes_at_once_than_allowed() -> None:
    class CountingHasher(PasswordHasher):
        # Counts the hashes running at once, in the worker threads where they run.
        def __init__(self) -> None:
            super().__init__()
            self.lock = threading.Lock()
            self.running = self.most = 0

        def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
            with self.lock:
                self.running += 1
                self.most = max(self.most, self.running)
            try:
                time.sleep(0.05)
                return super().hash(password, salt=salt)
            finally:
                with self.lock:
                    self.running -= 1

    hasher = CountingHasher()
    passwords = PasswordHashing(hasher, parallel=2)
    hashes = await asyncio.gather(*(passwords.hash(f"clave número {n}") for n in range(6)))
    assert hasher.most == 2
    assert all(
        await asyncio.gather(
            *(passwords.matches(h, f"clave número {n}") for n, h in enumerate(hashes))
        )
    )


async def test_the_password_hash_is_what_is_stored(accounts: AccountService, db: Database) -> None:
    password = "mi clave secreta 77"
    hashed = await accounts.passwords.hash(password)
    new = new_account()
    created = await accounts.create(
        NewAccount(**{**new.__dict__, "password_hash": hashed})  # dataclass is frozen
    )

    async with db.session() as session:
        stored = await session.get(Account, created.account.id)
    assert stored is not None
    assert stored.password_hash == hashed
    assert await accounts.passwords.matches(stored.password_hash, password)
    for row in await all_rows(db, "account"):
        for value in row:
            assert password not in str(value)


def test_password_candidates_are_the_text_and_its_longest_words() -> None:
    assert password_candidates("Clave-Secreta-2024") == ["Clave-Secreta-2024"]
    assert password_candidates("mi clave es Clave-Secreta-2024, ayuda") == [
        "mi clave es Clave-Secreta-2024, ayuda",
        "Clave-Secreta-2024,",
        "Clave-Secreta-2024",
    ]
    # As typed, and before the plain long words that crowd a question.
    assert "Clave2024!" in password_candidates("mi contraseña es Clave2024!")
    question = "necesitaría información urgentemente documentación contraseña: Secreto9"
    assert password_candidates(question)[1] == "Secreto9"
    assert password_candidates("hola") == []  # too short to be a password
    many = " ".join(f"palabra{n:02d}" for n in range(50))
    assert len(password_candidates(many)) == MAX_WORDS_CHECKED + 1


async def test_a_password_is_found_in_a_message_only_with_its_hash() -> None:
    hashing = PasswordHashing()
    secret = await hashing.hash("Clave-Secreta-2024")
    other = await hashing.hash("otra-clave-larga")
    assert await hashing.found_in("mi clave es Clave-Secreta-2024 ayuda", [other, secret])
    assert not await hashing.found_in("mi clave es otra cosa distinta", [other, secret])
    assert not await hashing.found_in("Clave-Secreta-2024", [])


# --- accounts never verified, accounts per user, taken addresses met --------------------------


@pytest.fixture
def clock() -> Clock:
    return Clock(utcnow())


def accounts_on(db: Database, clock: Clock, tmp_path: Path, **options: object) -> AccountService:
    # With an outbox that never sends: the account's e-mail stays, to be deleted with it.
    mailer = Mailer(
        MailSettings(
            host=None,
            port=None,
            username=None,
            password=None,
            mail_from="bot@example.org",
            outbox_dir=tmp_path / "outbox",
        )
    )
    outbox = Outbox(
        db,
        mailer,
        TokenSeal(Fernet.generate_key()),
        link_base=LINK_BASE,
        mail_from="bot@example.org",
    )
    return AccountService(
        db,
        link_base=LINK_BASE,
        outbox=outbox,
        unverified_ttl=timedelta(days=7),
        clock=clock,
        **options,  # type: ignore[arg-type]
    )


async def test_an_unverified_account_is_warned_once_then_deleted_and_its_address_freed(
    db: Database, clock: Clock, tmp_path: Path
) -> None:
    accounts = accounts_on(db, clock, tmp_path)
    created = await accounts.create(new_account("Olvidada@Example.org"))
    verified = await accounts.create(new_account("validada@example.org"))
    await accounts.verify(token_of(verified))
    made_at = clock.now

    clock.advance(days=5, hours=23)  # more than a day before the deletion: nothing yet
    assert await accounts.warn_unverified() == []

    clock.advance(hours=1)  # a day before
    warned = await accounts.warn_unverified()
    assert [(n.email, n.telegram_chat_id) for n in warned] == [
        ("olvidada@example.org", created.account.telegram_chat_id)
    ]
    assert warned[0].deletes_at == made_at + timedelta(days=7)
    assert warned[0].deletion_date == (made_at + timedelta(days=7) - timedelta(hours=4)).date()
    assert await accounts.warn_unverified() == []  # told once
    assert await accounts.delete_unverified() == []  # not before its time
    assert await accounts.email_taken("olvidada@example.org")

    clock.advance(days=1)
    deleted = await accounts.delete_unverified()
    assert [n.email for n in deleted] == ["olvidada@example.org"]
    assert await accounts.delete_unverified() == []
    assert not await accounts.email_taken("olvidada@example.org")
    assert await accounts.email_taken("validada@example.org")  # verified: kept for good
    assert await accounts.warn_unverified() == []
    # Its links and its e-mail went with it; the verified account's stayed.
    tokens = await all_rows(db, "verificationtoken")
    emails = await all_rows(db, "outboxemail")
    assert len(tokens) == 1 and len(emails) == 1
    assert verified.account.id in tokens[0] and verified.account.id in emails[0]

    again = await accounts.create(new_account("olvidada@example.org"))
    assert (await accounts.verify(token_of(again))).status is VerifyStatus.VERIFIED


async def test_a_warning_that_comes_late_still_leaves_a_day(
    db: Database, clock: Clock, tmp_path: Path
) -> None:
    accounts = accounts_on(db, clock, tmp_path)
    await accounts.create(new_account("tarde@example.org"))

    clock.advance(days=10)  # the bot was down past the account's time
    warned = await accounts.warn_unverified()
    assert [n.deletes_at for n in warned] == [clock.now + timedelta(days=1)]
    assert await accounts.delete_unverified() == []

    clock.advance(hours=23)
    assert await accounts.delete_unverified() == []
    clock.advance(hours=1)
    assert [n.email for n in await accounts.delete_unverified()] == ["tarde@example.org"]


async def test_an_account_verified_after_its_warning_is_kept(
    db: Database, clock: Clock, tmp_path: Path
) -> None:
    accounts = accounts_on(db, clock, tmp_path)
    created = await accounts.create(new_account("a-tiempo@example.org"))
    clock.advance(days=6, hours=12)
    assert len(await accounts.warn_unverified()) == 1

    # The first link expired long ago: the family asks /reenviar, as the notice says.
    resent = await accounts.resend(created.account.telegram_user_id)
    assert resent.created is not None
    assert (await accounts.verify(token_of(resent.created))).status is VerifyStatus.VERIFIED
    clock.advance(days=30)
    assert await accounts.delete_unverified() == []
    assert await accounts.email_taken("a-tiempo@example.org")


async def test_a_telegram_user_makes_at_most_the_allowed_accounts(
    db: Database, clock: Clock, tmp_path: Path
) -> None:
    accounts = accounts_on(db, clock, tmp_path, max_accounts_per_user=2)
    for n in range(2):
        await accounts.create(new_account(f"hijo{n}@example.org", telegram_user_id=31))

    with pytest.raises(TooManyAccounts) as refused:
        await accounts.create(new_account("hijo2@example.org", telegram_user_id=31))
    assert refused.value.count == 2
    assert not await accounts.email_taken("hijo2@example.org")
    assert len(await all_rows(db, "account")) == 2
    assert len(await all_rows(db, "outboxemail")) == 2

    # Another family is not held back; a deleted unverified account frees a place.
    await accounts.create(new_account("otra@example.org", telegram_user_id=32))
    clock.advance(days=6, hours=1)
    await accounts.warn_unverified()
    clock.advance(days=1)
    await accounts.delete_unverified()
    await accounts.create(new_account("hijo2@example.org", telegram_user_id=31))


async def test_past_three_taken_addresses_a_day_none_is_named(
    db: Database, clock: Clock, tmp_path: Path
) -> None:
    accounts = accounts_on(db, clock, tmp_path)
    for letter in "abcde":
        await accounts.create(new_account(f"{letter}@example.org"))
    prober = 77

    named = [await accounts.may_name_taken(prober, f"{c}@example.org") for c in "aab"]
    assert named == [True, True, True]  # the same address again is no new one
    assert await accounts.may_name_taken(prober, "C@example.org")
    assert not await accounts.may_name_taken(prober, "d@example.org")  # the fourth
    assert await accounts.may_name_taken(prober, "a@example.org")  # one it was already told
    # At the last step, the same: the account is not confirmed.
    with pytest.raises(EmailTaken) as taken:
        await accounts.create(new_account("e@example.org", telegram_user_id=prober))
    assert not taken.value.named
    assert await accounts.may_name_taken(78, "d@example.org")  # another user: its own count

    # Only hashes are kept, and only for a day.
    stored = await all_rows(db, "takenaddressseen")
    assert stored and not any("example.org" in str(row) for row in stored)
    clock.advance(days=1, seconds=1)
    assert await accounts.may_name_taken(prober, "d@example.org")
    await accounts.forget_old_probes()
    assert len(await all_rows(db, "takenaddressseen")) == 1


async def test_an_unverified_account_is_reminded_once_after_the_hours_set(
    db: Database, clock: Clock, tmp_path: Path
) -> None:
    accounts = accounts_on(db, clock, tmp_path)
    await accounts.create(new_account("recordada@example.org"))
    verified = await accounts.create(new_account("validada@example.org"))
    await accounts.verify(token_of(verified))
    clock.advance(hours=23.9)
    assert await accounts.remind_unverified(timedelta(hours=24)) == []
    clock.advance(hours=0.2)
    reminded = await accounts.remind_unverified(timedelta(hours=24))
    assert [n.email for n in reminded] == ["recordada@example.org"]
    clock.advance(hours=48)
    assert await accounts.remind_unverified(timedelta(hours=24)) == []  # once
