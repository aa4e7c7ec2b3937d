"""Part 3 (and the runs behind part 4): families register end to end against the real bot.

The bot is `start_bot` itself (python-telegram-bot polling over HTTP, the database, the outbox,
the web server of the links); Telegram is `LocalBotApi`. With SMTP_HOST unset the e-mails are
written as files under a temporary DATA_DIR. Everything shares this process and event loop, so
the load generator's own work is counted against the bot: the numbers are a floor.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import secrets
import time
import tracemalloc
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.stats import reset_peak_rss, summary_ms, vm_hwm_mib, vm_rss_mib
from bot.app import start_bot
from bot.devtools.local_telegram import LocalBotApi, LocalUser
from bot.settings import Settings

PASSWORD = "Clave-Secreta-2024"
VERIFIED = "Estado de cuenta: Verificado"


def steps(email: str) -> tuple[tuple[str, str, str, str], ...]:
    """(label, "send" | "press", text or button, text the bot's reply must contain)."""
    return (
        ("/crear_cuenta", "send", "/crear_cuenta", "Paso 1 de 9"),
        ("1 first names", "send", "María José", "Paso 2 de 9"),
        ("2 father's surname", "send", "Pérez", "Paso 3 de 9"),
        ("3 no mother's surname [button]", "press", "No tiene segundo apellido", "Paso 4 de 9"),
        ("4 birth date", "send", "23-04-2015", "Paso 5 de 9"),
        ("5 country [button]", "press", "Haití", "Paso 6 de 9"),
        ("6 e-mail", "send", email, "Paso 7 de 9"),
        ("7 e-mail again", "send", email.upper(), "Paso 8 de 9"),
        ("8 password (Argon2 hash)", "send", PASSWORD, "Paso 9 de 9"),
        ("9 password again (Argon2 verify)", "send", PASSWORD, "no es un robot"),
        ("human check [button]", "press", "No soy un robot", "Revise los datos"),
        ("create account [button]", "press", "Crear cuenta", "/validate/"),
    )


STEP_LABELS = [label for label, *_ in steps("x@gmail.com")]


@dataclass
class Config:
    families: int
    concurrency: int
    database_url: str | None = None  # None: a fresh SQLite file under data_dir
    reply_timeout: float = 60.0
    verify_links: bool = True
    trace_memory: bool = False  # tracemalloc during the registrations (slows them down)


@dataclass
class _Run:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in STEP_LABELS})
    updates_sent: int = 0
    failures: list[str] = field(default_factory=list)
    links: dict[int, str] = field(default_factory=dict)
    in_flight: int = 0
    most_in_flight: int = 0


def _link_of(message: dict[str, Any]) -> str | None:
    markup = message.get("reply_markup") or {}
    for row in markup.get("inline_keyboard", []):
        for button in row:
            if "/validate/" in button.get("url", ""):
                return button["url"]
    return None


async def _register(user: LocalUser, email: str, run: _Run, patience: float) -> str | None:
    """One family through the whole form; returns its verification link."""
    message: dict[str, Any] = {}
    for label, kind, value, expect in steps(email):
        start = time.perf_counter()
        if kind == "send":
            await user.send(value)
        else:
            await user.press(value)
        run.updates_sent += 1
        if label.startswith("create account"):
            # The link is the awaited reply; anything said before it is not.
            message = await user.wait_for(lambda m: "/validate/" in m["text"], timeout=patience)
        else:
            message = await user.wait_for(timeout=patience)
        run.latencies[label].append(time.perf_counter() - start)
        if expect not in message.get("text", ""):
            raise RuntimeError(f"step {label!r}: expected {expect!r}, got {message.get('text')!r}")
    return _link_of(message)


def _settings(data_dir: Path, database_url: str | None) -> Settings:
    return Settings(
        _env_file=None,
        data_dir=data_dir,
        database_url=database_url or f"sqlite:///{data_dir / 'bot.sqlite3'}",
        web_host="127.0.0.1",
        web_port=0,
        public_url=None,
        webhook_url=None,
        smtp_host=None,  # e-mails become files under DATA_DIR/outbox
        email_check_deliverability=False,
        log_level="WARNING",
    )


