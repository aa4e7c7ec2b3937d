"""Two processes of the bot on one PostgreSQL database, behind one webhook: either takes any
update. The test plays Telegram: it posts each update to the processes in turn (a chat's next
update only once the last one was answered, as Telegram keeps a chat in order), and sends what
a process did not answer to the other. Thirty families register through both; then one process
is killed (SIGKILL) in the middle, and the other carries every family to its account."""

from __future__ import annotations

import asyncio
import os
import re
import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.devtools.local_telegram import LocalBotApi, LocalUser
from bot.settings import async_database_url
from tests.conftest import empty_postgresql
from tests.support.bot_process import BotProcess, bot_environment
from tests.support.smtp_server import SmtpServer, unused_port

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"),
    reason="two processes share one PostgreSQL database: set TEST_DATABASE_URL (.ci/run does)",
)

FAMILIES = 30
SECRET = "the-webhook-secret-every-process-shares"
PATH = "/telegram/webhook"

# What the bot asks, in the order of the form: "Paso n de 9" is stage n; then the human check,
# the summary and the link.
ROBOT, REVIEW, LINK = 10, 11, 12
STAGES = list(range(1, LINK + 1))
# How long a family waits, when a question it answered comes again, for the next one before it
# answers again: longer than any reply takes on a busy machine.
REPEAT_PATIENCE = 5.0

FIRST = ("Ana", "Jean", "Rose", "Luis", "Marie", "Pedro", "Sofía", "Wilner", "Carla", "Daniel")
SECOND = ("Belén", "Marc", "Lucía", "José", "Nadège", "Tomás")
SURNAMES = ("Pérez", "Toussaint", "Joseph", "Rojas", "Pierre", "Soto", "Louis", "Silva")


@dataclass(frozen=True)
class Family:
    user: LocalUser
    first_names: str
    father: str
    mother: str
    born: date
    email: str
    password: str

    def answer(self, stage: int) -> str:
        return {
            1: self.first_names,
            2: self.father,
            3: self.mother,
            4: self.born.strftime("%d-%m-%Y"),
            6: self.email,
            7: self.email,
            8: self.password,
            9: self.password,
        }[stage]


def families(telegram: LocalBotApi, first_id: int, round_name: str) -> list[Family]:
    made = []
    for n in range(FAMILIES):
        user = telegram.user(user_id=first_id + n, first_name=FIRST[n % len(FIRST)])
        made.append(
            Family(
                user=user,
                first_names=f"{FIRST[n % len(FIRST)]} {SECOND[n // len(FIRST)]}",
                father=SURNAMES[n % len(SURNAMES)],
                mother=SURNAMES[(n + 3) % len(SURNAMES)],
                born=date(2012 + n % 5, 1 + n % 12, 1 + n % 28),
                email=f"familia.{round_name}.{n}@gmail.com",
                password=f"Clave-{round_name}-{n:02d}-segura",
            )
        )
    return made


def stage_of(message: dict[str, Any]) -> int | None:
    said = message.get("text") or ""
    if step := re.search(r"Paso (\d) de 9", said):
        return int(step.group(1))
    if "no es un robot" in said:
        return ROBOT
    if "Revise los datos" in said:
        return REVIEW
    if "/validate/" in said:
        return LINK
    return None


class Telegram:
    """Posts the stand-in's updates to the processes' webhooks in turn, with the secret; a
    chat's updates one after another, each once it was answered; what a process does not answer
    (it died, or said 503) goes to another, as Telegram would send it again."""

    def __init__(self, telegram: LocalBotApi, urls: list[str]) -> None:
        self._telegram = telegram
        self.alive = list(urls)
        self.answered: dict[str, int] = dict.fromkeys(urls, 0)
        self.redelivered = 0
        self._turn = 0
        self._chains: dict[int, asyncio.Task[None]] = {}
        self._client = httpx.AsyncClient(timeout=30)
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Telegram:
        self._task = asyncio.create_task(self._deliver_all())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        assert self._task is not None
        self._task.cancel()
        for chain in self._chains.values():
            chain.cancel()
        await asyncio.gather(self._task, *self._chains.values(), return_exceptions=True)
        await self._client.aclose()

    @property
    def delivered(self) -> int:
        return sum(self.answered.values())

    async def _deliver_all(self) -> None:
        while True:
            for update in await self._telegram.take_updates(timeout=0.5):
                chat = _chat_of(update)
                previous = self._chains.get(chat)
                self._chains[chat] = asyncio.create_task(self._deliver_after(previous, update))

    async def _deliver_after(self, previous: asyncio.Task[None] | None, update: dict) -> None:
        if previous is not None:
            await asyncio.shield(previous)
        await self._deliver(update)

    async def _deliver(self, update: dict) -> None:
        tries = 0
        while True:
            assert self.alive, "no process left to deliver to"
            url = self.alive[self._turn % len(self.alive)]
            self._turn += 1
            tries += 1
            try:
                response = await self._client.post(
                    url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
                )
            except httpx.TransportError:
                # Gone (killed, its connections reset): the balancer stops sending it anything.
                if url in self.alive:
                    self.alive.remove(url)
                self.redelivered += 1
                continue
            if response.status_code == 200:
                self.answered[url] += 1
                return
            assert response.status_code == 503, response.status_code
            assert tries < 50, f"update {update['update_id']} refused {tries} times"
            self.redelivered += 1
            await asyncio.sleep(0.1)


