"""The family's own data below the chat: what is kept is shown back without secrets, erased
for good (in the database file itself), and closed tickets are forgotten after a while."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from bot.privacy import NOBODY, Privacy
from bot.storage import Account, Database, RegistrationDraft, Ticket, VerificationToken
from bot.tickets import Tickets
from tests.support.data import START, Clock, an_account

FAMILY = 42  # an_account's telegram_user_id
NAME = "Wislandeuniquename"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def privacy(db: Database, clock: Clock) -> Privacy:
    return Privacy(db, clock=clock)


async def a_family_with_everything(db: Database, clock: Clock) -> None:
    account = an_account("wislande@example.org")
    account.first_names = NAME
    async with db.session() as session:
        session.add(account)
        session.add(
            RegistrationDraft(
                telegram_user_id=FAMILY,
                telegram_chat_id=FAMILY,
                step="apellido_paterno",
                answers={"nombre": NAME + "Hija"},
            )
        )
        await session.commit()
        await session.refresh(account)
        session.add(
            VerificationToken(
                account_id=account.id, token_hash="0" * 64, expires_at=START + timedelta(days=2)
            )
        )
        await session.commit()
    tickets = Tickets(db, clock=clock)
    ticket, _ = await tickets.open_ticket(FAMILY, FAMILY, NAME, "ht")
    await tickets.record_answer(ticket.number, "Una respuesta")


async def test_the_report_shows_what_is_kept_and_no_secret(
    privacy: Privacy, db: Database, clock: Clock
) -> None:
    await a_family_with_everything(db, clock)
    data = await privacy.report(FAMILY)
    (account,) = data.accounts
    assert (account.first_names, account.email, account.verified) == (
        NAME,
        "wislande@example.org",
        False,
    )
    assert data.draft == {"nombre": NAME + "Hija"}
    assert (data.tickets, data.inbox) == (1, 1)
    assert "password_hash" not in repr(data) and "argon2" not in repr(data)


async def test_erasing_deletes_everything_and_keeps_the_statistics(
    privacy: Privacy, db: Database, clock: Clock
) -> None:
    await a_family_with_everything(db, clock)
    erased = await privacy.erase(FAMILY)
    assert (erased.accounts, erased.tickets) == (1, 1)
    assert (await privacy.report(FAMILY)).accounts == []
    async with db.session() as session:
        assert (await session.exec(select(Account))).all() == []
        assert (await session.exec(select(VerificationToken))).all() == []
        (ticket,) = (await session.exec(select(Ticket))).all()
    assert (ticket.telegram_user_id, ticket.first_name, ticket.status) == (NOBODY, "", "closed")
    stats = await Tickets(db, clock=clock).stats()
    assert stats["7"].accounts_created == 1 and stats["7"].tickets_opened == 1


async def test_erased_data_are_gone_from_the_database_file_itself(
    privacy: Privacy, db: Database, clock: Clock, database_url: str
) -> None:
    if not db.is_sqlite:
        pytest.skip("PostgreSQL's files belong to the server")
    await a_family_with_everything(db, clock)
    path = Path(database_url.split(":///", 1)[1])
    before = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    assert NAME.encode() in before  # the test can see it while it is there
    await privacy.erase(FAMILY)
    after = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    assert NAME.encode() not in after


async def test_closed_tickets_forget_who_asked_after_their_retention(
    privacy: Privacy, db: Database, clock: Clock
) -> None:
    tickets = Tickets(db, clock=clock)
    old, _ = await tickets.open_ticket(FAMILY, FAMILY, NAME, "es")
    await tickets.close(old.number, "volunteer")
    still_open, _ = await tickets.open_ticket(FAMILY + 1, FAMILY + 1, "Abierta", "es")
    clock.advance(days=179)
    assert await privacy.forget_closed_tickets(timedelta(days=180)) == 0
    clock.advance(days=2)
    assert await privacy.forget_closed_tickets(timedelta(days=180)) == 1
    assert (await tickets.get(old.number)).first_name == ""  # type: ignore[union-attr]
    assert (await tickets.get(still_open.number)).first_name == "Abierta"  # type: ignore[union-attr]
    assert await privacy.forget_closed_tickets(timedelta(days=180)) == 0  # once


async def test_erasing_also_ends_ones_sessions_on_other_families_accounts(
    privacy: Privacy, db: Database
) -> None:
    from bot.storage import AccountSession

    async with db.session() as session:
        other = an_account("otra@example.org")
        other.telegram_user_id = 77
        session.add(other)
        await session.commit()
        await session.refresh(other)
        session.add(
            AccountSession(
                account_id=other.id or 0,
                telegram_user_id=FAMILY,
                expires_at=START + timedelta(days=1),
            )
        )
        await session.commit()
    await privacy.erase(FAMILY)
    async with db.session() as session:
        assert (await session.exec(select(AccountSession))).all() == []
        assert len((await session.exec(select(Account))).all()) == 1  # the other family's


async def test_a_second_acepto_keeps_the_first_date(db: Database) -> None:
    clock = Clock()
    privacy = Privacy(db, clock=clock)
    await privacy.accept(FAMILY_OF_ACEPTO)
    first = (await privacy.report(FAMILY_OF_ACEPTO)).accepted_at
    clock.advance(days=3)
    await privacy.accept(FAMILY_OF_ACEPTO)  # an old button pressed again
    assert (await privacy.report(FAMILY_OF_ACEPTO)).accepted_at == first


FAMILY_OF_ACEPTO = 6_100_000_001
