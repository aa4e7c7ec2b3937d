"""The web pages behind the e-mail's links, and a uvicorn server that shares the bot's event loop.

Each page is a template under `templates/`: small, self-contained HTML in the portal's
wording, translated through the gettext catalogs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from functools import cache
from urllib.parse import parse_qs, urlsplit

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.templating import Jinja2Templates

from bot.accounts import ResetOutcome, ResetStatus, VerifyOutcome, VerifyStatus
from bot.i18n import LANGUAGE_NAMES, N_, normalise_locale, translator
from bot.portal import TRAMITES
from bot.registration.results import Invalid
from bot.registration.validation import validate_password
from bot.rendering import environment

log = logging.getLogger("bot.web.pages")

# Tokens are URL-safe base64; anything else cannot be one, so the database is not asked.
_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,200}")

# The pages hold no secrets worth caching, but the token is in the URL: keep it out of caches
# and out of the Referer sent to any other site.
_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ),
}


# The reset form posts to itself, so it needs 'self' where the other pages allow no form. Its
# Referer (and Origin) may go to this site alone: the browser then sends the form's Origin,
# which is checked, and the token in the URL still reaches no other site.
_FORM_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "Referrer-Policy": "same-origin",
}
# The reset form is two passwords and its check: a few KiB is plenty.
_MAX_FORM_BYTES = 8192
_FORM_TYPE = "application/x-www-form-urlencoded"
PASSWORDS_DIFFER = N_(
    "Las dos contraseñas no coinciden. Escriba la misma contraseña nueva en los dos campos."
)


@dataclass(frozen=True)
class ResetForm:
    """What the reset page needs of the bot: where a link stands, the change of password (the
    link's token and the new password), the form's check, and the public address of the site
    (its origin is the only one a form may be posted from)."""

    look: Callable[[str], Awaitable[ResetOutcome]]
    change: Callable[[str, str], Awaitable[ResetOutcome]]
    check: Callable[[str], str]
    check_holds: Callable[[str, str], bool]
    origin: Callable[[], str]


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _posted_from_here(request: Request, site: str) -> bool:
    """False when the browser says the form came from another site. A browser sends Origin
    with every POST ("null" from a page that hides it, which is refused too); a client that
    sends none still needs the form's check."""
    origin = request.headers.get("origin")
    if origin is not None and origin.lower() != _origin_of(site):
        return False
    return request.headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")


async def _read_form(request: Request) -> dict[str, str] | None:
    """The posted fields (the first value of each), or None for anything but a small form."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != _FORM_TYPE:
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > _MAX_FORM_BYTES:
            return None
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        return None
    return {name: values[0] for name, values in fields.items() if values}


def _page_locale(request: Request, locale: str) -> str:
    asked = request.query_params.get("lang", "")
    return asked if asked in LANGUAGE_NAMES else locale


@cache
def _templates(locale: str) -> Jinja2Templates:
    return Jinja2Templates(env=environment("bot.web", locale))


def _page(
    request: Request,
    name: str,
    *,
    locale: str = "es",
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: object,
) -> Response:
    """The page of template `name`, in `locale` (or the one `?lang=` asks for), with the
    headers every page carries, and links to the same page in each language."""
    locale = _page_locale(request, locale)
    return _templates(locale).TemplateResponse(
        request,
        name,
        {"locale": locale, "languages": LANGUAGE_NAMES, **context},
        status_code=status_code,
        headers={**_HEADERS, **(headers or {})},
    )


def _no_store_empty(status_code: int = 200) -> Response:
    return Response(status_code=status_code, headers=_HEADERS)


def build_web_app(
    *,
    verify: Callable[[str], Awaitable[VerifyOutcome]],
    reset: ResetForm | None = None,
    health: Callable[[], Awaitable[dict]] | None = None,
    extra_routes: list[BaseRoute] | None = None,
) -> Starlette:
    """The link pages (`/validate/{token}`, and `/reset/{token}` with `reset`), a home page,
    `/healthz`, and any extra routes."""

    async def validate(request: Request) -> Response:
        token = request.path_params["token"]
        if not _TOKEN_RE.fullmatch(token):
            if request.method == "HEAD":
                return _no_store_empty(404)
            return _page(request, "unknown_link.html", status_code=404)
        if request.method == "HEAD":
            # Mail scanners and link previews probe with HEAD; only a person's GET may verify.
            return _no_store_empty()
        try:
            outcome = await verify(token)
        except Exception:
            log.exception("verifying a link failed (token %s…)", token[:6])
            return unavailable(request)
        locale = normalise_locale(outcome.locale)
        if outcome.status in (VerifyStatus.VERIFIED, VerifyStatus.ALREADY_VERIFIED):
            return _page(
                request,
                "verified.html",
                locale=locale,
                first_name=outcome.first_name,
                newly_verified=outcome.status is VerifyStatus.VERIFIED,
                tramites=TRAMITES,
            )
        if outcome.status is VerifyStatus.EXPIRED:
            return _page(request, "expired_link.html", locale=locale, status_code=410)
        return _page(request, "unknown_link.html", locale=locale, status_code=404)

    def unavailable(request: Request) -> Response:
        return _page(request, "unavailable.html", status_code=503, headers={"Retry-After": "60"})

    def reset_problem(request: Request, outcome: ResetOutcome) -> Response:
        locale = normalise_locale(outcome.locale)
        if outcome.status is ResetStatus.USED:
            return _page(request, "reset_used.html", locale=locale, status_code=410)
        if outcome.status is ResetStatus.EXPIRED:
            return _page(request, "reset_expired.html", locale=locale, status_code=410)
        return _page(request, "reset_unknown.html", locale=locale, status_code=404)

    async def reset_password(request: Request) -> Response:
        """The form for a new password (GET), and its answer (POST, to the same address)."""
        if reset is None:  # pragma: no cover — the route exists only with `reset`
            return _page(request, "not_found.html", status_code=404)
        token = request.path_params["token"]
        if not _TOKEN_RE.fullmatch(token):
            if request.method == "HEAD":
                return _no_store_empty(404)
            return _page(request, "reset_unknown.html", status_code=404)
        if request.method == "HEAD":
            return _no_store_empty()
        form: dict[str, str] = {}
        if request.method == "POST":
            # Before anything else, and changing nothing: a post another site made for the
            # family (it cannot know the check, nor send this site's Origin) stops here.
            posted = await _read_form(request)
            if (
                posted is None
                or not _posted_from_here(request, reset.origin())
                or not reset.check_holds(token, posted.get("check", ""))
            ):
                return _page(request, "reset_forbidden.html", status_code=403)
            form = posted
        try:
            outcome = await reset.look(token)
        except Exception:
            log.exception("looking up a reset link failed (token %s…)", token[:6])
            return unavailable(request)
        if outcome.status is not ResetStatus.READY:
            return reset_problem(request, outcome)
        locale = normalise_locale(outcome.locale)

        def form_page(errors: list[str], status_code: int = 200) -> Response:
            return _page(
                request,
                "reset_form.html",
                locale=locale,
                status_code=status_code,
                headers=_FORM_HEADERS,
                check=reset.check(token),
                errors=errors,
            )

        if request.method == "GET":
            return form_page([])
        _ = translator(_page_locale(request, locale))
        password, again = form.get("password", ""), form.get("again", "")
        checked = validate_password(password)
        if isinstance(checked, Invalid):
            return form_page([_(checked.message, **checked.params)], status_code=422)
        if again != password:
            return form_page([_(PASSWORDS_DIFFER)], status_code=422)
        try:
            outcome = await reset.change(token, password)
        except Exception:
            log.exception("changing a password failed (token %s…)", token[:6])
            return unavailable(request)
        if outcome.status is not ResetStatus.CHANGED:
            return reset_problem(request, outcome)  # another post of this link was first
        return _page(request, "reset_done.html", locale=locale)

    async def home(request: Request) -> Response:
        return _page(request, "home.html")

    async def healthz(request: Request) -> Response:
        if health is None:
            payload: dict = {"ok": True}
        else:
            try:
                payload = await health()
            except Exception:
                log.exception("health check failed")
                payload = {"ok": False}
        return JSONResponse(
            payload,
            status_code=200 if payload.get("ok") is True else 503,
            headers={"Cache-Control": "no-store"},
        )

    async def not_found(request: Request, exc: Exception) -> Response:
        return _page(request, "not_found.html", status_code=404)

    async def server_error(request: Request, exc: Exception) -> Response:
        return _page(request, "server_error.html", status_code=500)

    routes: list[BaseRoute] = [
        Route("/", home, methods=["GET"]),
        Route("/validate/{token}", validate, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        *([Route("/reset/{token}", reset_password, methods=["GET", "POST"])] if reset else []),
        *(extra_routes or []),
    ]
    return Starlette(routes=routes, exception_handlers={404: not_found, 500: server_error})


class _EmbeddedServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.bound = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # The bot process owns SIGINT/SIGTERM (python-telegram-bot stops on them and stops us).
        # uvicorn's version would replace those handlers and re-raise the signal when done.
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        try:
            await super().startup(sockets)
        except SystemExit as exit_:
            # uvicorn exits the process when it cannot bind; embedded, that is an ordinary
            # error. The OSError it caught is the SystemExit's context.
            cause = exit_.__context__
            reason = cause if cause is not None else "startup failed"
            host, port = self.config.host, self.config.port
            raise OSError(f"Cannot listen on {host}:{port}: {reason}") from cause
        self.bound.set()


class WebServer:
    """Runs a Starlette app with uvicorn inside the current event loop, next to the bot."""

    def __init__(self, app: Starlette, host: str, port: int) -> None:
        self.host = host
        self.port = port  # the bound port once started (useful with port 0)
        self._server = _EmbeddedServer(
            uvicorn.Config(
                app,
                host=host,
                port=port,
                log_config=None,
                access_log=False,
                lifespan="off",
                ws="none",
                server_header=False,
                timeout_graceful_shutdown=5,
            )
        )
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Returns once the socket is listening; raises OSError if it cannot be bound."""
        if self._task is not None:
            raise RuntimeError("WebServer already started")
        task = asyncio.create_task(self._server.serve(), name=f"web {self.host}:{self.port}")
        bound = asyncio.create_task(self._server.bound.wait())
        try:
            await asyncio.wait({task, bound}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            task.cancel()
            raise
        finally:
            bound.cancel()
        if task.done():
            task.result()  # raises the bind error
            raise RuntimeError(f"web server on {self.host}:{self.port} stopped while starting")
        self._task = task
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        log.info("Web server listening on %s:%s", self.host, self.port)

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is None:
            return
        self._server.should_exit = True
        await task
