"""Runs one end-to-end scenario in this process: a temporary DATA_DIR, quiet logs, and optionally
python-telegram-bot's rate limiter switched off (to see what the bot itself could do)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from telegram.ext import AIORateLimiter

import bot.runtime.application
from bench import e2e


class _LogCounter(logging.Handler):
    """Counts WARNING+ records by level and logger; the bot warns once per e-mail written to
    the outbox folder (no SMTP_HOST), which would bury the report."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.counts: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.counts[f"{record.levelname} {record.name}"] += 1


_COUNTER = _LogCounter()


def quiet_logs() -> None:
    """WARNING+ is counted; ERROR+ is also printed to stderr, as something went wrong."""
    root = logging.getLogger()
    if _COUNTER in root.handlers:
        return
    errors = logging.StreamHandler(sys.stderr)
    errors.setLevel(logging.ERROR)
    errors.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(errors)
    root.addHandler(_COUNTER)
    root.setLevel(logging.WARNING)


@contextlib.contextmanager
def _rate_limiter_off() -> Iterator[None]:
    # bot.runtime.application builds AIORateLimiter(max_retries=3), which holds the bot to
    # Telegram's ~30 requests a second; with both of its limits at 0 it only retries.
    def unlimited(**kwargs: Any) -> AIORateLimiter:
        return AIORateLimiter(overall_max_rate=0, group_max_rate=0, **kwargs)

    original = bot.runtime.application.AIORateLimiter
    bot.runtime.application.AIORateLimiter = unlimited  # type: ignore[assignment,misc]
    try:
        yield
    finally:
        bot.runtime.application.AIORateLimiter = original  # type: ignore[misc]


def end_to_end(config: e2e.Config, *, rate_limiter: bool = True) -> dict[str, Any]:
    quiet_logs()
    before = Counter(_COUNTER.counts)
    with contextlib.ExitStack() as stack:
        data_dir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-"))) / "data"
        data_dir.mkdir()
        if not rate_limiter:
            stack.enter_context(_rate_limiter_off())
        result = asyncio.run(e2e.run(config, data_dir))
    result["rate_limiter"] = rate_limiter
    result["log_records"] = dict(_COUNTER.counts - before)
    return result
