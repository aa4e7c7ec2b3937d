"""`python -m bench.botproc`: the process under measurement, alone in its own process so that its
CPU time (utime + stime of every thread, read by the driver from /proc) is its own.

It runs either the bot (`bot.app.start_bot`, its database, outbox worker and web server) or the
bare baseline (`bench.bare`), polling the Bot API stand-in that the driver serves. What only the
process itself can see it tells on stdout, one JSON line per command read on stdin:

- `mark`: restart the event loop's stall record (a ticker; see `Ticker`);
- `read`: the longest stall since `mark`, and the handler errors so far;
- `stop`: stop cleanly and exit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import logging
import sys
import tempfile
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from telegram.ext import AIORateLimiter
from telegram.warnings import PTBUserWarning

import bot.runtime.application
from bench import bare
from bench.machine import steal_seconds
from bot import eventloop
from bot.app import start_bot
from bot.settings import Settings

# How often the ticker wakes. Its lateness is the stall: a handler (or a hash holding the GIL)
# that keeps the loop for 40 ms shows as a 40 ms late tick.
TICK_SECONDS = 0.005


class Ticker:
    """Sleeps TICK_SECONDS again and again, and keeps the longest it overslept, with where that
    time went (`_Clocks`): a stall that no code of the bot's made reads differently from one a
    handler made."""

    def __init__(self, *, explain: bool = False) -> None:
        self.longest = 0.0
        self.ticks = 0
        self.worst: dict[str, float] = {}
        # Reading the counters costs ~30 µs a tick, ~0.3 ms per update at 20 updates a second,
        # which would weigh on the CPU figures: only when asked (`--explain-stalls`).
        self._explain = explain

    def reset(self) -> None:
        self.longest, self.ticks, self.worst = 0.0, 0, {}

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        clocks = _Clocks() if self._explain else None
        read = (0, 0, 0.0)
        while True:
            before = loop.time()
            if clocks is not None:
                read = clocks.read()
            await asyncio.sleep(TICK_SECONDS)
            late = loop.time() - before - TICK_SECONDS
            if late > self.longest:
                self.longest = late
                self.worst = clocks.since(read) if clocks is not None else {}
            self.ticks += 1


class _Clocks:
    """Where the event loop's thread spent a span of time, from Linux's counters: running
    (schedstat's first field), runnable but waiting for a core (its second), and the vCPU time
    the host stole meanwhile, all vCPUs (/proc/stat). A stall that is none of these, the thread
    slept: on a lock, most likely the GIL, which another thread of the process held."""

    def __init__(self) -> None:
        self._own = Path(f"/proc/self/task/{threading.get_native_id()}/schedstat")

    def read(self) -> tuple[int, int, float]:
        try:
            running, waiting = self._own.read_text().split()[:2]
            return int(running), int(waiting), steal_seconds()
        except (OSError, ValueError, IndexError):
            return 0, 0, 0.0

    def since(self, before: tuple[int, int, float]) -> dict[str, float]:
        now = self.read()
        return {
            "running_ms": (now[0] - before[0]) / 1e6,
            "waiting_for_a_core_ms": (now[1] - before[1]) / 1e6,
            "host_stole_ms": (now[2] - before[2]) * 1000,
        }


@contextlib.contextmanager
def rate_limiter_off() -> Iterator[None]:
    # bot.runtime.application builds AIORateLimiter(max_retries=3), which holds the bot to
    # Telegram's ~30 requests a second; with both of its limits at 0 it only retries. The
    # stand-in is not Telegram: what is measured is the bot's own cost, as for the baseline.
    def unlimited(**kwargs: Any) -> AIORateLimiter:
        return AIORateLimiter(overall_max_rate=0, group_max_rate=0, **kwargs)

    original = bot.runtime.application.AIORateLimiter
    bot.runtime.application.AIORateLimiter = unlimited  # type: ignore[assignment,misc]
    try:
        yield
    finally:
        bot.runtime.application.AIORateLimiter = original  # type: ignore[misc]


def _settings(data_dir: Path, database_url: str | None) -> Settings:
    return Settings(
        _env_file=None,
        data_dir=data_dir,
        database_url=database_url or f"sqlite:///{data_dir / 'bot.sqlite3'}",
        web_host="127.0.0.1",
        web_port=0,
        public_url=None,
        webhook_url=None,
        smtp_host=None,  # e-mails become files under DATA_DIR/outbox
        email_check_deliverability=False,
        log_level="ERROR",
    )


async def _serve(args: argparse.Namespace, data_dir: Path) -> None:
    errors: list[BaseException] = []
    if args.kind == "bot":
        with contextlib.ExitStack() as stack:
            if not args.rate_limiter:
                stack.enter_context(rate_limiter_off())
            running = await start_bot(
                _settings(data_dir, args.database_url),
                token=args.token,
                base_url=args.base_url,
                on_error=errors.append,
                poll_timeout=1,
            )
        stop = running.stop
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PTBUserWarning)
            application = bare.build(args.token, args.base_url)
        await application.initialize()
        await application.start()
        if application.updater is None:
            raise RuntimeError("the baseline polls: it needs the Application's updater")
        await application.updater.start_polling(poll_interval=0.0, timeout=1)

        async def stop() -> None:
            if application.updater is not None:
                await application.updater.stop()
            await application.stop()
            await application.shutdown()

    gc.freeze()  # as `python -m bot` does once started
    ticker = Ticker(explain=args.explain_stalls)
    ticking = asyncio.create_task(ticker.run())
    loop = asyncio.get_running_loop()
    commands = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(commands), sys.stdin)

    def answer(**fields: Any) -> None:
        sys.stdout.write(json.dumps(fields) + "\n")
        sys.stdout.flush()

    answer(ready=True)
    try:
        while line := (await commands.readline()).strip():
            if line == b"mark":
                ticker.reset()
                answer(marked=True)
            elif line == b"read":
                answer(
                    longest_stall_ms=ticker.longest * 1000,
                    longest_stall=ticker.worst,
                    ticks=ticker.ticks,
                    handler_errors=len(errors),
                    first_errors=[repr(e)[:300] for e in errors[:3]],
                )
            elif line == b"stop":
                break
    finally:
        ticking.cancel()
        await stop()
    answer(stopped=True)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.botproc")
    parser.add_argument("--kind", choices=("bot", "bare"), required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--rate-limiter", action="store_true")
    parser.add_argument("--explain-stalls", action="store_true")
    args = parser.parse_args()
    # Errors only: the bot keeps the telegram loggers at INFO (bot.logs), which would print
    # every start and stop, and it warns once per e-mail written to the outbox folder.
    errors = logging.StreamHandler(sys.stderr)
    errors.setLevel(logging.ERROR)
    errors.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.ERROR, handlers=[errors])
    with tempfile.TemporaryDirectory(prefix="bench-bot-") as folder:
        data_dir = Path(folder) / "data"
        data_dir.mkdir()
        # Both on the loop `python -m bot` runs on (uvloop): the difference measured is the
        # bot's own work, not the event loop's.
        eventloop.run(_serve(args, data_dir))


if __name__ == "__main__":
    main()