async def run(config: Config, data_dir: Path) -> dict[str, Any]:
    """Starts the stand-in and the bot, registers `families` with `concurrency` at a time, then
    opens every verification link; returns the measurements. `data_dir` must exist."""
    handler_errors: list[BaseException] = []
    memory: dict[str, Any] = {"rss_before_start_mib": vm_rss_mib()}
    # Fresh ids for this run: a database given with --database-url may hold earlier runs, whose
    # update ids the bot would take for redeliveries and whose users already have accounts.
    tag = secrets.token_hex(4)
    first_user_id = 10**12 + secrets.randbelow(10**11)
    async with LocalBotApi() as api:
        if hasattr(api, "_update_ids"):
            api._update_ids = itertools.count(time.time_ns() // 1000)
        started = time.perf_counter()
        running = await start_bot(
            _settings(data_dir, config.database_url),
            token=api.token,
            base_url=api.base_url,
            on_error=handler_errors.append,
            poll_timeout=1,
        )
        start_seconds = time.perf_counter() - started
        application = running.application
        processor = application.update_processor if application else None
        # "1", or how many chats at once (one update at a time within a chat).
        updates_at_a_time = (
            None
            if processor is None
            else str(processor.max_concurrent_updates)
            if processor.max_concurrent_updates == 1
            else f"{getattr(processor, 'max_running', processor.max_concurrent_updates)} chats"
        )
        try:
            result = await _drive(api, config, tag, first_user_id, memory)
        finally:
            await running.stop()
    calls = Counter(method for method, _ in api.requests)
    calls.pop("getUpdates", None)
    registration_seconds = result.pop("registration_seconds")
    completed = result["completed"]
    return {
        "families": config.families,
        "concurrency": config.concurrency,
        "bot_start_seconds": start_seconds,
        "bot_updates_at_a_time": updates_at_a_time,
        **result,
        "registration_seconds": registration_seconds,
        "families_per_minute": completed / registration_seconds * 60,
        "updates_per_second": result["updates_sent"] / registration_seconds,
        "bot_api_calls": dict(calls.most_common()),
        "bot_api_calls_per_second": sum(calls.values()) / registration_seconds,
        "chat_calls_per_family": result["chat_calls"] / config.families,
        "chat_calls_per_second": result["chat_calls"] / registration_seconds,
        "handler_errors": [repr(error) for error in handler_errors[:5]],
        "handler_error_count": len(handler_errors),
        "memory": memory,
    }


async def _drive(
    api: LocalBotApi, config: Config, tag: str, first_user_id: int, memory: dict[str, Any]
) -> dict[str, Any]:
    state = _Run()
    gate = asyncio.Semaphore(config.concurrency)

    async def family(index: int) -> None:
        user = api.user(user_id=first_user_id + index, first_name=f"Familia{index}")
        async with gate:
            state.in_flight += 1
            state.most_in_flight = max(state.most_in_flight, state.in_flight)
            try:
                link = await _register(
                    user, f"familia.{tag}.{index}@gmail.com", state, config.reply_timeout
                )
            except Exception as error:  # a slow machine is reported, not failed on
                state.failures.append(f"family {index}: {error!s:.300}")
                return
            finally:
                state.in_flight -= 1
            if link is None:
                state.failures.append(f"family {index}: no verification link in the chat")
            else:
                state.links[index] = link

    gc.collect()
    memory["rss_before_registrations_mib"] = vm_rss_mib()
    peak_before = vm_hwm_mib()
    memory["peak_reset"] = reset_peak_rss()
    if config.trace_memory:
        tracemalloc.start()
    started = time.perf_counter()
    await asyncio.gather(*(family(i) for i in range(config.families)))
    registration_seconds = time.perf_counter() - started
    # What python-telegram-bot's AIORateLimiter holds to ~30 a second: requests naming a chat.
    chat_calls = sum(1 for m, p in api.requests if m != "getUpdates" and "chat_id" in p)
    memory["rss_after_registrations_mib"] = vm_rss_mib()
    memory["peak_rss_during_registrations_mib"] = vm_hwm_mib()
    if config.trace_memory:
        current, peak = tracemalloc.get_traced_memory()
        memory["tracemalloc_peak_mib"] = peak / 2**20
        memory["tracemalloc_retained_mib"] = current / 2**20
        tracemalloc.stop()

    verify = await _verify(api, state, first_user_id, config) if config.verify_links else {}
    memory["rss_after_verification_mib"] = vm_rss_mib()
    # The process's own peak (VmHWM, per address space). Not ru_maxrss: Linux carries that
    # over exec, so a child started by `python -m bench` would report its parent's peak.
    peaks = [p for p in (peak_before, vm_hwm_mib()) if p is not None]
    memory["process_peak_rss_mib"] = max(peaks) if peaks else None
    everything = [s for values in state.latencies.values() for s in values]
    return {
        "completed": len(state.links),
        "failed": len(state.failures),
        "failures": state.failures[:5],
        "most_families_in_flight": state.most_in_flight,
        "registration_seconds": registration_seconds,
        "updates_sent": state.updates_sent,
        "chat_calls": chat_calls,
        "reply_latency_ms": summary_ms(everything),
        "reply_latency_ms_by_step": {k: summary_ms(v) for k, v in state.latencies.items()},
        "verification": verify,
    }


async def _verify(
    api: LocalBotApi, state: _Run, first_user_id: int, config: Config
) -> dict[str, Any]:
    """Opens every link over HTTP, `concurrency` at a time; also times the chat's notice."""
    page_s: list[float] = []
    notice_s: list[float] = []
    problems: Counter[str] = Counter()
    gate = asyncio.Semaphore(config.concurrency)

    async def open_link(client: httpx.AsyncClient, index: int, link: str) -> None:
        user = api.user(user_id=first_user_id + index)
        async with gate:
            start = time.perf_counter()
            try:
                page = await client.get(link)
            except httpx.HTTPError as error:
                problems[type(error).__name__] += 1
                return
            page_s.append(time.perf_counter() - start)
            if page.status_code != 200 or "correctamente verificada" not in page.text:
                problems[f"HTTP {page.status_code}"] += 1
                return
        try:
            await user.wait_for(_verified, timeout=config.reply_timeout)
        except AssertionError:
            problems["no chat notice"] += 1
            return
        notice_s.append(time.perf_counter() - start)

    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=config.reply_timeout) as client:
        await asyncio.gather(*(open_link(client, i, link) for i, link in state.links.items()))
    seconds = time.perf_counter() - started
    return {
        "links": len(state.links),
        "verified": len(notice_s),
        "problems": dict(problems),
        "seconds": seconds,
        "links_per_second": len(page_s) / seconds if seconds else 0.0,
        "page_latency_ms": summary_ms(page_s),
        "chat_notice_latency_ms": summary_ms(notice_s),
    }


def _verified(message: dict[str, Any]) -> bool:
    return VERIFIED in message.get("text", "")
