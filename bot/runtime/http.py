"""How the bot's requests reach the Bot API: python-telegram-bot's `BaseRequest` on aiohttp.

python-telegram-bot's own `HTTPXRequest` (httpx, httpcore, anyio) cost the event loop ~0.7 ms
of CPU per Bot API request, measured through the framework (`Bot.send_message` against a local
server); through aiohttp's client the same call costs ~0.25 ms. A registration makes ~22 requests
and ~15 long polls, all on the loop that also has to take every family's next answer.
`BaseRequest` is the framework's documented place for another HTTP library; the framework's
maintainers keep one on aiohttp too (ptbcontrib's `aiohttp_request`, not on PyPI), which this
follows in how it maps errors.

The timeouts keep python-telegram-bot's meaning as closely as aiohttp allows: `pool_timeout`
to get a connection (opened, if need be, within `connect_timeout`), `read_timeout` between two
reads of the answer, and the request as a whole within the sum of all four with `write_timeout`
(aiohttp has no timeout of its own for writing; an upload that stalls is cut by the total).
"""

from __future__ import annotations

import re
import ssl
import urllib.request
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import certifi
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TelegramError, TimedOut
from telegram.request import BaseRequest, RequestData

# A bot token in a URL's path, as Telegram lays it out (/bot<id>:<secret>/<method>).
_TOKEN = re.compile(r"bot\d+:[\w-]+")
# The user and password of an address (http://user:password@proxy:3128).
_USERINFO = re.compile(r"(\w+://)[^/@\s'\"]+@")

# python-telegram-bot's defaults for HTTPXRequest, kept so that its documentation still holds.
READ_TIMEOUT = 5.0
WRITE_TIMEOUT = 5.0
MEDIA_WRITE_TIMEOUT = 20.0
CONNECT_TIMEOUT = 5.0


class AiohttpRequest(BaseRequest):
    """One aiohttp session with at most `connections` connections open, made in `initialize`
    (aiohttp binds a session to the running event loop)."""

    __slots__ = ("_connections", "_pool_timeout", "_proxies", "_session")

    def __init__(self, *, connections: int, pool_timeout: float) -> None:
        self._connections = connections
        self._pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[tuple[str, str], str | None] = {}

    @property
    def read_timeout(self) -> float | None:
        # getUpdates adds its long-poll timeout to this one.
        return READ_TIMEOUT

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                # The certificates httpx trusts (certifi's), not only the system's, so that an
                # image without ca-certificates still reaches Telegram.
                connector=aiohttp.TCPConnector(
                    limit=self._connections,
                    ssl=ssl.create_default_context(cafile=certifi.where()),
                ),
                headers={"User-Agent": self.USER_AGENT},
                # Not trust_env: aiohttp would then read the environment and ~/.netrc in a
                # thread at every request. The proxy is looked up once per host (_proxy_for).
                trust_env=False,
                # Telegram's errors come as JSON with an error status: the framework reads them.
                raise_for_status=False,
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None:
            # As HTTPXRequest, usable before `initialize` (its client is made in __init__).
            await self.initialize()
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data is not None else None
        read = _given(read_timeout, READ_TIMEOUT)
        write = _given(write_timeout, MEDIA_WRITE_TIMEOUT if files else WRITE_TIMEOUT)
        connect = _given(connect_timeout, CONNECT_TIMEOUT)
        pool = _given(pool_timeout, self._pool_timeout)
        parts = (read, write, connect, pool)
        timeout = aiohttp.ClientTimeout(
            # Only an upload has a total (aiohttp has no timeout for writing: a stalled one is
            # cut by it). Everything else, a photo's download included, may take as long as
            # its data keeps coming, as with httpx.
            total=sum(p for p in parts if p is not None) if files and None not in parts else None,
            # aiohttp's `connect` covers both the wait for a free connection and opening one;
            # opening one is bounded on its own by sock_connect.
            connect=pool,
            sock_connect=connect,
            sock_read=read,
        )
        failure: TelegramError
        try:
            async with session.request(
                method,
                url,
                data=_body(request_data),
                timeout=timeout,
                proxy=self._proxy_for(url),
                # As httpx: a redirect is not followed (it would resend the form, elsewhere).
                allow_redirects=False,
            ) as response:
                return response.status, await response.read()
        except TimeoutError as error:
            if isinstance(error, aiohttp.ConnectionTimeoutError):
                # Waiting for a free connection, or opening one: nothing was sent.
                failure = TimedOut(
                    f"No connection to the Bot API in time: the request was not sent "
                    f"({_without_secrets(error, url)})"
                )
            else:
                failure = TimedOut(f"Timed out ({_without_secrets(error, url)})")
        except aiohttp.ClientError as error:
            failure = NetworkError(
                f"aiohttp.{type(error).__name__}: {_without_secrets(error, url)}"
            )
        # Raised here, outside the except clauses, so that it carries no __context__: aiohttp's
        # own message may hold the whole URL, and the URL the bot's token (or a proxy's
        # password). What the error was is kept in the message, without them.
        raise failure

    def _proxy_for(self, url: str) -> str | None:
        """HTTP(S)_PROXY and NO_PROXY, as httpx obeys them, read once per scheme and host."""
        parts = urlsplit(url)
        origin = (parts.scheme, parts.netloc)
        if origin not in self._proxies:
            proxies = urllib.request.getproxies_environment()
            bypass = urllib.request.proxy_bypass(parts.hostname or "")
            chosen = proxies.get(parts.scheme) or proxies.get("all")
            self._proxies[origin] = None if bypass else chosen
        return self._proxies[origin]


def _without_secrets(error: BaseException, url: str) -> str:
    """The error's own words, with the request's address cut down to its server and method,
    and no password of any address (a proxy's) left in them."""
    text = str(error) or type(error).__name__
    parts = urlsplit(url)
    shown = f"{parts.scheme}://{parts.netloc}/…/{parts.path.rsplit('/', 1)[-1]}"
    for secret in (url, parts.path):
        if secret:
            text = text.replace(secret, shown)
    # However else the address was written out (quoted, normalised), no token survives.
    return _USERINFO.sub(r"\1…@", _TOKEN.sub("bot…", text))


def _given(value: ODVInput[float], default: float | None) -> float | None:
    return default if isinstance(value, DefaultValue) else value


def _body(request_data: RequestData | None) -> Any:
    """A form, as python-telegram-bot sends it: URL-encoded, or multipart when it has files."""
    if request_data is None:
        return None
    fields = request_data.json_parameters
    files = request_data.multipart_data
    if not files:
        return fields or None
    form = aiohttp.FormData(fields)
    for name, (filename, content, mime_type) in files.items():
        form.add_field(name, content, filename=filename, content_type=mime_type)
    return form