def _chat_of(update: dict) -> int:
    if "callback_query" in update:
        return int(update["callback_query"]["message"]["chat"]["id"])
    return int(update["message"]["chat"]["id"])


async def register(family: Family, *, patience: float = 120.0) -> None:
    """Fills the form as a person does: answers the question in front of it, and when a question
    it already answered comes again with nothing after it, answers it again."""
    try:
        await _register(family, patience)
    except TimeoutError:
        said = [stage_of(m) or (m.get("text") or "")[:60] for m in family.user.bot_messages]
        raise AssertionError(f"{family.email} did not finish; the bot said {said}") from None


async def _register(family: Family, patience: float) -> None:
    user = family.user
    seen = len(user.bot_messages)
    await user.send("/crear_cuenta")
    answered: int | None = None
    async with asyncio.timeout(patience):
        while True:
            while len(user.bot_messages) == seen:
                await asyncio.sleep(0.02)
            message = user.bot_messages[seen]
            seen += 1
            stage = stage_of(message)
            assert stage is not None, message.get("text")
            if stage == LINK:
                return
            if stage == answered:
                # Asked again: either the answer was lost with a process, or this repeats a
                # question already answered and the next one is on its way.
                await asyncio.sleep(REPEAT_PATIENCE)
                if len(user.bot_messages) > seen:
                    continue
            answered = stage
            if stage == 5:
                await user.press("Haití", message=message)
            elif stage == ROBOT:
                await user.press("No soy un robot", message=message)
            elif stage == REVIEW:
                await user.press("Crear cuenta", message=message)
            else:
                await user.send(family.answer(stage))


def stages_seen(user: LocalUser) -> list[int]:
    return [stage for stage in map(stage_of, user.bot_messages) if stage is not None]


async def accounts_of(url: str, ids: list[int]) -> dict[int, tuple]:
    engine = create_async_engine(async_database_url(url))
    try:
        async with engine.connect() as connection:
            found = await connection.execute(
                text(
                    "SELECT telegram_user_id, first_names, father_surname, mother_surname, "
                    "birth_date, country_code, email FROM account "
                    "WHERE telegram_user_id = ANY(:ids)"
                ),
                {"ids": ids},
            )
            rows = found.all()
    finally:
        await engine.dispose()
    by_user: dict[int, tuple] = {}
    for row in rows:
        assert row[0] not in by_user, f"two accounts for {row[0]}"
        by_user[row[0]] = tuple(row[1:])
    return by_user


def expected(family: Family) -> tuple:
    return (
        family.first_names,
        family.father,
        family.mother,
        family.born,
        "HT",
        family.email,
    )


async def eventually(condition: Callable[[], bool], timeout: float) -> None:  # noqa: ASYNC109
    async with asyncio.timeout(timeout):
        while not condition():
            await asyncio.sleep(0.1)


@pytest.fixture
async def shared_database() -> str:
    url = os.environ["TEST_DATABASE_URL"]
    await empty_postgresql(url)
    return url


