"""Tickets on a real database: what volunteers and families rely on, across restarts."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta

import pytest
from sqlmodel import col, select

from bot.inbox import Inbox
from bot.settings import async_database_url
from bot.storage import Account, Database, Holder, RegistrationStart, Ticket
from bot.tickets import Tickets
from tests.support.data import START, Clock

GROUP = -1_001_234_567_890
FAMILY = 5_000_000_001  # beyond 32 bits, as Telegram ids are
OTHER_FAMILY = 5_000_000_002


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def tickets(db: Database, clock: Clock) -> Tickets:
    return Tickets(db, clock=clock)


@pytest.fixture
def inbox(db: Database, clock: Clock) -> Inbox:
    return Inbox(db, clock=clock)


async def open_tickets_of(db: Database, user_id: int) -> list[Ticket]:
    async with db.session() as session:
        statement = select(Ticket).where(
            col(Ticket.telegram_user_id) == user_id, col(Ticket.status) == "open"
        )
        return list((await session.exec(statement)).all())


async def test_a_family_has_one_open_ticket_until_it_is_closed(tickets: Tickets) -> None:
    first, created = await tickets.open_ticket(FAMILY, FAMILY, "María", "es")
    assert created
    assert (first.status, first.first_name, first.locale, first.created_at) == (
        "open",
        "María",
        "es",
        START,
    )
    assert first.telegram_chat_id == FAMILY

    again, created = await tickets.open_ticket(FAMILY, FAMILY, "María", "es")
    assert not created
    assert again.id == first.id
    assert (await tickets.open_for(FAMILY)).id == first.id
    assert await tickets.open_for(OTHER_FAMILY) is None

    assert await tickets.close(first.id, "family") is not None
    assert await tickets.open_for(FAMILY) is None
    newer, created = await tickets.open_ticket(FAMILY, FAMILY, "María", "es")
    assert created
    assert newer.id != first.id


async def warm_up(database: Database, connections: int) -> None:
    async def hold() -> None:
        async with database.engine.connect():
            await asyncio.sleep(0.05)

    await asyncio.gather(*(hold() for _ in range(connections)))


async def test_opening_at_the_same_moment_makes_one_ticket(db: Database, clock: Clock) -> None:
    # Several calls at once, through two Database objects (as two processes would).
    other = Database(db.url)
    try:
        # Connections already open, as in a running bot: the calls really overlap.
        await asyncio.gather(*(warm_up(database, 5) for database in (db, other)))
        calls = [
            Tickets(database, clock=clock).open_ticket(FAMILY, FAMILY, "María", "es")
            for database in [db, other] * 10
        ]
        results = await asyncio.gather(*calls)
    finally:
        await other.dispose()

    assert len({ticket.id for ticket, _ in results}) == 1
    assert [created for _, created in results].count(True) == 1
    assert len(await open_tickets_of(db, FAMILY)) == 1


async def test_get_and_a_forum_topic_find_the_ticket(tickets: Tickets) -> None:
    ticket, _ = await tickets.open_ticket(FAMILY, FAMILY, "María", "es")
    assert await tickets.get(ticket.id) == ticket
    assert await tickets.get(999_999) is None
    assert await tickets.by_topic(GROUP, 77) is None

    await tickets.set_topic(ticket.id, GROUP, 77)

    assert (await tickets.get(ticket.id)).topic_id == 77
    assert (await tickets.by_topic(GROUP, 77)).id == ticket.id


async def test_a_topic_number_of_another_group_finds_no_ticket(tickets: Tickets) -> None:
    ticket, _ = await tickets.open_ticket(FAMILY, FAMILY, "María", "es")
    await tickets.set_topic(ticket.id, GROUP, 77)
    assert await tickets.by_topic(-1_009_999_999_999, 77) is None
    assert (await tickets.by_topic(GROUP, 77)).id == ticket.id


async def test_only_the_family_of_a_closed_ticket_says_whether_it_was_helped(
    tickets: Tickets,
) -> None:
    ticket, _ = await tickets.open_ticket(FAMILY, FAMILY, "María", "es")
    assert not await tickets.set_helped(ticket.id, FAMILY, True)  # still open
    await tickets.close(ticket.id, "volunteer")
    assert not await tickets.set_helped(ticket.id, OTHER_FAMILY, False)
    assert not await tickets.set_helped(999_999, FAMILY, False)
    assert (await tickets.get(ticket.id)).helped is None
    assert await tickets.set_helped(ticket.id, FAMILY, True)
    assert (await tickets.get(ticket.id)).helped is True


async def test_the_pending_list_and_the_inbox_come_a_page_at_a_time(
    tickets: Tickets, inbox: Inbox, clock: Clock
) -> None:
    ids = []
    for n in range(7):
        ticket, _ = await tickets.open_ticket(FAMILY + n, FAMILY + n, f"F{n}", "es")
        ids.append(ticket.id)
        clock.advance(minutes=1)
    assert await tickets.pending_count() == 7
    assert [t.id for t in await tickets.pending(limit=3)] == ids[:3]
    assert [t.id for t in await tickets.pending(offset=3, limit=3)] == ids[3:6]
    assert [t.id for t in await tickets.pending(offset=6, limit=3)] == ids[6:]
    for n in range(4):
        await tickets.record_answer(ids[0], f"respuesta {n}")
    newest_first = [m.text for m in await inbox.read(Holder(FAMILY), limit=2)]
    assert newest_first == ["respuesta 3", "respuesta 2"]
    assert [m.text for m in await inbox.read(Holder(FAMILY), offset=2, limit=2)] == [
        "respuesta 1",
        "respuesta 0",
    ]


async def test_a_topic_reused_finds_its_newest_ticket_even_closed(
    tickets: Tickets, clock: Clock
) -> None:
    old, _ = await tickets.open_ticket(FAMILY, FAMILY, "María", "es")
    await tickets.set_topic(old.id, GROUP, 77)
    await tickets.close(old.id, "volunteer")
    clock.advance(minutes=5)
    new, _ = await tickets.open_ticket(FAMILY, FAMILY, "María", "es")
    await tickets.set_topic(new.id, GROUP, 77)
    assert (await tickets.by_topic(GROUP, 77)).id == new.id

    await tickets.close(new.id, "family")
    closed = await tickets.by_topic(GROUP, 77)
    assert (closed.id, closed.status) == (new.id, "closed")


async def test_the_group_messages_of_a_ticket_are_found_after_a_restart(
    database_url: str, clock: Clock
) -> None:
    url = async_database_url(database_url)
    before = Database(url)
    try:
        await before.create_schema()
        tickets = Tickets(before, clock=clock)
        ticket, _ = await tickets.open_ticket(FAMILY, FAMILY, "María", "es")
        other, _ = await tickets.open_ticket(OTHER_FAMILY, OTHER_FAMILY, "Ana", "en")
        await tickets.set_topic(ticket.id, GROUP, 77)
        await tickets.remember_relay(ticket.id, GROUP, 10, "to_group")
        await tickets.remember_relay(ticket.id, GROUP, 11, "to_family")
        await tickets.remember_relay(other.id, GROUP, 12, "to_group")
        # The same message again (a redelivered update): no error, no change.
        await tickets.remember_relay(ticket.id, GROUP, 10, "to_group")
    finally:
        await before.dispose()

    after = Database(url)  # the bot restarted
    try:
        await after.create_schema()
        tickets = Tickets(after, clock=clock)
        assert (await tickets.by_group_message(GROUP, 10)).id == ticket.id
        assert (await tickets.by_group_message(GROUP, 11)).id == ticket.id
        assert (await tickets.by_group_message(GROUP, 12)).id == other.id
        assert await tickets.by_group_message(GROUP, 13) is None
        assert await tickets.by_group_message(-100_999, 10) is None  # another group
        assert (await tickets.by_topic(GROUP, 77)).id == ticket.id
        assert (await tickets.open_for(FAMILY)).id == ticket.id
    finally:
        await after.dispose()


async def test_a_relay_direction_is_checked(tickets: Tickets) -> None:
    ticket, _ = await tickets.open_ticket(FAMILY, FAMILY, "María", "es")
    with pytest.raises(ValueError):
        await tickets.remember_relay(ticket.id, GROUP, 10, "sideways")


async def test_answers_go_to_the_inbox_and_the_first_one_is_timed(
    tickets: Tickets, inbox: Inbox, clock: Clock
) -> None:
    ticket, _ = await tickets.open_ticket(FAMILY, FAMILY, "María", "es")
    other, _ = await tickets.open_ticket(OTHER_FAMILY, OTHER_FAMILY, "Ana", "es")
    assert await inbox.count(Holder(FAMILY)) == 0

    clock.advance(minutes=30)
    answered = await tickets.record_answer(ticket.id, "Hola María, el trámite es gratuito.")
    assert answered.first_answer_at == START + timedelta(minutes=30)
    assert await inbox.count(Holder(FAMILY)) == 1

    clock.advance(minutes=30)
    answered = await tickets.record_answer(ticket.id, "x" * 5000)  # kept, cut to 4096
    assert answered.first_answer_at == START + timedelta(minutes=30)
    assert await inbox.count(Holder(FAMILY)) == 2
    assert await inbox.count(Holder(OTHER_FAMILY)) == 0
    assert (await tickets.get(other.id)).first_answer_at is None

    # The inbox outlives the ticket.
    await tickets.close(ticket.id, "volunteer")
    assert await inbox.count(Holder(FAMILY)) == 2


async def test_closing_twice_closes_once(tickets: Tickets, clock: Clock) -> None:
    ticket, _ = await tickets.open_ticket(FAMILY, FAMILY, "María", "es")
    clock.advance(hours=1)

    closed = await tickets.close(ticket.id, "volunteer")
    assert (closed.status, closed.closed_by, closed.closed_at) == (
        "closed",
        "volunteer",
        START + timedelta(hours=1),
    )
    assert await tickets.close(ticket.id, "family") is None
    assert (await tickets.get(ticket.id)).closed_by == "volunteer"
    assert await tickets.close(999_999, "family") is None
    with pytest.raises(ValueError):
        await tickets.close(ticket.id, "nobody")


async def test_the_family_says_whether_it_was_helped(tickets: Tickets) -> None:
    ticket, _ = await tickets.open_ticket(FAMILY, FAMILY, "María", "es")
    assert ticket.helped is None
    await tickets.close(ticket.id, "family")
    await tickets.set_helped(ticket.id, FAMILY, True)
    assert (await tickets.get(ticket.id)).helped is True
    await tickets.set_helped(ticket.id, FAMILY, False)
    assert (await tickets.get(ticket.id)).helped is False


async def test_pending_lists_open_tickets_oldest_first_with_their_place(
    tickets: Tickets, clock: Clock
) -> None:
    ids = []
    for user in (101, 102, 103, 104):
        ticket, _ = await tickets.open_ticket(user, user, f"F{user}", "es")
        ids.append(ticket.id)
        clock.advance(minutes=10)
    await tickets.close(ids[1], "family")

    assert [t.id for t in await tickets.pending()] == [ids[0], ids[2], ids[3]]
    assert [await tickets.waiting_position(i) for i in ids] == [1, 0, 2, 3]

    # An answered ticket is still pending (open) but no longer waits for a first answer.
    await tickets.record_answer(ids[0], "respuesta")
    assert [t.id for t in await tickets.pending()] == [ids[0], ids[2], ids[3]]
    assert [await tickets.waiting_position(i) for i in ids] == [0, 0, 1, 2]
    assert await tickets.waiting_position(999_999) == 0


async def test_pending_is_empty_without_open_tickets(tickets: Tickets) -> None:
    assert await tickets.pending() == []


async def test_an_unanswered_ticket_is_raised_again_once(tickets: Tickets, clock: Clock) -> None:
    waiting, _ = await tickets.open_ticket(101, 101, "A", "es")
    answered, _ = await tickets.open_ticket(102, 102, "B", "es")
    closed, _ = await tickets.open_ticket(103, 103, "C", "es")
    await tickets.record_answer(answered.id, "respuesta")
    await tickets.close(closed.id, "family")
    two_hours = timedelta(hours=2)

    clock.advance(hours=1, minutes=59)
    assert await tickets.due_for_reminder(two_hours) == []

    clock.advance(minutes=2)
    assert [t.id for t in await tickets.due_for_reminder(two_hours)] == [waiting.id]

    assert await tickets.mark_reminded(waiting.id)
    assert not await tickets.mark_reminded(waiting.id)  # a second process: already done
    assert (await tickets.get(waiting.id)).reminded_at == clock.now
    clock.advance(hours=5)
    assert await tickets.due_for_reminder(two_hours) == []


async def test_blocking_and_unblocking_a_sender(tickets: Tickets) -> None:
    assert not await tickets.is_blocked(FAMILY)
    assert await tickets.block(FAMILY)
    assert not await tickets.block(FAMILY)  # already blocked
    assert await tickets.is_blocked(FAMILY)
    assert not await tickets.is_blocked(OTHER_FAMILY)

    assert await tickets.unblock(FAMILY)
    assert not await tickets.unblock(FAMILY)  # was not blocked any more
    assert not await tickets.is_blocked(FAMILY)


async def test_blocking_survives_a_restart(database_url: str) -> None:
    url = async_database_url(database_url)
    first = Database(url)
    await first.create_schema()
    await Tickets(first).block(FAMILY)
    await first.dispose()
    second = Database(url)
    try:
        assert await Tickets(second).is_blocked(FAMILY)
    finally:
        await second.dispose()


def an_account(n: int, created_at: datetime, verified_at: datetime | None) -> Account:
    return Account(
        email=f"family{n}@example.org",
        first_names="María",
        father_surname="Pérez",
        birth_date=date(2015, 3, 9),
        country_code="VE",
        password_hash="$argon2id$...",
        telegram_user_id=n,
        telegram_chat_id=n,
        created_at=created_at,
        verified_at=verified_at,
    )


async def test_statistics_over_the_last_7_and_30_days(
    db: Database, tickets: Tickets, clock: Clock
) -> None:
    now = START + timedelta(days=40)
    day = timedelta(days=1)

    async def ticket_at(when: datetime, user: int, answer_after: timedelta | None) -> int:
        clock.now = when
        ticket, _ = await tickets.open_ticket(user, user, "F", "es")
        if answer_after is not None:
            clock.now = when + answer_after
            await tickets.record_answer(ticket.id, "respuesta")
        return ticket.id

    # Registrations started (the drafts record them): 2 in the last 7 days, 1 more within 30,
    # 1 older.
    async with db.session() as session:
        for when, user in ((now - 2 * day, 1), (now - 6 * day, 2), (now - 20 * day, 3)):
            session.add(RegistrationStart(telegram_user_id=user, started_at=when))
        session.add(RegistrationStart(telegram_user_id=4, started_at=now - 35 * day))
        await session.commit()

    async with db.session() as session:
        session.add(an_account(1, now - 1 * day, now - 1 * day))  # created and verified
        session.add(an_account(2, now - 3 * day, None))  # created, not verified
        session.add(an_account(3, now - 10 * day, now - 5 * day))  # verified this week
        session.add(an_account(4, now - 40 * day, now - 39 * day))  # too old for both
        await session.commit()

    # Tickets: 3 this week (answered after 10 min, 30 min; one unanswered), one 20 days ago
    # answered after 2 hours, one 35 days ago (outside both windows).
    recent_a = await ticket_at(now - 1 * day, 11, timedelta(minutes=10))
    await ticket_at(now - 2 * day, 12, timedelta(minutes=30))
    await ticket_at(now - 3 * day, 13, None)
    older = await ticket_at(now - 20 * day, 14, timedelta(hours=2))
    ancient = await ticket_at(now - 35 * day, 15, timedelta(minutes=1))
    clock.now = now - 1 * day
    await tickets.close(recent_a, "family")
    clock.now = now - 19 * day
    await tickets.close(older, "volunteer")
    clock.now = now - 34 * day
    await tickets.close(ancient, "volunteer")

    clock.now = now
    stats = await tickets.stats()

    assert set(stats) == {"7", "30"}
    week, month = stats["7"], stats["30"]
    assert (week.accounts_started, month.accounts_started) == (2, 3)
    assert (week.accounts_created, month.accounts_created) == (2, 3)
    assert (week.accounts_verified, month.accounts_verified) == (2, 2)
    assert (week.tickets_opened, month.tickets_opened) == (3, 4)
    assert (week.tickets_closed, month.tickets_closed) == (1, 2)
    assert week.tickets_open_now == month.tickets_open_now == 2
    assert week.median_first_answer_seconds == 20 * 60  # median of 10 and 30 minutes
    assert month.median_first_answer_seconds == 30 * 60  # of 10 min, 30 min, 2 hours


async def test_statistics_of_an_empty_database(tickets: Tickets) -> None:
    stats = await tickets.stats()
    for window in ("7", "30"):
        values = stats[window]
        assert values.accounts_started == values.tickets_opened == values.tickets_open_now == 0
        assert values.median_first_answer_seconds is None
