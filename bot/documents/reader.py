"""Reading photos of documents off the event loop: worker processes that each load the OCR once,
a limit on how many photos wait, and a time limit on each read.

Whether the feature is on is decided here: off when the OCR's packages are missing, when the
model fails to load, or when settings turn it off.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import importlib.util
import logging
import pickle
import sys
from dataclasses import dataclass

from bot.documents import worker
from bot.documents.mrz import Mrz, Refusal

logger = logging.getLogger(__name__)

# What a worker process needs to start: the OCR's packages, found without importing them.
OCR_PACKAGES = ("rapidocr", "onnxruntime")


class Busy(enum.Enum):
    """The read did not happen: too many photos waiting, or it took too long."""

    WAITING = "waiting"
    TIMED_OUT = "timed_out"


Reading = Mrz | Refusal | Busy


def ocr_installed() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in OCR_PACKAGES)


WORKER_COMMAND = (sys.executable, "-m", "bot.documents.worker")


@dataclass(frozen=True)
class ReaderSettings:
    workers: int = 1
    timeout_seconds: float = 20.0
    # Photos that may wait for a worker; past that, the family is asked to try again shortly.
    # Few: a waiting photo holds one of the few handlers that run at once (and its chat's
    # turn), so a queue of them would hold back every other family's answers.
    max_waiting: int = 2
    # A worker that has not loaded its model by then never will: the feature is off.
    load_seconds: float = 90.0
    command: tuple[str, ...] = WORKER_COMMAND


class _Worker:
    """One worker process, and the pipes to it."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, command: tuple[str, ...]) -> _Worker:
        # A process of its own, not a fork: a fork would copy the bot's event loop, threads and
        # sockets. Its standard error is dropped: the OCR's libraries print there, and the
        # answers say all the bot needs (Unavailable names a failure).
        process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        return cls(process)

    async def send(self, image: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(worker.frame(image))
        await self.process.stdin.drain()

    async def receive(self) -> object:
        assert self.process.stdout is not None
        header = await self.process.stdout.readexactly(worker.HEADER.size)
        (length,) = worker.HEADER.unpack(header)
        # Our own child's answer: a few small dataclasses of bot.documents.
        return pickle.loads(await self.process.stdout.readexactly(length))

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
        await self.process.wait()

    @property
    def pid(self) -> int:
        return self.process.pid


class DocumentReader:
    """`await start()` loads the workers in the background; `await read(image)` reads one
    photo; `available` says whether the feature is on."""

    def __init__(self, settings: ReaderSettings | None = None) -> None:
        self.settings = settings or ReaderSettings()
        self._installed = ocr_installed()
        self._failed = False
        self._idle: asyncio.Queue[_Worker] | None = None
        self._workers: list[_Worker] = []
        self._waiting = 0
        self._loading: asyncio.Task[None] | None = None
        self._replacing: set[asyncio.Task[None]] = set()

    @property
    def available(self) -> bool:
        """True while the model loads or once it has; False once it could not."""
        return self._installed and not self._failed

    @property
    def worker_pids(self) -> list[int]:
        return [w.pid for w in self._workers]

    async def start(self) -> None:
        if not self.available or self._loading is not None:
            return
        self._idle = asyncio.Queue()
        self._loading = asyncio.create_task(self._load_all(), name="document-reader-load")

    async def ready(self) -> bool:
        """Waits for the model to load; whether it did."""
        if self._loading is None:
            await self.start()
        if self._loading is not None:
            await asyncio.shield(self._loading)
        return self.available

    async def _load_all(self) -> None:
        await asyncio.gather(*(self._add_worker() for _ in range(self.settings.workers)))

    async def _add_worker(self) -> None:
        if self._failed or self._idle is None:
            return
        started = await _Worker.start(self.settings.command)
        self._workers.append(started)
        try:
            async with asyncio.timeout(self.settings.load_seconds):
                answer = await started.receive()
        except asyncio.CancelledError:
            await self._retire(started)
            raise
        except Exception as error:  # hung, dead, or talking nonsense: no OCR from it
            answer = worker.Unavailable(type(error).__name__)
        if isinstance(answer, worker.Ready):
            self._idle.put_nowait(started)
            return
        reason = answer.reason if isinstance(answer, worker.Unavailable) else "unexpected answer"
        logger.warning("reading documents is off: the OCR could not be loaded (%s)", reason)
        self._failed = True
        await self._retire(started)

    async def _retire(self, old: _Worker) -> None:
        if old in self._workers:
            self._workers.remove(old)
        await old.stop()

    async def read(self, image: bytes) -> Reading:
        """One photo, read in a worker: the verified zone, a refusal, or Busy."""
        if not await self.ready() or self._idle is None:
            return Refusal.NOT_FOUND
        if self._waiting >= self.settings.max_waiting:
            return Busy.WAITING
        self._waiting += 1
        try:
            # Bounded too: were every worker gone (and none to be had), a wait would never end.
            async with asyncio.timeout(self.settings.timeout_seconds * (self._waiting + 1)):
                reading = await self._idle.get()
        except TimeoutError:
            return Busy.WAITING
        finally:
            self._waiting -= 1
        try:
            async with asyncio.timeout(self.settings.timeout_seconds):
                await reading.send(image)
                answer = await reading.receive()
        except BaseException as error:
            # Hung, dead, garbled or cancelled mid-read: the worker is in an unknown state, so it
            # is replaced (a cancellation goes on being one).
            if not isinstance(error, Exception):
                await self._retire(reading)
                raise
            # A hung or dead worker is replaced; the family is asked for another try.
            logger.warning("a document read failed (%s); starting a new worker", type(error))
            await self._retire(reading)
            replacing = asyncio.create_task(self._add_worker(), name="document-reader-replace")
            self._replacing.add(replacing)
            replacing.add_done_callback(self._replacing.discard)
            return Busy.TIMED_OUT
        self._idle.put_nowait(reading)
        if isinstance(answer, Mrz | Refusal):
            return answer
        return Refusal.NOT_FOUND

    async def close(self) -> None:
        for task in [self._loading, *self._replacing]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        for old in list(self._workers):
            await self._retire(old)
        self._loading = None
        self._idle = None
