"""`python -m bot`: the bot and its web server in one process and one event loop.

With no TELEGRAM_BOT_TOKEN, a local chat in the terminal drives the very same Application
through a small Bot API server on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import sys

from sqlalchemy.exc import SQLAlchemyError

from bot import eventloop, logs
from bot.app import start_bot
from bot.i18n import SUPPORTED_LOCALES, CatalogMissing, translations
from bot.runtime.running import TelegramUnreachable, TokenRefused
from bot.settings import Settings, SettingsError, load_settings
from bot.storage.agreement import SecretDiffers

logger = logging.getLogger("bot")


async def run(settings: Settings) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    local_api = None
    token, base_url = settings.telegram_bot_token, settings.telegram_base_url
    if not token:
        from bot.devtools.local_telegram import LocalBotApi

        local_api = LocalBotApi()
        await local_api.start()
        # The terminal chat is fed by polling the local server; a webhook would go nowhere.
        settings = settings.model_copy(update={"webhook_url": None})
        token, base_url = local_api.token, local_api.base_url

    running = await start_bot(settings, token=token, base_url=base_url)
    # What the imports and the start made (~140,000 objects) lives as long as the process: out
    # of the garbage collector's sight, or each full collection walks it all, and stops every
    # family's reply for 50-200 ms on a 2-core server.
    gc.freeze()
    logger.info("bot running; links start with %s", running.link_base)
    chat_task = None
    try:
        if local_api is not None:
            from bot.devtools.terminal import run_terminal_chat

            chat = run_terminal_chat(local_api, stop=stop, language=settings.terminal_language)
            chat_task = asyncio.create_task(chat)
        await stop.wait()
    finally:
        logger.info("stopping")
        if chat_task is not None:
            chat_task.cancel()
            await asyncio.gather(chat_task, return_exceptions=True)
        await running.stop()
        if local_api is not None:
            await local_api.stop()


def main() -> None:
    try:
        settings = load_settings()
    except SettingsError as error:
        print(f"Configuración inválida — {error}", file=sys.stderr)
        raise SystemExit(2) from None
    logs.configure(settings.log_level, quiet_console=not settings.telegram_bot_token)
    try:
        for locale in SUPPORTED_LOCALES:
            translations(locale)
    except CatalogMissing as error:
        print(f"Falta el catálogo de textos — {error}", file=sys.stderr)
        raise SystemExit(2) from None
    try:
        eventloop.run(run(settings))
    except TokenRefused:
        print("No se pudo iniciar — Telegram rechazó TELEGRAM_BOT_TOKEN", file=sys.stderr)
        raise SystemExit(1) from None
    except SecretDiffers:
        print(
            "No se pudo iniciar — SECRET_KEY no es el mismo que el de los otros procesos que "
            "usan esta base de datos",
            file=sys.stderr,
        )
        raise SystemExit(2) from None
    except TelegramUnreachable as error:
        # Telegram (or TELEGRAM_BASE_URL) unreachable at start-up: say so in one line; a
        # supervisor restarts the bot.
        print(f"No se pudo conectar con Telegram — {error}", file=sys.stderr)
        raise SystemExit(1) from None
    except (OSError, SQLAlchemyError) as error:
        print(f"No se pudo iniciar — {error}".splitlines()[0], file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
