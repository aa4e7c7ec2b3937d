"""The web pages behind the e-mail's links, and a uvicorn server that shares the bot's event loop.

Pages are small, self-contained Spanish HTML (through gettext), in the portal's wording.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import socket
from collections.abc import Awaitable, Callable, Generator
from html import escape

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot.accounts import VerifyOutcome, VerifyStatus
from bot.i18n import Translate, normalise_locale, translator
from bot.portal import TRAMITES

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

_CSS = """
*{box-sizing:border-box}
body{margin:0;background:#eef1f5;color:#1f2937;line-height:1.5;
font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif}
header{background:#0f3f7f;color:#fff;padding:14px 20px}
header .service{font-weight:700;font-size:1.1rem}
header .program{font-size:.9rem}
main{max-width:640px;margin:0 auto;padding:16px}
.card{background:#fff;border-radius:8px;padding:20px;margin:0 0 16px;
box-shadow:0 1px 2px rgba(0,0,0,.08)}
.ok{border-left:4px solid #1e8e3e}
.bad{border-left:4px solid #c5221f}
h1{font-size:1.25rem;margin:0 0 8px}
h2{font-size:1.05rem;margin:16px 0 8px}
p{margin:0 0 8px}
.status{display:inline-block;background:#e6f4ea;color:#13653a;border-radius:999px;
padding:2px 12px;font-weight:600;font-size:.9rem;margin:0 0 12px}
.start{display:inline-block;background:#0b5cad;color:#fff;border-radius:4px;
padding:8px 16px;font-weight:700;margin:0 0 12px}
.tiles{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:8px}
.tile{border:1px solid #d1d5db;border-radius:6px;padding:10px;font-weight:600}
ul{list-style:none;padding:0;margin:0}
li{padding:10px 0;border-top:1px solid #e5e7eb}
footer{text-align:center;font-size:.8rem;color:#6b7280;padding:8px 16px 24px}
"""


def _page(
    _: Translate,
    *,
    title: str,
    body: str,
    status_code: int = 200,
    locale: str = "es",
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Wraps already-escaped `body` in the common layout; `title` is escaped here."""
    # gettext calls stay outside f-strings: Babel's extractor does not look inside them.
    service = escape(_("Servicio Nacional de Migraciones"))
    program = escape(_("Programa Niñez Migrante"))
    footer = escape(_("Programa Niñez Migrante — asistente de Telegram"))
    html = f"""<!DOCTYPE html>
<html lang="{escape(locale)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{escape(title)} — {service}</title>
<style>{_CSS}</style>
</head>
<body>
<header>
<div class="service">{service}</div>
<div class="program">{program}</div>
</header>
<main>
{body}
</main>
<footer>{footer}</footer>
</body>
</html>
"""
    return HTMLResponse(html, status_code=status_code, headers={**_HEADERS, **(headers or {})})


def _paragraphs(*texts: str) -> str:
    return "\n".join(f"<p>{escape(text)}</p>" for text in texts)


def _portal_home(_: Translate) -> str:
    procedures = "\n".join(f"<li>{escape(_(name))}</li>" for name in TRAMITES)
    start = escape(_("Iniciar trámite"))
    inbox = escape(_("Bandeja de Entrada ({n})", n=0))
    unassigned = escape(_("Sin asignar"))
    history = escape(_("Historial de Trámites ({n})", n=0))
    listing = escape(_("Listado de trámites disponibles"))
    return f"""<section class="card">
<div class="start">{start}</div>
<div class="tiles">
<div class="tile">{inbox}</div>
<div class="tile">{unassigned}</div>
<div class="tile">{history}</div>
</div>
<h2>{listing}</h2>
<ul>
{procedures}
</ul>
</section>"""


def _verified_page(outcome: VerifyOutcome) -> HTMLResponse:
    locale = normalise_locale(outcome.locale)
    _ = translator(locale)
    greeting = ""
    if outcome.first_name:
        greeting = _paragraphs(_("Hola, {first_name}.", first_name=outcome.first_name))
    status = escape(_("Estado de cuenta: Verificado"))
    if outcome.status is VerifyStatus.VERIFIED:
        headline = _("Su cuenta ha sido correctamente verificada.")
        follow_up = _("Ya puede volver al chat de Telegram: el asistente le avisó allí.")
    else:
        headline = _("Su cuenta ya estaba verificada.")
        follow_up = _("Puede volver al chat de Telegram para seguir con el asistente.")
    body = f"""<section class="card ok">
{greeting}
<div class="status">{status}</div>
<h1>{escape(headline)}</h1>
{_paragraphs(follow_up)}
</section>
{_portal_home(_)}"""
    return _page(_, title=_("Cuenta Validada"), body=body, locale=locale)


def _problem_page(
    _: Translate,
    headline: str,
    *details: str,
    status_code: int,
    locale: str = "es",
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    body = f"""<section class="card bad">
<h1>{escape(headline)}</h1>
{_paragraphs(*details)}
</section>"""
    return _page(
        _, title=headline, body=body, status_code=status_code, locale=locale, headers=headers
    )


def _unknown_link_page(_: Translate, locale: str = "es") -> HTMLResponse:
    return _problem_page(
        _,
        _("Este enlace no es válido."),
        _(
            "Revise que copió el enlace completo, desde el último correo o el último "
            "mensaje del chat."
        ),
        _(
            "Si sigue sin funcionar, escriba /reenviar al asistente en Telegram y recibirá "
            "un enlace nuevo."
        ),
        status_code=404,
        locale=locale,
    )


def _no_store_empty(status_code: int = 200) -> Response:
    return Response(status_code=status_code, headers=_HEADERS)


def build_web_app(
    *,
    verify: Callable[[str], Awaitable[VerifyOutcome]],
    health: Callable[[], Awaitable[dict]] | None = None,
    extra_routes: list[BaseRoute] | None = None,
) -> Starlette:
    """The link pages (`/validate/{token}`), a home page, `/healthz`, and any extra routes."""

    async def validate(request: Request) -> Response:
        token = request.path_params["token"]
        if not _TOKEN_RE.fullmatch(token):
            if request.method == "HEAD":
                return _no_store_empty(404)
            return _unknown_link_page(translator("es"))
        if request.method == "HEAD":
            # Mail scanners and link previews probe with HEAD; only a person's GET may verify.
            return _no_store_empty()
        try:
            outcome = await verify(token)
        except Exception:
            log.exception("verifying a link failed (token %s…)", token[:6])
            _ = translator("es")
            return _problem_page(
                _,
                _(
                    "El servicio no está disponible en este momento. "
                    "Intente de nuevo en unos minutos."
                ),
                status_code=503,
                headers={"Retry-After": "60"},
            )
        locale = normalise_locale(outcome.locale)
        _ = translator(locale)
        if outcome.status in (VerifyStatus.VERIFIED, VerifyStatus.ALREADY_VERIFIED):
            return _verified_page(outcome)
        if outcome.status is VerifyStatus.EXPIRED:
            return _problem_page(
                _,
                _("Este enlace ya expiró."),
                _("Escriba /reenviar al asistente en Telegram para recibir un enlace nuevo."),
                status_code=410,
                locale=locale,
            )
        return _unknown_link_page(_, locale)

    async def home(request: Request) -> Response:
        _ = translator("es")
        intro = _(
            "Aquí se abren los enlaces de validación de correo que envía el asistente "
            "de Telegram del Programa Niñez Migrante."
        )
        title = _("Programa Niñez Migrante — asistente de Telegram")
        body = f"""<section class="card">
<h1>{escape(title)}</h1>
{_paragraphs(intro)}
</section>"""
        return _page(_, title=_("Programa Niñez Migrante"), body=body)

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
        _ = translator("es")
        return _problem_page(
            _,
            _("Esta página no existe."),
            _("Revise la dirección, o vuelva al chat de Telegram con el asistente."),
            status_code=404,
        )

    async def server_error(request: Request, exc: Exception) -> Response:
        _ = translator("es")
        return _problem_page(_, _("Ocurrió un error; intente de nuevo."), status_code=500)

    routes: list[BaseRoute] = [
        Route("/", home, methods=["GET"]),
        Route("/validate/{token}", validate, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
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