async def test_two_processes_take_turns_and_one_carries_on_when_the_other_dies(
    start_process, tmp_path: Path, telegram: LocalBotApi, smtp: SmtpServer, shared_database: str
) -> None:
    ports = [unused_port(), unused_port()]
    urls = [f"http://127.0.0.1:{port}{PATH}" for port in ports]
    processes: list[BotProcess] = []
    for n, port in enumerate(ports):
        # Each its own data folder: nothing of one is on the other's disk. What they share is
        # the database and the settings the README names.
        environment = bot_environment(
            tmp_path / f"process{n}",
            TELEGRAM_BOT_TOKEN=telegram.token,
            TELEGRAM_BASE_URL=telegram.base_url,
            DATABASE_URL=shared_database,
            WEBHOOK_URL=urls[n],
            WEBHOOK_SECRET=SECRET,
            SECRET_KEY="one secret key for every process of this database",
            WEB_HOST="127.0.0.1",
            WEB_PORT=str(port),
            SMTP_HOST="127.0.0.1",
            SMTP_PORT=str(smtp.port),
            SMTP_SECURITY="none",
            LOG_LEVEL="INFO",
        )
        processes.append(await start_process(environment))
    for process in processes:
        await process.read_until("bot running", within=30)

    async with Telegram(telegram, urls) as webhooks:
        # 1. Both alive: every update goes to one process or the other, in turn.
        first = families(telegram, 61000, "uno")
        await asyncio.gather(*(register(family) for family in first))
        assert all(count > 100 for count in webhooks.answered.values()), webhooks.answered
        assert webhooks.redelivered == 0
        for family in first:
            # Every question once, in order, whichever process asked it.
            assert stages_seen(family.user) == STAGES, family.email
        accounts = await accounts_of(shared_database, [f.user.id for f in first])
        assert accounts == {f.user.id: expected(f) for f in first}
        # One verification e-mail each, though both processes' outbox workers ran.
        await eventually(lambda: len(smtp.envelopes) >= FAMILIES, timeout=20)
        await asyncio.sleep(1.0)
        sent_to = sorted(rcpt for e in smtp.envelopes for rcpt in e.rcpt_tos)
        assert sent_to == sorted(f.email for f in first)

        # The login's question is in the database too: with nobody else writing, its three
        # updates go to one process, the other, the first.
        family = first[0]
        before = dict(webhooks.answered)
        asked = await family.user.reply("/ingresar")
        assert "escriba el correo electrónico de la cuenta" in asked["text"]
        asked = await family.user.reply(family.email)
        assert "Ahora escriba la contraseña" in asked["text"]
        password = await family.user.send(family.password)
        told = await family.user.wait_for()
        assert "todavía no está validada" in told["text"]  # the password was right
        assert password["message_id"] in family.user.deleted_message_ids
        assert all(webhooks.answered[url] > before[url] for url in urls), webhooks.answered

        # 2. One process dies in the middle of thirty registrations; the other carries on.
        second = families(telegram, 62000, "dos")
        registering = asyncio.gather(*(register(family) for family in second))
        start = webhooks.delivered
        await eventually(lambda: webhooks.delivered - start >= FAMILIES * 5, timeout=60)
        processes[0].process.send_signal(signal.SIGKILL)
        await registering
        assert webhooks.alive == [urls[1]]
        assert webhooks.redelivered > 0

    for family in second:
        stages = stages_seen(family.user)
        # Nothing out of order or skipped: at most a question asked again where the process
        # died, never one before it.
        assert stages == sorted(stages) and set(stages) == set(STAGES), (family.email, stages)
        assert len(stages) <= len(STAGES) + 1, (family.email, stages)
    accounts = await accounts_of(shared_database, [f.user.id for f in second])
    assert accounts == {f.user.id: expected(f) for f in second}
    # The e-mails the dead process had claimed go out once their lease ends.
    await eventually(lambda: len(smtp.envelopes) >= 2 * FAMILIES, timeout=30)
    sent_to = {rcpt for e in smtp.envelopes for rcpt in e.rcpt_tos}
    assert sent_to >= {f.email for f in second}
    assert await processes[1].stop() == 0
    assert "Traceback" not in processes[1].seen, processes[1].seen


async def test_a_process_with_another_secret_key_does_not_start_beside_the_others(
    start_process, tmp_path: Path, telegram: LocalBotApi, shared_database: str
) -> None:
    def environment(name: str, secret_key: str) -> dict[str, str]:
        return bot_environment(
            tmp_path / name,
            TELEGRAM_BOT_TOKEN=telegram.token,
            TELEGRAM_BASE_URL=telegram.base_url,
            DATABASE_URL=shared_database,
            WEBHOOK_URL=f"http://127.0.0.1:{unused_port()}{PATH}",
            SECRET_KEY=secret_key,
            LOG_LEVEL="INFO",
        )

    running = await start_process(environment("first", "the secret of this database"))
    await running.read_until("bot running", within=30)
    # Its e-mails' tokens could not be opened by the other, nor the other's by it.
    other = await start_process(environment("second", "a secret of its own"))
    assert await asyncio.wait_for(other.process.wait(), timeout=30) == 2
    await other.read_until("SECRET_KEY no es el mismo")
    assert "Traceback" not in other.seen
    assert await running.stop() == 0

    # With none running, a new secret was set on purpose: it is taken.
    changed = await start_process(environment("first", "the new secret of this database"))
    await changed.read_until("bot running", within=30)
    assert await changed.stop() == 0
