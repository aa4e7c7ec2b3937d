"""A real SMTP server for tests (aiosmtpd on 127.0.0.1) that keeps what it receives.

It can refuse recipients with a chosen code, to play a server that says no.
"""

from __future__ import annotations

import asyncio
import contextlib
import email
import email.policy
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email.message import EmailMessage

from aiosmtpd.controller import Controller


def unused_port(host: str = "127.0.0.1") -> int:
    # aiosmtpd's Controller connects to its own port to check it is up, so port 0 won't do.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


@dataclass
class Envelope:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self._server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        code = self._server.reject_code
        if code is not None:
            return f"{code} {self._server.reject_message}"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self._server.envelopes.append(
            Envelope(envelope.mail_from, list(envelope.rcpt_tos), message)  # type: ignore[arg-type]
        )
        return "250 Message accepted for delivery"


class SmtpServer:
    """`await start()`, then `.port`; `reject_code` (e.g. 550 or 451) may be set at any time.

    `port`: listen there (to play a mail server that comes back where it was); 0 picks a free one.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        reject_code: int | None = None,
        reject_message: str = "Recipient refused (test)",
    ) -> None:
        self.host = host
        self.port = port
        self._fixed_port = port
        self.reject_code = reject_code
        self.reject_message = reject_message
        self.envelopes: list[Envelope] = []
        self._seen = 0
        self._controller: Controller | None = None

    @property
    def messages(self) -> list[EmailMessage]:
        return [envelope.message for envelope in self.envelopes]

    async def start(self) -> None:
        self.port = self._fixed_port or unused_port(self.host)
        self._controller = Controller(
            _Handler(self), hostname=self.host, port=self.port, ready_timeout=5
        )
        # Controller.start blocks until its own thread serves; keep the test's loop free.
        await asyncio.to_thread(self._controller.start)

    async def stop(self) -> None:
        if self._controller is not None:
            controller, self._controller = self._controller, None
            await asyncio.to_thread(controller.stop)

    async def wait_for_message(self, timeout: float = 5.0) -> EmailMessage:  # noqa: ASYNC109
        """The next message not returned before, waiting for it up to `timeout` seconds."""
        async with asyncio.timeout(timeout):
            # The server runs in its own thread and loop: polling beats a cross-loop Event here.
            while len(self.envelopes) <= self._seen:
                await asyncio.sleep(0.01)
        self._seen += 1
        return self.envelopes[self._seen - 1].message


@dataclass
class HangingServer:
    """A mail server that accepts connections and never says a word (not even the greeting)."""

    port: int = 0
    connected: asyncio.Event = field(default_factory=asyncio.Event)


@contextlib.asynccontextmanager
async def hanging_server() -> AsyncIterator[HangingServer]:
    """A HangingServer for the duration of the block; its connections close when it ends."""
    hanging = HangingServer()
    writers: list[asyncio.StreamWriter] = []

    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        hanging.connected.set()
        with contextlib.suppress(OSError):
            while await reader.read(1024):
                pass

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    hanging.port = server.sockets[0].getsockname()[1]
    try:
        yield hanging
    finally:
        for writer in writers:
            writer.close()
        server.close()
        await server.wait_closed()
