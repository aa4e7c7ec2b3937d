"""One bot in this event loop: the web server of the links (and of the webhook), the
Application, and the outbox worker. `start()` brings them up in one straight line, `stop()`
takes them down; what the bot is made of comes from the composition root as a `Wiring`."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from telegram import Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application

from bot.accounts import ResetOutcome, ResetStatus, VerifyOutcome, VerifyStatus
from bot.runtime.application import SERVICES_KEY, new_application
from bot.runtime.commands import Menu, publish_commands
from bot.runtime.errors import ERROR_HOOK, ErrorHook, on_error
from bot.runtime.processing import PerChatUpdateProcessor
from bot.runtime.turns import UpdateTurns
from bot.services import Services
from bot.settings import Settings
from bot.web.pages import ResetForm, WebServer, build_web_app

logger = logging.getLogger(__name__)

# SIGTERM must end the process within 10 s: the handlers in flight get this long, the outbox
# worker (stopped at the same time) a little less, and the rest takes well under a second.
UPDATES_STOP_GRACE = 6.0
OUTBOX_STOP_GRACE = 5.0

# How long a webhook request waits for its update to be handled before it is answered anyway.
WEBHOOK_PATIENCE = 20.0

# The bot's own news, put on the update queue for its handlers: what the services report.
UpdateQueue = asyncio.Queue[object]


class TokenRefused(Exception):
    """Telegram refused TELEGRAM_BOT_TOKEN."""


class TelegramUnreachable(Exception):
    """Telegram (or TELEGRAM_BASE_URL) did not answer at start-up."""


@dataclass(frozen=True)
class Wiring:
    """What the composition root gives the runtime: how to build the services (with the link
    base and the queue their news goes to), how to register the handlers, the news a verified
    link and a new password make, and the command menus."""

    services: Callable[[str, UpdateQueue], Services]
    handlers: Callable[[Application, Services], None]
    verified: Callable[[VerifyOutcome], object]
    password_changed: Callable[[ResetOutcome], object]
    family_commands: Menu
    volunteer_commands: Menu


def webhook_secret(settings: Settings, token: str) -> str:
    """WEBHOOK_SECRET, or one derived from the bot token: stable across restarts and workers."""
    if settings.webhook_secret:
        return settings.webhook_secret
    return hmac.new(token.encode(), b"ninez-migrante-webhook", hashlib.sha256).hexdigest()


class RunningBot:
    def __init__(
        self,
        settings: Settings,
        wiring: Wiring,
        *,
        token: str,
        base_url: str | None,
        on_error: ErrorHook | None = None,
        poll_timeout: int = 10,
    ) -> None:
        self.settings = settings
        self.wiring = wiring
        self.token = token
        self._told_file_gone = False  # see `health`
        self.base_url = base_url
        self.on_error = on_error
        self.poll_timeout = poll_timeout
        self.webhook = bool(settings.webhook_url)
        self._secret = webhook_secret(settings, token)
        self.services: Services | None = None
        self.application: Application | None = None
        self.update_queue: UpdateQueue = asyncio.Queue()
        self._accepting_updates = False
        routes: list[BaseRoute] = []
        if settings.webhook_url:
            path = urlsplit(settings.webhook_url).path or "/"
            routes.append(Route(path, self._receive_update, methods=["POST"]))
        reset = ResetForm(
            look=self._look_reset,
            change=self._change_password,
            check=self._form_check,
            check_holds=self._form_check_holds,
            origin=lambda: self.link_base,
        )
        self.web = WebServer(
            build_web_app(
                verify=self._verify, reset=reset, health=self.health, extra_routes=routes
            ),
            settings.web_host,
            settings.web_port,
        )

    @property
    def link_base(self) -> str:
        return self.settings.public_url or f"http://{self.settings.web_host}:{self.web.port}"

    async def start(self) -> None:
        try:
            # The web server comes first: with WEB_PORT=0 its port makes the links.
            await self.web.start()
            self.services = self.wiring.services(self.link_base, self.update_queue)
            await self.services.open()
            self.application = self._application(self.services)
            await self.application.initialize()
            await self.application.start()
            await publish_commands(
                self.application,
                self.wiring.family_commands,
                self.wiring.volunteer_commands,
                self.settings.volunteers_chat_id,
            )
            await self.services.outbox.start()
            await self._take_updates(self.application)
        except InvalidToken as error:
            await self.stop()
            raise TokenRefused from error
        except TelegramError as error:
            await self.stop()
            raise TelegramUnreachable(str(error)) from error
        except BaseException:
            await self.stop()
            raise

    def _application(self, services: Services) -> Application:
        turns = UpdateTurns(services)
        application = new_application(
            token=self.token,
            base_url=self.base_url,
            polling=not self.webhook,
            update_queue=self.update_queue,
            around=turns,
        )
        application.bot_data[SERVICES_KEY] = services
        application.bot_data[ERROR_HOOK] = self.on_error
        self.wiring.handlers(application, services)
        application.add_error_handler(on_error)
        turns.watch(application)
        return application

    async def _take_updates(self, application: Application) -> None:
        if self.webhook:
            await application.bot.set_webhook(
                url=self.settings.webhook_url or "",
                secret_token=self._secret,
                allowed_updates=Update.ALL_TYPES,
            )
            self._accepting_updates = True
            return
        if application.updater is None:
            raise RuntimeError("long polling needs the Application's updater")
        await application.updater.start_polling(
            poll_interval=0.0,
            timeout=self.poll_timeout,
            allowed_updates=Update.ALL_TYPES,
            drop_pending_updates=False,
        )

    async def stop(self) -> None:
        """Stops taking updates, lets the handlers in flight finish (for a while), stops the
        outbox worker meanwhile, then closes the rest: well within 10 seconds in all."""
        self._accepting_updates = False
        application, self.application = self.application, None
        await asyncio.gather(
            self._stop_application(application),
            self.services.outbox.stop(timeout=OUTBOX_STOP_GRACE)
            if self.services is not None
            else asyncio.sleep(0),
        )
        await self.web.stop()
        if self.services is not None:
            await self.services.close()

    async def _stop_application(self, application: Application | None) -> None:
        if application is None:
            return
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            stopping = asyncio.ensure_future(application.stop())
            done, _ = await asyncio.wait({stopping}, timeout=UPDATES_STOP_GRACE)
            processor = application.update_processor
            if not done and isinstance(processor, PerChatUpdateProcessor):
                # A reply stuck behind a rate limit or a dead connection: every answer the
                # family was told of is already saved, so stopping the handler loses none.
                cancelled = processor.cancel_in_flight()
                logger.warning(
                    "stopping: %d updates still in hand after %g s, cut short",
                    cancelled,
                    UPDATES_STOP_GRACE,
                )
                done, _ = await asyncio.wait({stopping}, timeout=1.0)
            if not done:
                stopping.cancel()  # a job that would not end; nothing else is left to wait for
                with contextlib.suppress(asyncio.CancelledError):
                    await stopping
        await application.shutdown()

    async def _verify(self, token_text: str) -> VerifyOutcome:
        if self.services is None or self.application is None:
            raise RuntimeError("the bot is starting or stopping")
        outcome = await self.services.accounts.verify(token_text)
        if outcome.status is VerifyStatus.VERIFIED:
            # The page answers at once; the chat message follows through the update queue.
            await self.update_queue.put(self.wiring.verified(outcome))
        return outcome

    def _running_services(self) -> Services:
        if self.services is None or self.application is None:
            raise RuntimeError("the bot is starting or stopping")
        return self.services

    async def _look_reset(self, token_text: str) -> ResetOutcome:
        return await self._running_services().resets.look(token_text)

    async def _change_password(self, token_text: str, password: str) -> ResetOutcome:
        services = self._running_services()
        # Argon2id in a worker thread (0.1 s, 64 MiB): the event loop goes on meanwhile.
        password_hash = await services.accounts.passwords.hash(password)
        outcome = await services.resets.complete(token_text, password_hash)
        if outcome.status is ResetStatus.CHANGED:
            # The page answers at once; the chat message follows through the update queue.
            await self.update_queue.put(self.wiring.password_changed(outcome))
        return outcome

    def _form_check(self, token_text: str) -> str:
        return self._running_services().resets.form_check(token_text)

    def _form_check_holds(self, token_text: str, given: str) -> bool:
        return self._running_services().resets.form_check_holds(token_text, given)

    async def health(self) -> dict[str, Any]:
        if self.services is None:
            return {"ok": False, "database": "starting"}
        database = self.services.database
        try:
            if await database.file_replaced():
                if not self._told_file_gone:  # once: a supervisor asks every few seconds
                    self._told_file_gone = True
                    logger.error(
                        "health check: the database file %s is gone or was replaced since "
                        "start-up: what the bot writes now is lost when it stops; put it back, "
                        "or restart",
                        database.sqlite_file,
                    )
                return {"ok": False, "database": "file gone"}
            async with database.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
            pending = await self.services.outbox.pending_count()
        except Exception as error:
            logger.warning("health check: database unreachable: %s", error)
            return {"ok": False, "database": "unreachable"}
        return {"ok": True, "database": "ok", "outbox_pending": pending}

    async def _receive_update(self, request: Request) -> Response:
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(given.encode(), self._secret.encode()):
            return Response(status_code=403)
        if not self._accepting_updates or self.application is None:
            # Telegram delivers it again later, to this process once restarted or to another.
            return Response(status_code=503)
        try:
            update = Update.de_json(await request.json(), self.application.bot)
        except ValueError:
            return Response(status_code=400)
        processor = self.application.update_processor
        if not isinstance(processor, PerChatUpdateProcessor):
            await self.update_queue.put(update)
            return Response(status_code=200)
        # Answered once the update is handled, not when it is queued: Telegram redelivers what
        # it got no answer for, so the update of a process that dies meanwhile reaches another
        # (which the ledger tells that it was cut short, if it was begun).
        through = processor.when_through(update)
        await self.update_queue.put(update)
        done, _ = await asyncio.wait({through}, timeout=WEBHOOK_PATIENCE)
        if done and not through.result():
            return Response(status_code=503)  # cut short here: Telegram sends it again
        # Past WEBHOOK_PATIENCE (a reply queued behind a group's rate limit) it is answered
        # anyway, before Telegram gives up on the request and sends it again.
        return Response(status_code=200)


async def start_bot(
    settings: Settings,
    wiring: Wiring,
    *,
    token: str | None = None,
    base_url: str | None = None,
    on_error: ErrorHook | None = None,
    poll_timeout: int = 10,
) -> RunningBot:
    """Starts the web server, the bot and the outbox worker in the running event loop."""
    token = token or settings.telegram_bot_token
    if not token:
        raise ValueError("a Telegram bot token is needed")
    running = RunningBot(
        settings,
        wiring,
        token=token,
        base_url=base_url or settings.telegram_base_url,
        on_error=on_error,
        poll_timeout=poll_timeout,
    )
    await running.start()
    return running
