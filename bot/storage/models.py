"""The SQLModel tables: what the bot keeps, row by row."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from pydantic import NaiveDatetime
from sqlalchemy import JSON, BigInteger, Column, UniqueConstraint
from sqlmodel import Field, SQLModel


class TicketStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class ClosedBy(StrEnum):
    FAMILY = "family"
    VOLUNTEER = "volunteer"


class RelayDirection(StrEnum):
    """Which way a message of the volunteers' group went: a family's question, or an answer."""

    TO_GROUP = "to_group"
    TO_FAMILY = "to_family"


class EmailStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class EmailKind(StrEnum):
    VERIFICATION = "verification"
    PASSWORD_RESET = "password_reset"


class InboxKind(StrEnum):
    """What a Bandeja de Entrada message is: a volunteer's answer, or news from the bot."""

    ANSWER = "answer"
    LINK_SENT = "link_sent"
    VERIFIED = "verified"
    REMINDER = "reminder"
    PASSWORD_CHANGED = "password_changed"


def utcnow() -> datetime:
    # Stored without a time zone on both databases (NaiveDatetime); every timestamp is UTC.
    return datetime.now(UTC).replace(tzinfo=None)


class Account(SQLModel, table=True):
    """An account on the portal, with the child's data as written on the child's document."""

    id: int | None = Field(default=None, primary_key=True)
    # Normalised (lower case); unique in the database itself, so two registrations of one
    # address at the same moment cannot both succeed.
    email: str = Field(max_length=320, unique=True, index=True)
    first_names: str = Field(max_length=100)
    father_surname: str = Field(max_length=100)
    mother_surname: str = Field(default="", max_length=100)
    birth_date: date
    country_code: str = Field(max_length=2)
    password_hash: str = Field(max_length=255)
    telegram_user_id: int = Field(sa_column=Column(BigInteger, index=True, nullable=False))
    telegram_chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    locale: str = Field(default="es", max_length=16)
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    verified_at: NaiveDatetime | None = None
    # Set when the family was told that this account, never verified, will be deleted (once).
    deletion_warned_at: NaiveDatetime | None = None
    # Set when the family was reminded, once, to open the verification link.
    reminded_at: NaiveDatetime | None = None


class VerificationToken(SQLModel, table=True):
    """A verification link's token, kept only as its SHA-256 hash."""

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    expires_at: NaiveDatetime
    used_at: NaiveDatetime | None = None
    # Set when a newer link replaces this one (/reenviar); kept to count resends per hour.
    revoked_at: NaiveDatetime | None = None


class PasswordResetToken(SQLModel, table=True):
    """A password reset link's token ("¿Olvidaste tu contraseña?"), kept only as its SHA-256
    hash; it works once, for a short while, and only while it is the account's newest."""

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    expires_at: NaiveDatetime
    used_at: NaiveDatetime | None = None
    # Set when a newer request replaces this link; kept to count requests per hour.
    revoked_at: NaiveDatetime | None = None
    # Who asked for it (a Telegram user), to count one person's requests across accounts.
    requested_by: int | None = Field(default=None, sa_column=Column(BigInteger, index=True))


class RegistrationDraft(SQLModel, table=True):
    """A registration in progress: one per Telegram user, answers kept as they are acknowledged.

    `answers` maps a form field's key to its stored value; a password is stored only as its
    Argon2id hash, and a confirmation only as `true`.
    """

    telegram_user_id: int = Field(sa_column=Column(BigInteger, primary_key=True))
    telegram_chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    locale: str = Field(default="es", max_length=16)
    step: str = Field(max_length=40)
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Values of the buttons offered with the current question (suggestions, quick answers),
    # so that a button press is understood even after a restart.
    # [label, value] of each button offered at the current question.
    choices: list[list[str]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    human_checked: bool = False
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    updated_at: NaiveDatetime = Field(default_factory=utcnow)
    # Set when the draft was left unfinished too long: its answers are gone, and the row stays
    # only until the family is told, the next time it writes.
    expired_at: NaiveDatetime | None = None
    # Set when the family was reminded, once, to finish it.
    reminded_at: NaiveDatetime | None = None


class OutboxEmail(SQLModel, table=True):
    """An e-mail to send, written in the same transaction as what it is about.

    An e-mail with a link (verification, password reset) keeps its link's token only sealed
    (encrypted with the bot's secret key), never in plaintext, and not at all once the e-mail
    is sent or given up on.
    """

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)  # EmailKind
    account_id: int = Field(foreign_key="account.id", index=True)
    recipient: str = Field(max_length=320)
    locale: str = Field(default="es", max_length=16)
    sealed_token: str | None = Field(default=None, max_length=512)
    status: str = Field(default=EmailStatus.PENDING, max_length=16, index=True)  # EmailStatus
    attempts: int = 0
    next_attempt_at: NaiveDatetime = Field(default_factory=utcnow, index=True)
    last_error: str | None = Field(default=None, max_length=1000)
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    sent_at: NaiveDatetime | None = None


