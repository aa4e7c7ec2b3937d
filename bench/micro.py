"""The pure validators, timed with perf_counter in this process."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from bot.registration.countries import find_country
from bot.registration.validation import validate_birth_date, validate_email, validate_name

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
