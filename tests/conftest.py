"""Shared fixtures: real databases (SQLite always, PostgreSQL when TEST_DATABASE_URL is set), a
real SMTP server, the Bot API stand-in, and the whole bot started against them."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot import eventloop
from bot.devtools.local_telegram import LocalBotApi
from bot.runtime.running import RunningBot
from bot.settings import Settings, async_database_url
from bot.storage import Database
from tests.support.bot import BotUnderTest
from tests.support.bot_process import start_process  # noqa: F401 - a fixture for every test module
from tests.support.smtp_server import SmtpServer

DATABASES = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


@pytest.fixture(params=DATABASES)
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database for one test."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'bot.sqlite3'}"
        return
    url = os.environ["TEST_DATABASE_URL"]
    await empty_postgresql(url)
    yield url


async def empty_postgresql(url: str) -> None:
    # Tests run one after another on the one `test` database: each starts from nothing.
    engine = create_async_engine(async_database_url(url))
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """The services' database alone, migrated, for tests below the bot."""
    database = Database(async_database_url(database_url))
    await database.create_schema()
    yield database
    await database.dispose()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture
async def smtp() -> AsyncIterator[SmtpServer]:
    server = SmtpServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def telegram() -> AsyncIterator[LocalBotApi]:
    async with LocalBotApi() as api:
        yield api


@pytest.fixture
def make_settings(data_dir: Path, database_url: str, smtp: SmtpServer):
    def make(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "data_dir": data_dir,
            "database_url": database_url,
            "web_host": "127.0.0.1",
            "web_port": 0,
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp.port,
            "smtp_security": "none",
            "mail_from": "Programa Niñez Migrante <no-reply@ninez.test>",
            "log_level": "DEBUG",
            # Reading photos starts an OCR worker process: only the tests of that feature do.
            "document_reading": False,
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)

    return make


@pytest.fixture
async def bot_runner(telegram: LocalBotApi, smtp: SmtpServer) -> AsyncIterator[BotUnderTest]:
    # Depends on `smtp` so that the mail server outlives the bot and its last e-mails.
    runner = BotUnderTest(telegram)
    yield runner
    await runner.stop()
    assert not runner.errors, f"a handler raised: {runner.errors!r}"


@pytest.fixture
async def running_bot(bot_runner: BotUnderTest, make_settings) -> RunningBot:
    return await bot_runner.start(make_settings())


@pytest.fixture(autouse=True)
def _capture_all_logs(caplog: pytest.LogCaptureFixture) -> None:
    # Every test sees every log line, so that "no password in the logs" is really checked.
    caplog.set_level(logging.DEBUG)


def pytest_asyncio_loop_factories(
    config: pytest.Config, item: pytest.Item
) -> dict[str, Callable[[], asyncio.AbstractEventLoop]]:
    """Every async test on the event loop `python -m bot` runs on (bot/eventloop.py)."""
    return {"bot": eventloop.new_event_loop}
