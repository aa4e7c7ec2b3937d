"""Parts 1 and 2: the pure validators and Argon2id, timed with perf_counter in this process."""

from __future__ import annotations

import asyncio
import os
import statistics
import time
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from argon2 import PasswordHasher

from bot.accounts import PasswordHashing
from bot.registration.countries import find_country
from bot.registration.validation import validate_birth_date, validate_email, validate_name

PASSWORD = "Clave-Secreta-2024"

NAMES = ("María José", "Pérez", "Jean-Baptiste", "D'Angelo", "Nguyễn Thị Minh", "Al Amin")
DATES = ("23-04-2015", "5/7/2014", "01.01.2010", "31-12-2019", "29-02-2016")
EMAILS = (
    "familia.perez@gmail.com",
    "rose.perez@hotmail.com",
    "jean.baptiste@yahoo.es",
    "ana.ruiz@outlook.com",
)
MISSPELT_EMAILS = ("rose.perez@gmial.com", "ana.ruiz@hotmial.com", "jean@gmail.con")
COUNTRIES = ("Haití", "Venezuela", "Perú", "Colombia", "Bolivia", "República Dominicana")
MISSPELT_COUNTRIES = ("Hiati", "Colonbia", "Boliva", "Venesuela", "Ecudor", "Argentna")


def _best_rate(call: Callable[[str], Any], inputs: Sequence[str], seconds: float) -> dict:
    """Calls per second: loops grow until one batch takes seconds/4, then the best of 3 batches
    (the least disturbed by the rest of the machine, as `timeit` reports)."""

    def batch(loops: int) -> float:
        start = time.perf_counter()
        for _ in range(loops):
            for text in inputs:
                call(text)
        return time.perf_counter() - start

    loops = 1
    while (elapsed := batch(loops)) < seconds / 4:
        loops = max(loops * 2, int(loops * seconds / 4 / max(elapsed, 1e-9)))
    times = [batch(loops) for _ in range(3)]
    calls = loops * len(inputs)
    best = min(times)
    return {
        "calls_per_second": calls / best,
        "microseconds_per_call": best / calls * 1e6,
        "calls_timed": calls * 3,
        "outcome": type(call(inputs[0])).__name__,
    }


def validators(seconds: float) -> dict[str, dict]:
    """Calls per second of each pure check, on realistic answers."""
    today = date.today()
    first_country_call = time.perf_counter()
    find_country("Haití")  # builds (and caches) the country index: paid once per process
    first_country_call = time.perf_counter() - first_country_call
    cases: dict[str, tuple[Callable[[str], Any], Sequence[str]]] = {
        "validate_name": (validate_name, NAMES),
        "validate_birth_date": (lambda text: validate_birth_date(text, today=today), DATES),
        "validate_email": (validate_email, EMAILS),
        "validate_email, misspelt domain": (validate_email, MISSPELT_EMAILS),
        "find_country, exact name": (find_country, COUNTRIES),
        "find_country, misspelt (rapidfuzz)": (find_country, MISSPELT_COUNTRIES),
    }
    results = {name: _best_rate(call, inputs, seconds) for name, (call, inputs) in cases.items()}
    results["find_country, exact name"]["first_call_ms"] = first_country_call * 1000
    return results


def _timed(call: Callable[[], Any], times: int) -> list[float]:
    durations = []
    for _ in range(times):
        start = time.perf_counter()
        call()
        durations.append(time.perf_counter() - start)
    return durations


def default_executor_workers() -> int:
    # What asyncio.to_thread gets: the loop's default ThreadPoolExecutor, whose documented
    # size is min(32, CPUs + 4).
    return min(32, (os.cpu_count() or 1) + 4)


async def _hashes_per_second(concurrency: int, total: int) -> float:
    hashing = PasswordHashing()
    queue = iter(range(total))

    async def worker() -> None:
        for _ in queue:
            await hashing.hash(PASSWORD)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return total / (time.perf_counter() - start)


def argon2(repeats: int, concurrency: int) -> dict:
    """Time per hash and per verify, and hashes per second through asyncio.to_thread."""
    hasher = PasswordHasher()
    stored = hasher.hash(PASSWORD)  # also warms the library up
    cpu_start = os.times()
    hash_s = _timed(lambda: hasher.hash(PASSWORD), repeats)
    cpu_end = os.times()
    hash_cpu = (cpu_end.user - cpu_start.user + cpu_end.system - cpu_start.system) / repeats
    verify_s = _timed(lambda: hasher.verify(stored, PASSWORD), repeats)

    cpus = os.cpu_count() or 1
    threaded = {}
    for level in sorted({1, cpus, concurrency}):
        total = max(level * repeats // 2, 2 * level, 4)
        threaded[str(level)] = asyncio.run(_hashes_per_second(level, total))
    hash_ms = statistics.median(hash_s) * 1000
    verify_ms = statistics.median(verify_s) * 1000
    best_parallel = max(threaded.values())
    return {
        "parameters": {
            "time_cost": hasher.time_cost,
            "memory_cost_kib": hasher.memory_cost,
            "parallelism": hasher.parallelism,
        },
        "hash_ms": {"median": hash_ms, "min": min(hash_s) * 1000, "count": repeats},
        "verify_ms": {"median": verify_ms, "min": min(verify_s) * 1000, "count": repeats},
        # libargon2 runs its lanes (parallelism) on threads: one hash may keep >1 core busy.
        "cpu_seconds_per_hash": hash_cpu,
        "to_thread_workers": default_executor_workers(),
        "hashes_per_second_by_concurrency": threaded,
        # A registration hashes the password once (step 8) and verifies it once (step 9).
        "registrations_per_second_one_at_a_time": 1000 / (hash_ms + verify_ms),
        "registrations_per_second_all_threads": best_parallel / 2,
    }
