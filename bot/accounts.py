"""Accounts: creating one from a finished registration, and verifying it through its link."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class VerifyStatus(enum.Enum):
    VERIFIED = "verified"  # this opening verified the account
    ALREADY_VERIFIED = "already_verified"  # the link was used before; the account is verified
    UNKNOWN = "unknown"  # no such token (mistyped, or replaced by a newer link)
    EXPIRED = "expired"  # the token existed but its time ran out


@dataclass(frozen=True)
class VerifyOutcome:
    status: VerifyStatus
    # Who to tell in the chat; set when status is VERIFIED or ALREADY_VERIFIED.
    telegram_chat_id: int | None = None
    first_name: str | None = None
    locale: str = "es"
