"""The services one running bot uses, built once and handed to the conversations."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.accounts import AccountService
from bot.flood import FloodGate
from bot.foreign_chats import ForeignChats
from bot.outbox import Outbox
from bot.registration import Registrations
from bot.settings import Settings
from bot.storage import Database
from bot.tickets import Tickets
from bot.updates import UpdateLedger


@dataclass
class Services:
    settings: Settings
    database: Database
    accounts: AccountService
    registrations: Registrations
    outbox: Outbox
    updates: UpdateLedger
    tickets: Tickets
    flood: FloodGate = field(default_factory=FloodGate)
    foreign_chats: ForeignChats = field(default_factory=ForeignChats)
    # Families whose unfinished draft expired and who have not been told yet.
    expired_drafts: set[int] = field(default_factory=set)
    # Families with an open ticket: their messages go to the volunteers (checked per message,
    # so kept in memory; loaded from the database at start-up).
    open_tickets: set[int] = field(default_factory=set)
