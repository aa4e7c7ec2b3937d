"""Storage: the tables, the database and its sessions, the migrations, and owner-only files."""

from bot.storage.database import Database
from bot.storage.models import (
    Account,
    BlockedSender,
    InboxMessage,
    OutboxEmail,
    ProcessedUpdate,
    RegistrationDraft,
    RegistrationStart,
    RelayedMessage,
    TakenAddressSeen,
    Ticket,
    VerificationToken,
    utcnow,
)

__all__ = [
    "Account",
    "BlockedSender",
    "Database",
    "InboxMessage",
    "OutboxEmail",
    "ProcessedUpdate",
    "RegistrationDraft",
    "RegistrationStart",
    "RelayedMessage",
    "TakenAddressSeen",
    "Ticket",
    "VerificationToken",
    "utcnow",
]
