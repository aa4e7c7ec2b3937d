"""Logging in below the chat: one answer for a wrong address or password, five failures lock a
login for 15 minutes (per account and per chat), "Recuérdame", and sessions that end."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from argon2 import PasswordHasher
from sqlmodel import update

from bot.accounts import AccountService, NewAccount, PasswordHashing
from bot.accounts.passwords import HASHER
from bot.accounts.sessions import LOCKED_FOR, LoginStatus, Sessions
from bot.storage import Account, Database, utcnow
from tests.support.data import Clock

PASSWORD = "Clave-Secreta-2024"
PHONE, OTHER_PHONE = 9001, 9002


@pytest.fixture
def clock() -> Clock:
    return Clock(utcnow())


@pytest.fixture
async def account(db: Database) -> Account:
    passwords = PasswordHashing()
    accounts = AccountService(db, link_base="http://127.0.0.1:8080", passwords=passwords)
    created = await accounts.create(
        NewAccount(
            email="rose@example.org",
            first_names="Rose",
            father_surname="Pierre",
            mother_surname="",
            birth_date=date(2015, 1, 2),
            country_code="HT",
            password_hash=await passwords.hash(PASSWORD),
            telegram_user_id=PHONE,
            telegram_chat_id=PHONE,
        )
    )
    await accounts.verify(created.link.rsplit("/", 1)[1])
    found = await accounts.get(created.account.id or 0)
    assert found is not None
    return found


@pytest.fixture
def sessions(db: Database, clock: Clock) -> Sessions:
    return Sessions(db, PasswordHashing(), clock=clock)


async def test_from_another_phone_the_right_password_opens_the_account(
    sessions: Sessions, account: Account
) -> None:
    outcome = await sessions.log_in(OTHER_PHONE, OTHER_PHONE, "ROSE@example.org ", PASSWORD)
    assert outcome.status is LoginStatus.IN and outcome.account is not None
    assert (await sessions.account_of(OTHER_PHONE)).id == account.id  # type: ignore[union-attr]
    assert await sessions.log_out(OTHER_PHONE)
    assert await sessions.account_of(OTHER_PHONE) is None


async def test_a_wrong_address_and_a_wrong_password_are_one_answer(
    sessions: Sessions, account: Account
) -> None:
    wrong_password = await sessions.log_in(OTHER_PHONE, OTHER_PHONE, "rose@example.org", "nope")
    wrong_address = await sessions.log_in(OTHER_PHONE, OTHER_PHONE, "nadie@example.org", PASSWORD)
    assert wrong_password == wrong_address
    assert wrong_password.status is LoginStatus.WRONG and wrong_password.account is None


async def test_five_failures_lock_the_account_for_fifteen_minutes(
    sessions: Sessions, account: Account, clock: Clock
) -> None:
    for attempt in range(4):
        outcome = await sessions.log_in(
            OTHER_PHONE + attempt, 1000 + attempt, "rose@example.org", "x"
        )
        assert outcome.status is LoginStatus.WRONG
    locked = await sessions.log_in(OTHER_PHONE, 2000, "rose@example.org", "x")
    assert locked.status is LoginStatus.LOCKED and locked.locked_until == clock.now + LOCKED_FOR
    # Locked for the account, from any chat, even with the right password.
    blocked = await sessions.log_in(PHONE, 3000, "rose@example.org", PASSWORD)
    assert blocked.status is LoginStatus.LOCKED
    clock.advance(minutes=15, seconds=1)
    assert (
        await sessions.log_in(PHONE, 3000, "rose@example.org", PASSWORD)
    ).status is LoginStatus.IN


async def test_five_failures_from_one_chat_lock_that_chat_whatever_the_address(
    sessions: Sessions, account: Account, clock: Clock
) -> None:
    for n in range(5):
        await sessions.log_in(OTHER_PHONE, OTHER_PHONE, f"prueba{n}@example.org", "x")
    assert (
        await sessions.log_in(OTHER_PHONE, OTHER_PHONE, "rose@example.org", PASSWORD)
    ).status is LoginStatus.LOCKED
    assert (
        await sessions.log_in(PHONE, PHONE, "rose@example.org", PASSWORD)
    ).status is LoginStatus.IN


async def test_remember_me_keeps_the_session_thirty_days_or_one(
    sessions: Sessions, account: Account, clock: Clock
) -> None:
    await sessions.log_in(OTHER_PHONE, OTHER_PHONE, "rose@example.org", PASSWORD)
    assert await sessions.remember(OTHER_PHONE, True)
    clock.advance(days=29)
    assert await sessions.account_of(OTHER_PHONE) is not None
    clock.advance(days=2)
    assert await sessions.account_of(OTHER_PHONE) is None
    await sessions.log_in(OTHER_PHONE, OTHER_PHONE, "rose@example.org", PASSWORD)
    assert await sessions.remember(OTHER_PHONE, False)
    clock.advance(hours=23)
    assert await sessions.account_of(OTHER_PHONE) is not None
    clock.advance(hours=2)
    assert await sessions.account_of(OTHER_PHONE) is None


async def test_every_session_of_an_account_can_end_at_once(
    sessions: Sessions, account: Account
) -> None:
    await sessions.log_in(OTHER_PHONE, OTHER_PHONE, "rose@example.org", PASSWORD)
    await sessions.log_in(PHONE, PHONE, "rose@example.org", PASSWORD)
    assert account.id is not None and await sessions.end_all(account.id) == 2
    assert (
        await sessions.account_of(PHONE) is None and await sessions.account_of(OTHER_PHONE) is None
    )


async def test_an_unverified_account_is_told_to_verify_first(
    db: Database, sessions: Sessions
) -> None:
    passwords = PasswordHashing()
    accounts = AccountService(db, link_base="http://127.0.0.1:8080", passwords=passwords)
    await accounts.create(
        NewAccount(
            email="nueva@example.org",
            first_names="Nueva",
            father_surname="Cuenta",
            mother_surname="",
            birth_date=date(2016, 1, 2),
            country_code="VE",
            password_hash=await passwords.hash(PASSWORD),
            telegram_user_id=PHONE,
            telegram_chat_id=PHONE,
        )
    )
    outcome = await sessions.log_in(OTHER_PHONE, OTHER_PHONE, "nueva@example.org", PASSWORD)
    assert outcome.status is LoginStatus.UNVERIFIED
    assert await sessions.account_of(OTHER_PHONE) is None
    assert timedelta(0) < LOCKED_FOR


async def test_a_success_on_ones_own_account_does_not_wipe_guesses_at_anothers(
    db: Database, sessions: Sessions, account: Account
) -> None:
    for _round in range(2):
        for _ in range(3):
            await sessions.log_in(OTHER_PHONE, OTHER_PHONE, "rose@example.org", "guess")
        # The attacker's own (here: any) successful login, from the same chat.
        await sessions.log_in(PHONE, 7777, "rose@example.org", PASSWORD)
    # Three failures, then a success on the address itself: that success does reset them.
    for _ in range(5):
        await sessions.log_in(OTHER_PHONE, 5555, "rose@example.org", "guess")
    assert (
        await sessions.log_in(OTHER_PHONE, 6666, "rose@example.org", "guess")
    ).status is LoginStatus.LOCKED


async def test_the_lock_tells_nothing_about_whether_an_address_has_an_account(
    sessions: Sessions, account: Account
) -> None:
    outcomes = []
    for chat, address in ((100, "rose@example.org"), (300, "nadie@example.org")):
        for _ in range(5):
            await sessions.log_in(OTHER_PHONE, chat, address, "guess")
        # From a fresh chat: locked alike, account or not.
        outcomes.append((await sessions.log_in(OTHER_PHONE, chat + 1, address, "guess")).status)
    assert outcomes == [LoginStatus.LOCKED, LoginStatus.LOCKED]


async def test_failed_logins_and_long_ended_sessions_are_swept(
    sessions: Sessions, account: Account, clock: Clock
) -> None:
    await sessions.log_in(OTHER_PHONE, OTHER_PHONE, "nadie@example.org", "guess")
    await sessions.log_in(PHONE, PHONE, "rose@example.org", PASSWORD)
    await sessions.log_out(PHONE)
    assert await sessions.forget_old() == 0  # the failure still counts, the session is recent
    clock.advance(minutes=16)
    assert await sessions.forget_old() == 1  # the failure, past its lock
    clock.advance(days=8)
    assert await sessions.forget_old() == 1  # the session, ended a week ago


class HeldChecks(PasswordHashing):
    """Real Argon2id, but a check's answer waits until the test lets it go: the moment a new
    password can land while a login's check is still running."""

    def __init__(self) -> None:
        super().__init__()
        self.checking = asyncio.Event()
        self.go_on = asyncio.Event()

    async def matches(self, password_hash: str, password: str) -> bool:
        result = await super().matches(password_hash, password)
        self.checking.set()
        await self.go_on.wait()
        return result


