"""The services one running bot uses, built once and handed to the conversations."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.accounts import AccountService, PasswordResets
from bot.accounts.sessions import Sessions
from bot.documents import Documents
from bot.languages import Languages
from bot.mail.outbox import Outbox
from bot.privacy import Privacy
from bot.registration import Registrations
from bot.safety.flood import FloodGate
from bot.safety.foreign_chats import ForeignChats
from bot.safety.updates import UpdateLedger
from bot.settings import Settings
from bot.storage import Database
from bot.tickets import Tickets
from bot.tramites import Tramites


@dataclass
class Services:
    settings: Settings
    database: Database
    accounts: AccountService
    registrations: Registrations
    outbox: Outbox
    updates: UpdateLedger
    tickets: Tickets
    languages: Languages
    privacy: Privacy
    sessions: Sessions
    tramites: Tramites
    resets: PasswordResets
    # Off unless the root gives one that reads: photos then get the usual "please type".
    documents: Documents = field(default_factory=lambda: Documents(None))
    flood: FloodGate = field(default_factory=FloodGate)
    foreign_chats: ForeignChats = field(default_factory=ForeignChats)

    async def open(self) -> None:
        """Brings the schema to date, then reads what the services keep in memory."""
        await self.database.create_schema()
        await self.registrations.load_expired()
        await self.tickets.load_open()
        await self.languages.load()
        # The OCR's model loads in its worker meanwhile: start-up does not wait for it.
        await self.documents.start()

    async def close(self) -> None:
        await self.documents.close()
        await self.database.dispose()
