"""Rows and clocks the service tests share."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from bot.storage import Account

START = datetime(2026, 11, 27, 12, 0, 0)


class Clock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def an_account(email: str = "maria@example.org") -> Account:
    return Account(
        email=email,
        first_names="María",
        father_surname="Pérez",
        birth_date=date(2015, 3, 9),
        country_code="VE",
        password_hash="$argon2id$...",
        telegram_user_id=42,
        telegram_chat_id=5_000_000_042,
    )