async def test_a_new_password_chosen_during_a_login_check_wins(
    db: Database, clock: Clock, account: Account
) -> None:
    held = HeldChecks()
    sessions = Sessions(db, held, clock=clock)
    login = asyncio.create_task(sessions.log_in(OTHER_PHONE, OTHER_PHONE, account.email, PASSWORD))
    await held.checking.wait()  # the old password matched; the session is not made yet
    accounts = AccountService(db, link_base="http://127.0.0.1:8080")
    async with db.session() as session:
        await accounts.change_password(session, account.id or 0, await held.hash("Nueva-2025!"))
        await session.commit()
    held.go_on.set()
    outcome = await login
    assert outcome.status is LoginStatus.WRONG
    assert await sessions.account_of(OTHER_PHONE) is None


async def test_a_hash_of_an_older_release_still_opens_the_account_and_is_made_anew(
    db: Database, sessions: Sessions, account: Account
) -> None:
    # argon2-cffi's defaults (t=3, m=64 MiB, p=4), as the releases before HASHER stored them.
    older = PasswordHasher().hash(PASSWORD)
    async with db.session() as session:
        await session.exec(
            update(Account).where(Account.id == account.id).values(password_hash=older)
        )
        await session.commit()

    outcome = await sessions.log_in(OTHER_PHONE, OTHER_PHONE, "rose@example.org", PASSWORD)

    assert outcome.status is LoginStatus.IN
    async with db.session() as session:
        stored = await session.get(Account, account.id)
    assert stored is not None and stored.password_hash != older
    assert not HASHER.check_needs_rehash(stored.password_hash)
    assert HASHER.verify(stored.password_hash, PASSWORD)
