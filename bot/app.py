"""The composition root: builds the services, the Application and the web server, and
registers every handler in one place. The whole bot's surface is readable here."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import warnings
from collections.abc import Callable
from datetime import timedelta
from urllib.parse import urlsplit

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import BotCommand, BotCommandScopeChat, LinkPreviewOptions, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application, ContextTypes, Defaults
from telegram.warnings import PTBUserWarning

from bot import logs
from bot.accounts import AccountService, VerifyOutcome, VerifyStatus
from bot.i18n import N_, translator
from bot.mail import Mailer, MailSettings
from bot.outbox import FailedEmail, Outbox, RetryPolicy, TokenSeal
from bot.persistence import DatabasePersistence
from bot.processing import PerChatUpdateProcessor
from bot.registration import Registrations
from bot.services import Services
from bot.settings import Settings
from bot.storage import Database
from bot.tickets import Tickets
from bot.updates import UpdateLedger
from bot.web import WebServer, build_web_app
from conversations import faq, guards, menu, notices, registration, resend, trust, volunteers
from conversations.common import SERVICES_KEY, locale_of

logger = logging.getLogger(__name__)

# Called with every exception a handler raises; the tests use it to fail loudly, since
# python-telegram-bot itself only logs them.
ErrorHook = Callable[[BaseException], None]

COMMANDS = (
    ("start", N_("Inicio")),
    ("crear_cuenta", N_("Crear la cuenta del portal, paso a paso")),
    ("reenviar", N_("Recibir otra vez el enlace de validación")),
    ("preguntas", N_("Preguntas frecuentes")),
    ("voluntario", N_("Hablar con un voluntario del programa")),
    ("bandeja", N_("Bandeja de Entrada: las respuestas de los voluntarios")),
    ("cancelar", N_("Dejar el registro en curso")),
    ("ayuda", N_("Qué puede hacer este asistente")),
)

SWEEP_EVERY = timedelta(hours=1)
# A family is told of its unverified account's deletion within minutes of the time, not an hour.
UNVERIFIED_SWEEP_EVERY = timedelta(minutes=5)
# SIGTERM must end the process within 10 s: the handlers in flight get this long, the outbox
# worker (stopped at the same time) a little less, and the rest takes well under a second.
UPDATES_STOP_GRACE = 6.0
OUTBOX_STOP_GRACE = 5.0
KEEP_UPDATE_IDS = timedelta(days=7)
_ERROR_HOOK = "error_hook"


def build_services(settings: Settings, *, link_base: str) -> Services:
    database = Database(settings.database_url_async)
    mailer = Mailer(
        MailSettings(
            host=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            security=settings.smtp_security,
            mail_from=settings.mail_from,
            outbox_dir=settings.outbox_dir,
        )
    )
    outbox = Outbox(
        database,
        mailer,
        TokenSeal.from_settings(settings.secret_key, settings.data_dir),
        link_base=link_base,
        mail_from=settings.mail_from,
        retry=RetryPolicy(
            base_seconds=settings.outbox_retry_base_seconds,
            cap_seconds=settings.outbox_retry_cap_seconds,
        ),
    )
    accounts = AccountService(
        database,
        link_base=link_base,
        token_ttl=timedelta(hours=settings.verification_ttl_hours),
        outbox=outbox,
        resend_limit_per_hour=settings.resend_limit_per_hour,
        unverified_ttl=timedelta(days=settings.unverified_account_days),
        max_accounts_per_user=settings.max_accounts_per_user,
    )
    registrations = Registrations(
        database, accounts, check_deliverability=settings.email_check_deliverability
    )
    return Services(
        settings,
        database,
        accounts,
        registrations,
        outbox,
        UpdateLedger(database),
        Tickets(database),
    )


def build_application(
    services: Services,
    *,
    token: str,
    base_url: str | None,
    polling: bool = True,
    on_error: ErrorHook | None = None,
) -> Application:
    logs.protect_secrets()
    builder = (
        Application.builder()
        .token(token)
        # Telegram's preview crawler would open the verification link before the family does.
        .defaults(Defaults(link_preview_options=LinkPreviewOptions(is_disabled=True)))
        # Telegram allows ~30 messages a second overall and ~20 a minute per group: a burst of
        # notifications waits its turn instead of failing with 429.
        .rate_limiter(AIORateLimiter(max_retries=3))
        # One family's slow moment (a hash, a relay queued for the group's rate limit) must not
        # hold back the others; one family's own updates still go one at a time, in order.
        .concurrent_updates(PerChatUpdateProcessor(chat_of))
        .persistence(
            DatabasePersistence(
                {registration.NAME: lambda: registration.saved_conversations(services)}
            )
        )
    )
    if base_url:
        builder = builder.base_url(base_url)
    if not polling:
        builder = builder.updater(None)
    application = builder.build()
    application.bot_data[SERVICES_KEY] = services
    application.bot_data[_ERROR_HOOK] = on_error

    with warnings.catch_warnings():
        # The registration tracks buttons per chat, not per message, on purpose: a family has
        # one registration at a time. python-telegram-bot warns about that combination.
        warnings.simplefilter("ignore", PTBUserWarning)
        conversation = registration.build()

    # Order matters. Group -3 first: only a family's private chat and the volunteers' group
    # get past it; edits stop there too. Group -2: the guards may stop an update (a flood, a
    # redelivered update). Group -1: the volunteers' group, and what may interrupt a family's
    # registration without ending it: a ticket (while one is open every message goes to it), a
    # frequent question, the inbox; each stops the update it handled. Then, in group 0, the
    # registration, so that while a family is in it every message reaches it (its fallbacks
    # answer what does not fit); then the commands and notices outside it; and last the hint
    # for a message nothing awaited, and the answer to a button nothing took.
    group = services.settings.volunteers_chat_id
    trusted = trust.handler(volunteers.COMMAND_NAMES, volunteers.GROUP_BUTTONS)
    application.add_handler(trusted, group=-3)  # who may be heard at all
    application.add_handler(guards.handler(), group=-2)  # flood, redelivery, expired drafts
    application.add_handlers(volunteers.volunteer_handlers(group), group=-1)  # their group only
    application.add_handlers(volunteers.family_handlers(), group=-1)  # an open ticket first
    application.add_handlers(faq.handlers(), group=-1)  # questions, mid-registration too
    application.add_handlers(menu.anytime_handlers(), group=-1)  # the inbox, likewise
    application.add_handler(conversation)  # the form: every message while it runs
    application.add_handlers(resend.handlers())  # /reenviar
    application.add_handlers(notices.handlers())  # the link opened, an e-mail refused
    application.add_handlers(menu.handlers())  # /start, /ayuda, /cancelar with nothing to cancel
    application.add_handlers(menu.catch_all())  # what nothing else answered
    application.add_error_handler(_on_error)

    assert application.job_queue is not None
    application.job_queue.run_repeating(_sweep, interval=SWEEP_EVERY, first=1, name="sweep")
    application.job_queue.run_repeating(
        notices.unverified_accounts,
        interval=UNVERIFIED_SWEEP_EVERY,
        first=3,
        name="unverified",
    )
    application.job_queue.run_repeating(
        volunteers.remind_unanswered, interval=volunteers.REMIND_EVERY, first=5, name="remind"
    )
    return application


def chat_of(update: object) -> int | None:
    """The chat an update belongs to, for PerChatUpdateProcessor: a Telegram update's chat, or
    the `chat_id` of the bot's own news (AccountVerified); None serialises the rest together."""
    if isinstance(update, Update):
        chat = update.effective_chat or update.effective_user
        return chat.id if chat is not None else None
    chat_id = getattr(update, "chat_id", None)
    return chat_id if isinstance(chat_id, int) else None


