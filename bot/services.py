"""The services one running bot uses, built once and handed to the conversations."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection

from bot.accounts import AccountService, CreatedAccount, PasswordResets
from bot.accounts.sessions import Sessions
from bot.documents import Documents
from bot.inbox import Inbox
from bot.languages import Languages
from bot.mail.outbox import Outbox
from bot.open_questions import Asked, OpenQuestions
from bot.privacy import Privacy
from bot.registration import Registrations
from bot.registration.drafts import DraftRead
from bot.safety.flood import FloodGate
from bot.safety.foreign_chats import ForeignChats
from bot.safety.updates import Seen, UpdateLedger
from bot.settings import Settings
from bot.storage import Account, Database, InboxKind, RegistrationDraft
from bot.storage.agreement import SecretAgreement
from bot.storage.turns import ChatTurns
from bot.tickets import Tickets
from bot.tramites import Tramites


@dataclass(frozen=True)
class FamilyRead:
    """What the services keep in memory about one family, as read in one transaction."""

    draft: DraftRead
    asked: dict[str, Asked]
    ticket_open: bool
    locale: str | None


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

    def read_family(self, connection: Connection, telegram_user_id: int) -> FamilyRead:
        """What the services keep in memory about one family, as statements of the caller's
        transaction (see `Database.run`): read before each of its updates, since where
        processes share the database another may have changed it. `note_family` keeps it."""
        return FamilyRead(
            self.registrations.read(connection, telegram_user_id),
            self.questions.read(connection, telegram_user_id),
            self.tickets.read_open(connection, telegram_user_id),
            self.languages.read(connection, telegram_user_id),
        )

    def note_family(self, telegram_user_id: int, read: FamilyRead) -> None:
        # On the event loop, where the services' memory is used; `read_family` may run in a
        # worker thread.
        self.registrations.note(telegram_user_id, read.draft)
        self.questions.note(telegram_user_id, read.asked)
        self.tickets.note_open(telegram_user_id, read.ticket_open)
        self.languages.note(telegram_user_id, read.locale)

    def arrive(
        self, connection: Connection, update_id: int, telegram_user_id: int | None
    ) -> tuple[Seen, FamilyRead | None]:
        """An update's first transaction, committed before it is handled: its entry in the
        ledger, and what is kept about its family (when it has a user)."""
        seen = self.updates.record(connection, update_id)
        if telegram_user_id is None:
            return seen, None
        return seen, self.read_family(connection, telegram_user_id)

    async def create_account(self, draft: RegistrationDraft) -> CreatedAccount:
        """The account from a finished draft (Registrations.create_account), and, in the same
        transaction, the inbox's "link sent", which the family reads in the chat at once."""

        def link_sent(connection: Connection, account: Account) -> None:
            if account.id is not None:
                self.inbox.deliver_in(
                    connection, account.id, account.telegram_user_id, InboxKind.LINK_SENT, read=True
                )

        return await self.registrations.create_account(draft, alongside=link_sent)

    async def refresh(self, telegram_user_id: int) -> None:
        """`read_family` in a transaction of its own, then kept: before the bot's own news
        about a family (an update from Telegram reads it with its ledger entry, `arrive`)."""
        read = await self.database.run(
            lambda connection: self.read_family(connection, telegram_user_id)
        )
        self.note_family(telegram_user_id, read)

    async def close(self) -> None:
        await self.documents.close()
        await self.turns.dispose()
        await self.agreement.leave()
        await self.database.dispose()
