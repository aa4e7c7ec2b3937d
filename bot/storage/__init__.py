"""Storage: the tables, the database and its sessions, the migrations, and owner-only files."""

from bot.storage.database import Database
from bot.storage.models import (
    Account,
    BlockedSender,
    ClosedBy,
    EmailKind,
    EmailStatus,
    InboxMessage,
    OutboxEmail,
    ProcessedUpdate,
    RegistrationDraft,
    RegistrationStart,
    RelayDirection,
    RelayedMessage,
    TakenAddressSeen,
    Ticket,
    TicketStatus,
    VerificationToken,
    utcnow,
)

__all__ = [
    "Account",
    "BlockedSender",
    "ClosedBy",
    "Database",
    "EmailKind",
    "EmailStatus",
    "InboxMessage",
    "OutboxEmail",
    "ProcessedUpdate",
    "RegistrationDraft",
    "RegistrationStart",
    "RelayDirection",
    "RelayedMessage",
    "TakenAddressSeen",
    "Ticket",
    "TicketStatus",
    "VerificationToken",
    "utcnow",
]
