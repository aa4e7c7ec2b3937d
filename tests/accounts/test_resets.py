"""The password reset's limits, on a real database: per account, and per person asking."""

from __future__ import annotations

from sqlmodel import select

from bot.accounts import AccountService, PasswordResets
from bot.accounts.resets import REQUESTER_LIMIT
from bot.privacy import Privacy
from bot.storage import Database, PasswordResetToken, utcnow
from tests.support.data import Clock, an_account

ASKER = 9_100_000_001


async def verified_accounts(db: Database, count: int) -> list[str]:
    emails = [f"familia{n}@example.org" for n in range(count)]
    async with db.session() as session:
        for email in emails:
            account = an_account(email)
            account.verified_at = utcnow()
            session.add(account)
        await session.commit()
    return emails


async def test_one_person_cannot_send_links_to_many_mailboxes(db: Database) -> None:
    clock = Clock(utcnow())
    resets = PasswordResets(
        db, AccountService(db, link_base="http://x"), form_key=b"k" * 32, clock=clock
    )
    emails = await verified_accounts(db, REQUESTER_LIMIT + 2)
    sent = [await resets.request(email, requested_by=ASKER) for email in emails]
    assert sent == [True] * REQUESTER_LIMIT + [False, False]
    # Another person may still ask for an address the first one could not reach.
    assert await resets.request(emails[-1], requested_by=ASKER + 1)
    # An hour later, the first person may ask again.
    clock.advance(hours=1, seconds=1)
    assert await resets.request(emails[-2], requested_by=ASKER)


async def test_an_address_is_found_however_its_letters_were_typed(db: Database) -> None:
    resets = PasswordResets(db, AccountService(db, link_base="http://x"), form_key=b"k" * 32)
    (email,) = await verified_accounts(db, 1)
    assert await resets.request("  " + email.upper() + " ")


async def test_who_asked_is_forgotten_by_an_erasure_and_old_links_by_the_sweep(
    db: Database,
) -> None:
    clock = Clock(utcnow())
    resets = PasswordResets(
        db, AccountService(db, link_base="http://x"), form_key=b"k" * 32, clock=clock
    )
    (email,) = await verified_accounts(db, 1)
    assert await resets.request(email, requested_by=ASKER)
    await Privacy(db).erase(ASKER)  # the asker, not the account's family
    async with db.session() as session:
        askers = (await session.exec(select(PasswordResetToken.requested_by))).all()
    assert askers == [None]
    assert await resets.forget_old() == 0
    clock.advance(days=1, seconds=1)
    assert await resets.forget_old() == 1