class ProcessedUpdate(SQLModel, table=True):
    """Telegram update ids already handled: a redelivered update is handled once."""

    update_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    processed_at: NaiveDatetime = Field(default_factory=utcnow, index=True)
    # Set when its handling ended, where processes share the database (PostgreSQL): a
    # redelivered update without it was cut short by a process that died while handling it.
    finished_at: NaiveDatetime | None = None


class SealCheck(SQLModel, table=True):
    """What the secret that seals the outbox's tokens makes, which tells nothing of it: every
    process of one database must have the same (bot/storage/agreement.py)."""

    id: int = Field(default=1, primary_key=True)
    fingerprint: str = Field(max_length=64)


class OpenQuestion(SQLModel, table=True):
    """A question the bot asked a chat outside the registration (the login's address, then its
    password; the reset's address), awaiting its answer: in the database, so that whichever
    process takes the next message knows what it answers."""

    telegram_user_id: int = Field(
        sa_column=Column(BigInteger, primary_key=True, autoincrement=False)
    )
    # Which conversation asked ("login", "recovery"): one open question of each at a time.
    conversation: str = Field(primary_key=True, max_length=32)
    telegram_chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    state: str = Field(max_length=32)
    # What the next step needs of this one: the login's e-mail address until the password.
    value: str | None = Field(default=None, max_length=320)
    # The answer awaited is a password: whatever else would take the message must not pass it on.
    secret: bool = False
    # A question left unanswered this long is dropped: a text written much later is no answer.
    expires_at: NaiveDatetime = Field(index=True)


class Ticket(SQLModel, table=True):
    """A family's question to the volunteers; at most one open per Telegram user."""

    id: int | None = Field(default=None, primary_key=True)
    telegram_user_id: int = Field(sa_column=Column(BigInteger, index=True, nullable=False))
    telegram_chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    first_name: str = Field(default="", max_length=100)
    locale: str = Field(default="es", max_length=16)
    status: str = Field(default=TicketStatus.OPEN, max_length=16, index=True)  # TicketStatus
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    first_answer_at: NaiveDatetime | None = None
    closed_at: NaiveDatetime | None = None
    closed_by: str | None = Field(default=None, max_length=16)  # family, volunteer
    # The forum topic (message_thread_id) of the volunteers' group given to this ticket.
    topic_id: int | None = Field(default=None, sa_column=Column(BigInteger, index=True))
    # The group that topic is in: a topic number means nothing in another group.
    topic_chat_id: int | None = Field(default=None, sa_column=Column(BigInteger))
    # Set when an unanswered ticket was raised again in the group (once).
    reminded_at: NaiveDatetime | None = None
    helped: bool | None = None
    # The account the family was using when it asked: its answers go to that account's
    # Bandeja de Entrada, whatever the family uses when the answer comes. No foreign key, so
    # that SQLite can add the column in place (rebuilding `ticket` would break the keys that
    # point to it); deleting an account clears it (bot.accounts.service.delete_what_refers_to).
    account_id: int | None = None

    @property
    def number(self) -> int:
        """The ticket's number, as families and volunteers see it: its id, once saved."""
        if self.id is None:
            raise ValueError("a ticket not saved yet has no number")
        return self.id


