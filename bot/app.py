"""The composition root: builds the services, the Application and the web server, and
registers every handler in one place. The whole bot's surface is readable here."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ContextTypes,
    Defaults,
)
from telegram.warnings import PTBUserWarning

from bot import logs
from bot.accounts import AccountService, VerifyOutcome, VerifyStatus
from bot.i18n import N_, translator
from bot.mail import Mailer, MailSettings
from bot.registration import Registrations
from bot.services import Services
from bot.settings import Settings
from bot.storage import Database
from bot.web import WebServer, build_web_app
from conversations import menu, registration
from conversations.common import SERVICES_KEY, locale_of

logger = logging.getLogger(__name__)

# Called with every exception a handler raises; the tests use it to fail loudly, since
# python-telegram-bot itself only logs them.
ErrorHook = Callable[[BaseException], None]

COMMANDS = (
    ("start", N_("Inicio")),
    ("crear_cuenta", N_("Crear la cuenta del portal, paso a paso")),
    ("cancelar", N_("Dejar el registro en curso")),
    ("ayuda", N_("Qué puede hacer este asistente")),
)


def build_services(settings: Settings, *, link_base: str) -> Services:
    database = Database(settings.database_url_async)
    accounts = AccountService(
        database,
        link_base=link_base,
        token_ttl=timedelta(hours=settings.verification_ttl_hours),
    )
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
    registrations = Registrations(
        database, accounts, check_deliverability=settings.email_check_deliverability
    )
    return Services(settings, database, accounts, registrations, mailer)


def build_application(
    services: Services, *, token: str, base_url: str | None, on_error: ErrorHook | None = None
) -> Application:
    logs.protect_secrets()
    builder = (
        Application.builder()
        .token(token)
        # Telegram's preview crawler would open the verification link before the family does.
        .defaults(Defaults(link_preview_options=LinkPreviewOptions(is_disabled=True)))
        .rate_limiter(AIORateLimiter(max_retries=3))
        .post_init(_publish_commands)
    )
    if base_url:
        builder = builder.base_url(base_url)
    application = builder.build()
    application.bot_data[SERVICES_KEY] = services
    application.bot_data[_ERROR_HOOK] = on_error

    with warnings.catch_warnings():
        # The registration tracks buttons per chat, not per message, on purpose: a family has
        # one registration at a time. python-telegram-bot warns about that combination.
        warnings.simplefilter("ignore", PTBUserWarning)
        conversation = registration.build()

    # Order matters: the registration comes first so that, while a family is in it, every
    # message reaches it (its fallbacks answer what does not fit). Then the menu's commands,
    # and last the hint for a message that nothing else was waiting for.
    application.add_handler(conversation)
    application.add_handlers(menu.handlers())
    application.add_handler(menu.catch_all())
    application.add_error_handler(_on_error)
    return application


_ERROR_HOOK = "error_hook"


async def _on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    # Only ids are logged: an update may hold a password the family has just typed.
    update_id = getattr(update, "update_id", None)
    chat = update.effective_chat if isinstance(update, Update) else None
    logger.error(
        "handler failed (update %s, chat %s)",
        update_id,
        chat.id if chat else None,
        exc_info=context.error,
    )
    hook = context.bot_data.get(_ERROR_HOOK)
    if hook is not None and context.error is not None:
        hook(context.error)
    if chat is not None and isinstance(update, Update):
        _ = translator(locale_of(update))
        try:
            await context.bot.send_message(
                chat.id,
                _(
                    "Perdón, algo falló de nuestro lado. Lo que ya escribió está guardado: "
                    "intente de nuevo en un momento, o escriba /start."
                ),
            )
        except TelegramError:
            logger.exception("could not tell chat %s about the failure", chat.id)


async def _publish_commands(application: Application) -> None:
    _ = translator("es")
    try:
        await application.bot.set_my_commands(
            [BotCommand(name, _(description)) for name, description in COMMANDS]
        )
    except TelegramError as error:
        # The menu of commands is a convenience; the bot works without it.
        logger.warning("could not publish the command menu: %s", error)


@dataclass
class RunningBot:
    """A started bot: the Application polling, and the web server of the links."""

    application: Application
    services: Services
    web: WebServer
    link_base: str
    _stopped: bool = field(default=False, repr=False)

    async def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        # Stop taking updates first, then finish what is in flight, then close the rest.
        if self.application.updater and self.application.updater.running:
            await self.application.updater.stop()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()
        await self.web.stop()
        await self.services.database.dispose()


async def start_bot(
    settings: Settings,
    *,
    token: str | None = None,
    base_url: str | None = None,
    on_error: ErrorHook | None = None,
    poll_interval: float = 0.0,
    poll_timeout: int = 10,
) -> RunningBot:
    """Starts the web server and the bot in the running event loop."""
    token = token or settings.telegram_bot_token
    if not token:
        raise ValueError("a Telegram bot token is needed")
    base_url = base_url or settings.telegram_base_url

    # The web server is started first: with WEB_PORT=0 its port makes the links.
    services_holder: dict[str, Services] = {}
    application_holder: dict[str, Application] = {}

    async def verify(token_text: str) -> VerifyOutcome:
        outcome = await services_holder["services"].accounts.verify(token_text)
        if outcome.status is VerifyStatus.VERIFIED:
            # The page answers at once; the chat message follows through the update queue.
            await application_holder["app"].update_queue.put(menu.AccountVerified(outcome))
        return outcome

    web = WebServer(build_web_app(verify=verify), settings.web_host, settings.web_port)
    await web.start()
    link_base = settings.public_url or f"http://{settings.web_host}:{web.port}"
    services = build_services(settings, link_base=link_base)
    services_holder["services"] = services
    try:
        await services.database.create_schema()
        application = build_application(services, token=token, base_url=base_url, on_error=on_error)
        application_holder["app"] = application
        await application.initialize()
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(
            poll_interval=poll_interval,
            timeout=poll_timeout,
            allowed_updates=Update.ALL_TYPES,
            drop_pending_updates=False,
        )
    except BaseException:
        await web.stop()
        await services.database.dispose()
        raise
    return RunningBot(application, services, web, link_base)
