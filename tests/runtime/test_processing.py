"""PerChatUpdateProcessor: one chat's updates in order and one at a time, different chats side by
side, and at most `running` handlers at once."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from bot.runtime.processing import PerChatUpdateProcessor


@dataclass(frozen=True)
class Note:
    chat: int | None
    name: str


def key_of(update: object) -> int | None:
    assert isinstance(update, Note)
    return update.chat


class Recorder:
    def __init__(self) -> None:
        self.events: list[str] = []
        self.running = 0
        self.most_running = 0

    async def handle(self, note: Note, seconds: float) -> None:
        self.running += 1
        self.most_running = max(self.most_running, self.running)
        self.events.append(f"start {note.name}")
        await asyncio.sleep(seconds)
        self.events.append(f"end {note.name}")
        self.running -= 1


async def process_all(
    processor: PerChatUpdateProcessor, recorder: Recorder, notes: list[tuple[Note, float]]
) -> None:
    # As the Application does: one task per update, created in the order the updates came.
    tasks = [
        asyncio.create_task(processor.process_update(note, recorder.handle(note, seconds)))
        for note, seconds in notes
    ]
    await asyncio.gather(*tasks)


async def test_one_chats_updates_run_one_at_a_time_in_order() -> None:
    processor = PerChatUpdateProcessor(key_of)
    recorder = Recorder()
    # The first is the slowest: with plain concurrency the others would overtake it.
    notes = [(Note(1, "a1"), 0.05), (Note(1, "a2"), 0.0), (Note(1, "a3"), 0.01)]
    await process_all(processor, recorder, notes)
    assert recorder.events == ["start a1", "end a1", "start a2", "end a2", "start a3", "end a3"]
    assert processor.waiting_chats == 0  # nothing kept for a chat that went quiet


async def test_a_slow_chat_does_not_hold_back_another() -> None:
    processor = PerChatUpdateProcessor(key_of)
    recorder = Recorder()
    notes = [(Note(1, "slow"), 0.3), (Note(2, "quick"), 0.0)]
    await process_all(processor, recorder, notes)
    assert recorder.events.index("end quick") < recorder.events.index("end slow")
    assert recorder.most_running == 2


async def test_updates_without_a_chat_are_serialised_together() -> None:
    processor = PerChatUpdateProcessor(key_of)
    recorder = Recorder()
    notes = [(Note(None, "n1"), 0.05), (Note(None, "n2"), 0.0)]
    await process_all(processor, recorder, notes)
    assert recorder.events == ["start n1", "end n1", "start n2", "end n2"]


async def test_at_most_running_handlers_at_once() -> None:
    processor = PerChatUpdateProcessor(key_of, running=3)
    recorder = Recorder()
    notes = [(Note(chat, f"c{chat}"), 0.02) for chat in range(10)]
    await process_all(processor, recorder, notes)
    assert recorder.most_running == 3
    assert len(recorder.events) == 20


async def test_a_failing_update_does_not_block_its_chat() -> None:
    processor = PerChatUpdateProcessor(key_of)
    recorder = Recorder()

    async def fail() -> None:
        raise RuntimeError("handler failed")

    first = asyncio.create_task(processor.process_update(Note(1, "bad"), fail()))
    second = asyncio.create_task(
        processor.process_update(Note(1, "next"), recorder.handle(Note(1, "next"), 0))
    )
    results = await asyncio.gather(first, second, return_exceptions=True)
    assert isinstance(results[0], RuntimeError)
    assert recorder.events == ["start next", "end next"]
    assert processor.waiting_chats == 0


async def test_a_stop_that_cannot_wait_cancels_what_runs_and_what_waits() -> None:
    processor = PerChatUpdateProcessor(key_of)
    stuck = asyncio.Event()
    ran: list[str] = []

    async def hang() -> None:
        stuck.set()
        await asyncio.sleep(3600)

    async def never() -> None:
        ran.append("never")

    behind = never()
    tasks = [
        asyncio.create_task(processor.process_update(Note(1, "stuck"), hang())),
        asyncio.create_task(processor.process_update(Note(1, "behind"), behind)),
    ]
    await stuck.wait()
    assert processor.cancel_in_flight() == 2
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert all(isinstance(result, asyncio.CancelledError) for result in results)
    assert ran == []  # the one waiting its turn never started, and is closed, not left pending
    assert inspect.getcoroutinestate(behind) == inspect.CORO_CLOSED
    assert processor.waiting_chats == 0
    assert processor.cancel_in_flight() == 0


async def test_each_update_runs_inside_around_and_its_waiter_hears_how_it_ended() -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def around(update: object) -> AsyncIterator[None]:
        assert isinstance(update, Note)
        if update.name == "no turn":
            raise RuntimeError("the database is away")
        events.append(f"turn {update.name}")
        yield
        events.append(f"done {update.name}")

    processor = PerChatUpdateProcessor(key_of, around=around)
    recorder = Recorder()
    handled, refused = Note(1, "a"), Note(1, "no turn")
    through, not_through = processor.when_through(handled), processor.when_through(refused)
    await processor.do_process_update(handled, recorder.handle(handled, 0))
    skipped = recorder.handle(refused, 0)
    with pytest.raises(RuntimeError):
        await processor.do_process_update(refused, skipped)
    assert inspect.getcoroutinestate(skipped) == inspect.CORO_CLOSED
    assert events == ["turn a", "done a"] and recorder.events == ["start a", "end a"]
    assert through.result() is True and not_through.result() is False
