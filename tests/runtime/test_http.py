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


async def test_an_error_carries_no_hidden_exception_with_the_token(client) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with client(f"http://127.0.0.1:{port}/bot") as bot:
        with pytest.raises(NetworkError) as raised:
            await bot.send_message(42, "hola")
    # Not even in the exception chain that a traceback hides (`from None` would keep it).
    error: BaseException | None = raised.value
    while error is not None:
        assert TOKEN.split(":")[1] not in repr(error)
        error = error.__cause__ or error.__context__


async def test_a_proxys_password_is_not_in_its_error(
    client, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[bytes] = []

    async def refuse(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # An HTTPS request through a proxy begins with CONNECT; this proxy wants a password.
        asked.append(await reader.readuntil(b"\r\n\r\n"))
        writer.write(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    proxy = await asyncio.start_server(refuse, "127.0.0.1", 0)
    port = proxy.sockets[0].getsockname()[1]
    monkeypatch.setenv("HTTPS_PROXY", f"http://familia:S3cretoProxy@127.0.0.1:{port}")
    monkeypatch.setenv("NO_PROXY", "")
    try:
        async with client("https://api.telegram.invalid/bot") as bot:
            with pytest.raises(NetworkError) as raised:
                await bot.send_message(42, "hola")
    finally:
        proxy.close()
        await proxy.wait_closed()
    assert asked and asked[0].startswith(b"CONNECT api.telegram.invalid:443")
    shown = "".join(traceback.format_exception(raised.value))
    assert "S3cretoProxy" not in shown and "407" in shown


async def test_a_redirect_is_not_followed(serve, client) -> None:
    elsewhere = await serve(lambda request: asyncio.sleep(0, _ok(MESSAGE)))

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect(f"http://127.0.0.1:{elsewhere.port}{request.path}")

    server = await serve(redirect)
    async with client(server.base_url) as bot:
        with pytest.raises(NetworkError):
            await bot.send_message(42, "mi clave es Clave-Secreta-2024")
    assert len(server.seen) == 1
    assert elsewhere.seen == []  # the form was not sent on to another server


async def test_a_slow_download_is_not_cut_while_its_data_keeps_coming(serve, client) -> None:
    chunks = [b"x" * 1000] * 6

    async def trickle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        for chunk in chunks:
            await response.write(chunk)
            await asyncio.sleep(0.3)  # within the read timeout, each time
        await response.write_eof()
        return response

    server = await serve(trickle)
    async with client(server.base_url) as bot:
        # 1.8 s in all, more than the four timeouts together (4 × 0.35 s).
        data = await bot.request.retrieve(
            f"http://127.0.0.1:{server.port}/file/bot{TOKEN}/photos/1.jpg",
            read_timeout=0.35,
            write_timeout=0.35,
            connect_timeout=0.35,
            pool_timeout=0.35,
        )
    assert data == b"".join(chunks)


async def test_a_request_before_initialize_works_as_with_the_framework(serve) -> None:
    server = await serve(lambda request: asyncio.sleep(0, _ok(MESSAGE)))
    request = AiohttpRequest(connections=1, pool_timeout=1.0)
    try:
        sent = await Bot(TOKEN, base_url=server.base_url, request=request).send_message(42, "x")
    finally:
        await request.shutdown()
    assert sent.message_id == 7
