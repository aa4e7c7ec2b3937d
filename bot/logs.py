"""Logging that never carries a family's password or the bot's token."""

from __future__ import annotations

import logging
import sys

# python-telegram-bot logs whole updates and request parameters at DEBUG, and an update may
# hold a password the family just typed; httpx logs request URLs at INFO, and a Bot API URL
# holds the bot's token. These floors hold whatever LOG_LEVEL says.
FLOORS = {
    "telegram": logging.INFO,
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "uvicorn": logging.WARNING,
    "aiosqlite": logging.INFO,
}


def protect_secrets() -> None:
    for name, floor in FLOORS.items():
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < floor or logger.level == logging.NOTSET:
            logger.setLevel(floor)


def configure(level: str, *, quiet_console: bool = False) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    protect_secrets()
    if quiet_console:
        # In the terminal chat, log lines would be mixed into the conversation; keep warnings.
        for name in ("", *FLOORS):
            logger = logging.getLogger(name)
            logger.setLevel(max(logger.level, logging.WARNING))
