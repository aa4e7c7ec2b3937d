"""What two processes that share one database do at the same moment, each with its own engine as
a second process would have: a chat's turn is held by one at a time, the ledger knows an update
a dead process cut short, and each reminder is claimed by one of them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.accounts import AccountService
from bot.registration import Registrations
from bot.safety.updates import Seen, UpdateLedger
from bot.settings import async_database_url
from bot.storage import Database
from bot.storage.turns import ChatTurns

CHAT = 5_000_000_301


@pytest.fixture
async def second(db: Database, database_url: str) -> AsyncIterator[Database]:
    """The same database as `db`, through an engine of its own: the other process."""
    other = Database(async_database_url(database_url))
    yield other
    await other.dispose()


@pytest.fixture
async def turns(database_url: str) -> AsyncIterator[tuple[ChatTurns, ChatTurns]]:
    pair = (
        ChatTurns(async_database_url(database_url), at_once=2),
        ChatTurns(async_database_url(database_url), at_once=2),
    )
    yield pair
    for each in pair:
        await each.dispose()


async def test_a_chat_is_one_process_s_turn_at_a_time(
    turns: tuple[ChatTurns, ChatTurns], database_url: str
) -> None:
    one, other = turns
    if not one.shared:
        pytest.skip("SQLite serves one process: its own per-chat order is all there is")
    order: list[str] = []

    async def take(turns: ChatTurns, name: str, chat: int, hold: float) -> None:
        async with turns.hold(chat):
            order.append(f"{name} in")
            await asyncio.sleep(hold)
            order.append(f"{name} out")

    first = asyncio.create_task(take(one, "first", CHAT, 0.3))
    await asyncio.sleep(0.1)
    # Another chat is not held up; the same chat, in the other process, waits its turn.
    await asyncio.wait_for(take(other, "elsewhere", CHAT + 1, 0), timeout=0.15)
    await take(other, "second", CHAT, 0)
    await first
    assert order == [
        "first in",
        "elsewhere in",
        "elsewhere out",
        "first out",
        "second in",
        "second out",
    ]


async def test_the_ledger_tells_an_update_cut_short_from_one_handled(
    db: Database, second: Database, database_url: str
) -> None:
    turns = ChatTurns(async_database_url(database_url), at_once=1)
    try:
        here, there = UpdateLedger(db), UpdateLedger(second)
        assert await here.take(9001) is Seen.FIRST
        # Taken, never finished: its process died while handling it.
        cut_short = Seen.HANDLED if db.is_sqlite else Seen.CUT_SHORT
        assert await there.take(9001) is cut_short

        async with turns.hold(CHAT) as turn:
            assert await here.take(9002) is Seen.FIRST
            await here.finish(9002, turn)
        assert await there.take(9002) is Seen.HANDLED

        # A turn that ends in an error (or a cancellation) marks nothing.
        with pytest.raises(RuntimeError):
            async with turns.hold(CHAT) as turn:
                assert await here.take(9003) is Seen.FIRST
                await here.finish(9003, turn)
                raise RuntimeError("the handler's process went away")
        assert await there.take(9003) is cut_short
    finally:
        await turns.dispose()


async def test_each_due_reminder_is_claimed_by_one_process(db: Database, second: Database) -> None:
    now = [datetime.now(UTC).replace(tzinfo=None)]
    here, there = (
        Registrations(
            database, AccountService(database, link_base="http://x"), clock=lambda: now[0]
        )
        for database in (db, second)
    )
    for n in range(12):
        draft = await here.begin(CHAT + n, CHAT + n, "es")
        await here.answer(draft, "Rosa")
    now[0] += timedelta(hours=2)
    mine, theirs = await asyncio.gather(
        here.remind_unfinished(timedelta(hours=1)), there.remind_unfinished(timedelta(hours=1))
    )
    reminded = [draft.telegram_user_id for draft in (*mine, *theirs)]
    assert sorted(reminded) == [CHAT + n for n in range(12)]
