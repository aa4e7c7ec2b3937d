"""The bot's Bot API client (bot/runtime/http.py) against real HTTP servers on 127.0.0.1: what
it sends, and the framework's own errors when the server is slow, busy, gone or behind a proxy.
(Every other test of the bot goes through it too, against the Bot API stand-in.)"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import traceback
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web
from telegram import Bot
from telegram.error import NetworkError, TimedOut

from bot.runtime.http import AiohttpRequest

TOKEN = "123456789:AAF3kQ9xTestTokenNotRealAtAll_0123"
MESSAGE = {
    "message_id": 7,
    "date": 1_700_000_000,
    "chat": {"id": 42, "type": "private", "first_name": "Ana"},
    "text": "Paso 2 de 9",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Server:
    """An aiohttp server that keeps every request it got (its method, path and body)."""

    def __init__(self, runner: web.AppRunner, port: int) -> None:
        self.runner = runner
        self.port = port
        self.seen: list[dict[str, Any]] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[Server]]]:
    started: list[Server] = []

    async def start(handler: Handler) -> Server:
        server: Server

        async def recorded(request: web.Request) -> web.StreamResponse:
            server.seen.append(
                {
                    "method": request.method,
                    "url": str(request.url),
                    "path": request.path,
                    "content_type": request.content_type,
                    "body": await request.read(),
                    "headers": dict(request.headers),
                }
            )
            return await handler(request)

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", recorded)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        server = Server(runner, port)
        started.append(server)
        return server

    yield start
    for server in started:
        await server.runner.cleanup()


def _ok(result: object) -> web.Response:
    return web.json_response({"ok": True, "result": result})


@contextlib.asynccontextmanager
async def _bot(base_url: str, **options: Any) -> AsyncIterator[Bot]:
    request = AiohttpRequest(
        connections=options.get("connections", 4), pool_timeout=options.get("pool", 1.0)
    )
    await request.initialize()
    try:
        yield Bot(TOKEN, base_url=base_url, request=request)
    finally:
        await request.shutdown()


@pytest.fixture
def client() -> Callable[..., Any]:
    return _bot


async def test_a_message_goes_as_a_form_and_its_answer_comes_back(serve, client) -> None:
    server = await serve(lambda request: asyncio.sleep(0, _ok(MESSAGE)))
    async with client(server.base_url) as bot:
        sent = await bot.send_message(42, "Paso 2 de 9", reply_markup=None)
    assert sent.message_id == 7 and sent.text == "Paso 2 de 9"
    (request,) = server.seen
    assert request["method"] == "POST"
    assert request["path"] == f"/bot{TOKEN}/sendMessage"
    assert request["content_type"] == "application/x-www-form-urlencoded"
    assert b"chat_id=42" in request["body"] and b"text=Paso+2+de+9" in request["body"]
    assert request["headers"]["User-Agent"].startswith("python-telegram-bot")


async def test_a_file_goes_as_multipart_with_the_other_fields(serve, client) -> None:
    async def answer(request: web.Request) -> web.Response:
        return _ok({**MESSAGE, "document": {"file_id": "f", "file_unique_id": "u"}})

    server = await serve(answer)
    async with client(server.base_url) as bot:
        await bot.send_document(42, document=b"Nombre: Ana\n", filename="datos.txt")
    (request,) = server.seen
    assert request["content_type"] == "multipart/form-data"
    body: bytes = request["body"]
    assert b'name="chat_id"' in body and b"\r\n42\r\n" in body
    assert b'filename="datos.txt"' in body and b"Nombre: Ana\n" in body


async def test_telegrams_error_answer_is_the_frameworks_error(serve, client) -> None:
    async def refuse(request: web.Request) -> web.Response:
        return web.json_response(
            {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"},
            status=400,
        )

    server = await serve(refuse)
    async with client(server.base_url) as bot:
        with pytest.raises(Exception, match="Chat not found"):
            await bot.send_message(42, "hola")


async def test_a_server_slower_than_the_read_timeout_is_timed_out(serve, client) -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(2)
        return _ok(MESSAGE)

    server = await serve(slow)
    async with client(server.base_url) as bot:
        with pytest.raises(TimedOut):
            await bot.send_message(42, "hola", read_timeout=0.2)


async def test_no_free_connection_in_time_is_timed_out_and_not_sent(serve, client) -> None:
    release = asyncio.Event()

    async def held(request: web.Request) -> web.Response:
        await release.wait()
        return _ok(MESSAGE)

    server = await serve(held)
    async with client(server.base_url, connections=1, pool=0.2) as bot:
        first = asyncio.create_task(bot.send_message(42, "uno"))
        while not server.seen:
            await asyncio.sleep(0.01)
        with pytest.raises(TimedOut, match="not sent") as raised:
            await bot.send_message(42, "dos")
        release.set()
        await first
    assert len(server.seen) == 1
    # aiohttp's own message names the whole URL, and the URL holds the token.
    shown = "".join(traceback.format_exception(raised.value))
    assert TOKEN not in shown and TOKEN.split(":")[1] not in shown
    assert f"127.0.0.1:{server.port}/…/sendMessage" in shown


async def test_a_server_that_is_gone_is_a_network_error(client) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with client(f"http://127.0.0.1:{port}/bot") as bot:
        with pytest.raises(NetworkError, match="aiohttp") as raised:
            await bot.send_message(42, "hola")
    assert TOKEN.split(":")[1] not in "".join(traceback.format_exception(raised.value))


async def test_the_proxy_of_the_environment_is_used_and_no_proxy_obeyed(
    serve, client, monkeypatch: pytest.MonkeyPatch
) -> None:
    proxy = await serve(lambda request: asyncio.sleep(0, _ok(MESSAGE)))
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
    monkeypatch.setenv("NO_PROXY", "")
    async with client("http://api.telegram.invalid/bot") as bot:
        await bot.send_message(42, "hola")
    # A proxy is asked for the whole address.
    assert proxy.seen[0]["url"].startswith("http://api.telegram.invalid/bot")

    direct = await serve(lambda request: asyncio.sleep(0, _ok(MESSAGE)))
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    async with client(direct.base_url) as bot:
        await bot.send_message(42, "hola")
    assert len(proxy.seen) == 1 and len(direct.seen) == 1


async def test_json_of_the_answer_is_read_whole(serve, client) -> None:
    long_text = "ñ" * 4096  # a long message, many reads of the socket
    server = await serve(lambda request: asyncio.sleep(0, _ok({**MESSAGE, "text": long_text})))
    async with client(server.base_url) as bot:
        sent = await bot.send_message(42, long_text)
    assert sent.text == long_text