class RelayedMessage(SQLModel, table=True):
    """A message of the volunteers' group that belongs to a ticket (so a reply finds it)."""

    __table_args__ = (UniqueConstraint("group_chat_id", "group_message_id"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    group_chat_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    group_message_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    direction: str = Field(max_length=16)  # to_group, to_family
    created_at: NaiveDatetime = Field(default_factory=utcnow)


class InboxMessage(SQLModel, table=True):
    """A message kept in an account's "Bandeja de Entrada": a volunteer's answer (its text), or
    one of the bot's own (its kind only, worded in the reader's language when shown)."""

    id: int | None = Field(default=None, primary_key=True)
    # Whose Telegram chat it went to; with no account (a question asked before the account
    # was made) it is that person's.
    telegram_user_id: int = Field(sa_column=Column(BigInteger, index=True, nullable=False))
    account_id: int | None = Field(default=None, foreign_key="account.id", index=True)
    kind: str = Field(default=InboxKind.ANSWER, max_length=24)  # InboxKind
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")
    text: str = Field(default="", max_length=4096)
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    # When the family read it: the home's "Bandeja de Entrada (n)" counts the unread ones, as
    # the portal's does (a new account's reads "(0)").
    read_at: NaiveDatetime | None = None


class BlockedSender(SQLModel, table=True):
    """A Telegram user whose messages are no longer relayed to the volunteers."""

    telegram_user_id: int = Field(
        sa_column=Column(BigInteger, primary_key=True, autoincrement=False)
    )
    blocked_at: NaiveDatetime = Field(default_factory=utcnow)


class RegistrationStart(SQLModel, table=True):
    """One row each time a family starts a new registration ("accounts started")."""

    id: int | None = Field(default=None, primary_key=True)
    telegram_user_id: int = Field(sa_column=Column(BigInteger, index=True, nullable=False))
    started_at: NaiveDatetime = Field(default_factory=utcnow, index=True)


class TakenAddressSeen(SQLModel, table=True):
    """A Telegram user met an address that already has an account. Past a few in a day, it is no
    longer told which addresses have one. Kept a day, and only as a hash of the address."""

    id: int | None = Field(default=None, primary_key=True)
    telegram_user_id: int = Field(sa_column=Column(BigInteger, index=True, nullable=False))
    email_hash: str = Field(max_length=64)
    seen_at: NaiveDatetime = Field(default_factory=utcnow, index=True)


class FamilyLanguage(SQLModel, table=True):
    """The language a Telegram user chose to be spoken to in (/idioma, or the first /start)."""

    telegram_user_id: int = Field(
        sa_column=Column(BigInteger, primary_key=True, autoincrement=False)
    )
    locale: str = Field(max_length=16)
    chosen_at: NaiveDatetime = Field(default_factory=utcnow)


class PrivacyConsent(SQLModel, table=True):
    """When a Telegram user accepted the privacy notice (before its first registration)."""

    telegram_user_id: int = Field(
        sa_column=Column(BigInteger, primary_key=True, autoincrement=False)
    )
    accepted_at: NaiveDatetime = Field(default_factory=utcnow)


class DeletedAccount(SQLModel, table=True):
    """What stays of an account its family deleted: two dates for the statistics, nothing
    that identifies anyone."""

    id: int | None = Field(default=None, primary_key=True)
    created_at: NaiveDatetime
    verified_at: NaiveDatetime | None = None


class AccountSession(SQLModel, table=True):
    """A Telegram user logged in to an account (/ingresar), until it ends or expires."""

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    telegram_user_id: int = Field(sa_column=Column(BigInteger, index=True, nullable=False))
    created_at: NaiveDatetime = Field(default_factory=utcnow)
    expires_at: NaiveDatetime
    ended_at: NaiveDatetime | None = None


class LoginFailure(SQLModel, table=True):
    """A failed /ingresar: counted per address (whether it has an account or not, so that the
    lock tells nothing) and per chat."""

    id: int | None = Field(default=None, primary_key=True)
    # The address's hash (bot.accounts.tokens.hash_address): never the address itself.
    address_hash: str = Field(max_length=64, index=True)
    telegram_chat_id: int = Field(sa_column=Column(BigInteger, index=True, nullable=False))
    failed_at: NaiveDatetime = Field(default_factory=utcnow, index=True)


class TramiteChecklist(SQLModel, table=True):
    """A trámite started on an account (Historial de Trámites): the documents gathered."""

    id: int | None = Field(default=None, primary_key=True)
    # The account's owner (or the person, before any account), and the account when one was
    # in use (see bot.storage.holders).
    telegram_user_id: int = Field(sa_column=Column(BigInteger, index=True, nullable=False))
    account_id: int | None = Field(default=None, foreign_key="account.id", index=True)
    tramite: str = Field(max_length=40)
    # Indexes of the trámite's documents already gathered.
    gathered: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    started_at: NaiveDatetime = Field(default_factory=utcnow)