async def _on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    # Only ids are logged: an update may hold a password the family has just typed.
    update_id = getattr(update, "update_id", None)
    chat = update.effective_chat if isinstance(update, Update) else None
    if isinstance(context.error, DBAPIError):
        # The database's own message can quote values (PostgreSQL's DETAIL, asyncpg's
        # out-of-range argument), which hide_parameters does not reach: its kind only.
        logger.error(
            "handler failed (update %s, chat %s): database error %s",
            update_id,
            chat.id if chat else None,
            type(context.error.orig).__name__,
        )
    else:
        logger.error(
            "handler failed (update %s, chat %s)",
            update_id,
            chat.id if chat else None,
            exc_info=context.error,
        )
    hook = context.bot_data.get(_ERROR_HOOK)
    if hook is not None and context.error is not None:
        hook(context.error)
    # The text is for a family; the volunteers' group sees the failure in the logs only.
    if chat is not None and chat.type == ChatType.PRIVATE and isinstance(update, Update):
        _ = translator(locale_of(update))
        try:
            await context.bot.send_message(
                chat.id,
                # The failure may have been the very save of the answer: promise nothing.
                _(
                    "Perdón, algo falló de nuestro lado y puede que su última respuesta no se "
                    "haya guardado. Envíela de nuevo en un momento, o escriba /start."
                ),
            )
        except TelegramError:
            logger.exception("could not tell chat %s about the failure", chat.id)


