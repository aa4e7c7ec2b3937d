"""The services one running bot uses, built once and handed to the conversations."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.accounts import AccountService, PasswordResets
from bot.accounts.sessions import Sessions
from bot.documents import Documents
from bot.inbox import Inbox
from bot.languages import Languages
from bot.mail.outbox import Outbox
from bot.open_questions import OpenQuestions
from bot.privacy import Privacy
from bot.registration import Registrations
from bot.safety.flood import FloodGate
from bot.safety.foreign_chats import ForeignChats
from bot.safety.updates import UpdateLedger
from bot.settings import Settings
from bot.storage import Database
from bot.storage.agreement import SecretAgreement
from bot.storage.turns import ChatTurns
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
    inbox: Inbox
    languages: Languages
    privacy: Privacy
    sessions: Sessions
    tramites: Tramites
    resets: PasswordResets
    questions: OpenQuestions
    turns: ChatTurns
    agreement: SecretAgreement
    # Off unless the root gives one that reads: photos then get the usual "please type".
    documents: Documents = field(default_factory=lambda: Documents(None))
    flood: FloodGate = field(default_factory=FloodGate)
    foreign_chats: ForeignChats = field(default_factory=ForeignChats)

    async def open(self) -> None:
        """Brings the schema to date, and agrees on the secret with the other processes. What
        the services keep in memory about a family is read at each of its updates (refresh)."""
        await self.database.create_schema()
        await self.agreement.join()
        # The OCR's model loads in its worker meanwhile: start-up does not wait for it.
        await self.documents.start()

    async def refresh(self, telegram_user_id: int) -> None:
        """Reads what the services keep in memory about one family, before each of its
        updates: where processes share the database, another may have changed it. One
        transaction for all (on SQLite each takes the write lock)."""
        async with self.database.session() as session:
            await self.registrations.refresh(telegram_user_id, session)
            await self.questions.refresh(telegram_user_id, session)
            await self.tickets.refresh(telegram_user_id, session)
            await self.languages.refresh(telegram_user_id, session)

    async def close(self) -> None:
        await self.documents.close()
        await self.turns.dispose()
        await self.agreement.leave()
        await self.database.dispose()
