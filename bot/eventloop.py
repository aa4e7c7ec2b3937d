"""The event loop the bot runs on: uvloop where it is installed (every platform but Windows),
else asyncio's own.

Measured in `bench/` (the sustained phase, 2 cores): the event loop's CPU per registration
fell from ~56 to ~50 ms, its I/O being libuv's C instead of the selector loop's Python, under
the same framework code. Nothing of the bot depends on which loop runs it: the tests run on
this one too (tests/conftest.py), so what they check is what production runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def new_event_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:  # Windows, where uvloop is not built: asyncio's loop does the same
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def run(main: Coroutine[Any, Any, T]) -> T:
    """As `asyncio.run`, on `new_event_loop`'s loop."""
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        return runner.run(main)
