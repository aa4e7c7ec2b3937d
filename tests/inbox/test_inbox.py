"""The Bandeja de Entrada belongs to an account: its own messages, and the person's from before
any account; never another account's, even of the same person."""

from __future__ import annotations

from bot.inbox import Inbox
from bot.storage import Account, Database, Holder, InboxKind
from bot.tickets import Tickets
from tests.support.data import Clock, an_account

OWNER = 42  # an_account's telegram_user_id
STRANGER = 77


async def saved(db: Database, email: str) -> Account:
    async with db.session() as session:
        account = an_account(email)
        session.add(account)
        await session.commit()
        await session.refresh(account)
        return account


async def test_each_account_has_its_own_inbox_and_the_persons_early_answers(
    db: Database,
) -> None:
    inbox = Inbox(db, clock=Clock())
    tickets = Tickets(db, clock=Clock())
    first = await saved(db, "primero@example.org")
    second = await saved(db, "segundo@example.org")
    ticket, _ = await tickets.open_ticket(OWNER, OWNER, "María", "es")
    await tickets.record_answer(ticket.number, "antes de la cuenta")  # no account in use
    await inbox.deliver(first.id or 0, OWNER, InboxKind.LINK_SENT)
    await inbox.deliver(first.id or 0, OWNER, InboxKind.VERIFIED)
    await tickets.record_answer(ticket.number, "para el segundo", second.id)

    of_first = await inbox.read(Holder.of(first, OWNER))
    assert [(m.kind, m.text) for m in of_first] == [
        (InboxKind.VERIFIED, ""),
        (InboxKind.LINK_SENT, ""),
        (InboxKind.ANSWER, "antes de la cuenta"),
    ]
    assert [m.text for m in await inbox.read(Holder.of(second, OWNER))] == [
        "para el segundo",
        "antes de la cuenta",
    ]
    # Someone else logged in to the first account sees the account's, not the owner's others.
    assert await inbox.count(Holder.of(first, STRANGER)) == 3
    # With no account in use, a person sees only what came before any account.
    assert [m.text for m in await inbox.read(Holder(OWNER))] == ["antes de la cuenta"]
    assert await inbox.count(Holder(STRANGER)) == 0


async def test_the_home_counts_what_was_not_read_yet(db: Database) -> None:
    inbox = Inbox(db, clock=Clock())
    tickets = Tickets(db, clock=Clock())
    account = await saved(db, "leido@example.org")
    holder = Holder.of(account, OWNER)
    await inbox.deliver(account.id or 0, OWNER, InboxKind.VERIFIED, read=True)
    await inbox.deliver(account.id or 0, OWNER, InboxKind.REMINDER)
    ticket, _ = await tickets.open_ticket(OWNER, OWNER, "María", "es")
    await tickets.record_answer(ticket.number, "respuesta", account.id)
    assert (await inbox.count(holder, unread=True), await inbox.count(holder)) == (2, 3)
    assert len(await inbox.read(holder, limit=1)) == 1  # the newest only
    assert await inbox.count(holder, unread=True) == 1
    await inbox.read(holder)
    assert (await inbox.count(holder, unread=True), await inbox.count(holder)) == (0, 3)
