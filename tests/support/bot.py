"""The real bot, started against the stand-ins for one test."""

from __future__ import annotations

from bot.app import start_bot
from bot.devtools.local_telegram import LocalBotApi
from bot.runtime.running import RunningBot
from bot.settings import Settings


class BotUnderTest:
    """Starts the real bot against the stand-ins; fails the test on any handler error."""

    def __init__(self, telegram: LocalBotApi) -> None:
        self.telegram = telegram
        self.errors: list[BaseException] = []
        self.running: RunningBot | None = None

    async def start(self, settings: Settings) -> RunningBot:
        self.running = await start_bot(
            settings,
            token=self.telegram.token,
            base_url=self.telegram.base_url,
            on_error=self.errors.append,
            poll_timeout=1,
        )
        return self.running

    async def stop(self) -> None:
        if self.running is not None:
            await self.running.stop()
            self.running = None
