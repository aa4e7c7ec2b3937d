"""Runs `python -m bot` as a separate process, as a person or a supervisor would, and reads
what it prints."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.smtp_server import unused_port


def bot_environment(tmp_path: Path, **values: str) -> dict[str, str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TELEGRAM_", "SMTP_", "DATABASE_", "PUBLIC_", "WEB_"))
    }
    environment.update(
        {
            "DATA_DIR": str(tmp_path / "data"),
            "WEB_PORT": str(unused_port()),
            # An OCR worker process per bot only where a test reads photos.
            "DOCUMENT_READING": "false",
            **values,
        }
    )
    return environment


class BotProcess:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.seen = ""
        self.cursor = 0  # where the last match ended: each read looks only past it

    async def read_until(self, pattern: str, within: float = 15.0) -> re.Match[str]:
        """Reads the bot's standard output until `pattern` (a regex) appears past the cursor."""
        start = self.cursor
        assert self.process.stdout is not None
        try:
            async with asyncio.timeout(within):
                while (found := re.search(pattern, self.seen[start:])) is None:
                    chunk = await self.process.stdout.read(4096)
                    if not chunk:
                        break
                    self.seen += chunk.decode()
        except TimeoutError:
            found = None
        if found is None:
            raise AssertionError(f"no {pattern!r} in the output:\n{self.seen}")
        self.cursor = start + found.end()
        return found

    async def type(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line.encode() + b"\n")
        await self.process.stdin.drain()

    async def stop(self, signum: int = signal.SIGTERM) -> int:
        if self.process.returncode is None:
            self.process.send_signal(signum)
        return await asyncio.wait_for(self.process.wait(), timeout=10)


def _die_with_the_tests() -> None:
    # A test run killed outright (Ctrl-C twice, a CI timeout) skips the fixture's kill below;
    # a bot left running would keep working on the shared PostgreSQL database under the next
    # run. Linux sends SIGKILL to the child when its parent dies.
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


@pytest.fixture
async def start_process(tmp_path: Path) -> AsyncIterator:
    """`await start_process(environment)` → a BotProcess; every one is killed at the end."""
    started: list[BotProcess] = []

    async def start(
        environment: dict[str, str], stdin: Any = asyncio.subprocess.PIPE
    ) -> BotProcess:
        """`stdin`: a pipe the test types into (`BotProcess.type`), or a file, or DEVNULL."""
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            cwd=tmp_path,
            env=environment,
            stdin=stdin,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            preexec_fn=_die_with_the_tests,
        )
        started.append(BotProcess(process))
        return started[-1]

    yield start
    for running in started:
        if running.process.returncode is None:
            running.process.kill()
            await running.process.wait()