async def _sweep(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Hourly: forget unfinished drafts past their time, old update ids, and the taken
    addresses met more than a day ago."""
    found: Services = context.bot_data[SERVICES_KEY]
    expired = await found.registrations.expire_unfinished(
        timedelta(days=found.settings.draft_ttl_days)
    )
    if expired:
        logger.info("%d unfinished registrations expired", len(expired))
    found.expired_drafts = await found.registrations.users_with_expired_drafts()
    await found.updates.forget_older_than(KEEP_UPDATE_IDS)
    await found.accounts.forget_old_probes()
    found.flood.forget_idle()


async def publish_commands(application: Application, volunteers_chat_id: int | None) -> None:
    """The menu of commands: the families' everywhere, the volunteers' in their group.

    Called by RunningBot.start itself: python-telegram-bot runs `post_init` only from
    run_polling/run_webhook, which this bot does not use."""
    _ = translator("es")
    menus: list[tuple[list[BotCommand], BotCommandScopeChat | None]] = [
        ([BotCommand(name, _(description)) for name, description in COMMANDS], None)
    ]
    if volunteers_chat_id is not None:
        team = [BotCommand(name, _(description)) for name, description in volunteers.COMMANDS]
        menus.append((team, BotCommandScopeChat(volunteers_chat_id)))
    for commands, scope in menus:
        try:
            await application.bot.set_my_commands(commands, scope=scope)
        except TelegramError as error:
            # The menu of commands is a convenience; the bot works without it.
            logger.warning("could not publish the command menu (%s): %s", scope, error)


def webhook_secret(settings: Settings, token: str) -> str:
    """WEBHOOK_SECRET, or one derived from the bot token: stable across restarts and workers."""
    if settings.webhook_secret:
        return settings.webhook_secret
    return hmac.new(token.encode(), b"ninez-migrante-webhook", hashlib.sha256).hexdigest()


class RunningBot:
    """One bot in this event loop: the web server of the links (and of the webhook), the
    Application, and the outbox worker. `start()` brings them up, `stop()` takes them down."""

    def __init__(
        self,
        settings: Settings,
        *,
        token: str,
        base_url: str | None,
        on_error: ErrorHook | None = None,
        poll_timeout: int = 10,
    ) -> None:
        self.settings = settings
        self.token = token
        self.base_url = base_url
        self.on_error = on_error
        self.poll_timeout = poll_timeout
        self.webhook = bool(settings.webhook_url)
        self._secret = webhook_secret(settings, token)
        self.services: Services | None = None
        self.application: Application | None = None
        self._accepting_updates = False
        routes = []
        if settings.webhook_url:
            path = urlsplit(settings.webhook_url).path or "/"
            routes.append(Route(path, self._receive_update, methods=["POST"]))
        self.web = WebServer(
            build_web_app(verify=self._verify, health=self.health, extra_routes=routes),
            settings.web_host,
            settings.web_port,
        )

    @property
    def link_base(self) -> str:
        return self.settings.public_url or f"http://{self.settings.web_host}:{self.web.port}"

    async def start(self) -> None:
        # The web server comes first: with WEB_PORT=0 its port makes the links.
        await self.web.start()
        try:
            self.services = build_services(self.settings, link_base=self.link_base)
            await self.services.database.create_schema()
            self.services.expired_drafts = (
                await self.services.registrations.users_with_expired_drafts()
            )
            self.services.outbox.on_failure = self._email_refused
            self.services.open_tickets = {
                ticket.telegram_user_id for ticket in await self.services.tickets.pending()
            }
            self.application = build_application(
                self.services,
                token=self.token,
                base_url=self.base_url,
                polling=not self.webhook,
                on_error=self.on_error,
            )
            await self.application.initialize()
            await self.application.start()
            await publish_commands(self.application, self.settings.volunteers_chat_id)
            await self.services.outbox.start()
            await self._take_updates()
        except BaseException:
            await self.stop()
            raise

    async def _take_updates(self) -> None:
        assert self.application is not None
        if self.webhook:
            await self.application.bot.set_webhook(
                url=self.settings.webhook_url,
                secret_token=self._secret,
                allowed_updates=Update.ALL_TYPES,
            )
            self._accepting_updates = True
            return
        assert self.application.updater is not None
        await self.application.updater.start_polling(
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
            await self.services.database.dispose()

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
            await self.application.update_queue.put(notices.AccountVerified(outcome))
        return outcome

    async def _email_refused(self, failure: FailedEmail) -> None:
        if self.application is not None:
            await self.application.update_queue.put(notices.EmailRefused(failure))

    async def health(self) -> dict:
        if self.services is None:
            return {"ok": False, "database": "starting"}
        try:
            async with self.services.database.engine.connect() as connection:
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
        await self.application.update_queue.put(update)
        return Response(status_code=200)


async def start_bot(
    settings: Settings,
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
        token=token,
        base_url=base_url or settings.telegram_base_url,
        on_error=on_error,
        poll_timeout=poll_timeout,
    )
    await running.start()
    return running
