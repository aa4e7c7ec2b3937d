"""The Bandeja de Entrada belongs to an account: its own messages, and, for its owner only, the
person's from before any account; never another account's, even of the same person."""

from __future__ import annotations

from bot.accounts.service import delete_what_refers_to
from bot.inbox import Inbox
from bot.privacy import Privacy
from bot.storage import Account, Database, Holder, InboxKind
from bot.tickets import Tickets
from bot.tramites import Tramites
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


async def answered(tickets: Tickets, text: str, account: Account | None = None) -> None:
    """A question asked while using `account` (or none), answered, and the ticket closed."""
    ticket, _ = await tickets.open_ticket(
        OWNER, OWNER, "María", "es", account.id if account else None
    )
    assert await tickets.record_answer(ticket.number, text) is not None
    await tickets.close(ticket.number, "volunteer")


async def test_each_account_has_its_own_inbox_and_the_persons_early_answers(
    db: Database,
) -> None:
    inbox = Inbox(db, clock=Clock())
    tickets = Tickets(db, clock=Clock())
    first = await saved(db, "primero@example.org")
    second = await saved(db, "segundo@example.org")
    await answered(tickets, "antes de la cuenta")
    await inbox.deliver(first.id or 0, OWNER, InboxKind.LINK_SENT)
    await inbox.deliver(first.id or 0, OWNER, InboxKind.VERIFIED)
    await answered(tickets, "para el segundo", second)

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
    # Someone else logged in to the first account sees the account's own messages only, not
    # what its owner asked before having any account.
    assert [m.kind for m in await inbox.read(Holder.of(first, STRANGER))] == [
        InboxKind.VERIFIED,
        InboxKind.LINK_SENT,
    ]
    # With no account in use, a person sees only what came before any account.
    assert [m.text for m in await inbox.read(Holder.of(None, OWNER))] == ["antes de la cuenta"]
    assert await inbox.count(Holder.of(None, STRANGER)) == 0


async def test_an_answer_goes_to_the_account_it_was_asked_from(db: Database) -> None:
    inbox = Inbox(db, clock=Clock())
    tickets = Tickets(db, clock=Clock())
    account = await saved(db, "pregunta@example.org")
    ticket, _ = await tickets.open_ticket(OWNER, OWNER, "María", "es", account.id)
    # The family uses nothing (or another account) by the time the answer comes.
    await tickets.record_answer(ticket.number, "respuesta")
    assert [m.text for m in await inbox.read(Holder.of(account, STRANGER))] == ["respuesta"]
    assert await inbox.count(Holder.of(None, OWNER)) == 0


async def test_the_home_counts_what_was_not_read_yet(db: Database) -> None:
    inbox = Inbox(db, clock=Clock())
    tickets = Tickets(db, clock=Clock())
    account = await saved(db, "leido@example.org")
    holder = Holder.of(account, OWNER)
    await inbox.deliver(account.id or 0, OWNER, InboxKind.VERIFIED, read=True)
    await inbox.deliver(account.id or 0, OWNER, InboxKind.REMINDER)
    await answered(tickets, "respuesta", account)
    assert (await inbox.count(holder, unread=True), await inbox.count(holder)) == (2, 3)
    assert len(await inbox.read(holder, limit=1)) == 1  # the newest only
    assert await inbox.count(holder, unread=True) == 1
    await inbox.read(holder)
    assert (await inbox.count(holder, unread=True), await inbox.count(holder)) == (0, 3)


async def test_an_account_deleted_gives_answers_and_checklists_back_to_its_person(
    db: Database,
) -> None:
    inbox = Inbox(db, clock=Clock())
    tickets = Tickets(db, clock=Clock())
    tramites = Tramites(db)
    account = await saved(db, "sin.validar@example.org")
    await inbox.deliver(account.id or 0, OWNER, InboxKind.REMINDER)
    await answered(tickets, "cómo validar el correo", account)
    await tramites.start(Holder.of(account, OWNER), "permanencia")
    async with db.session() as session:  # what deleting a never-verified account does
        await delete_what_refers_to(session, [account.id or 0])
        await session.delete(await session.get(Account, account.id))
        await session.commit()
    assert [m.text for m in await inbox.read(Holder.of(None, OWNER))] == ["cómo validar el correo"]
    assert len(await tramites.of(Holder.of(None, OWNER))) == 1
    # News for the account that is gone is not kept anywhere, and does not raise.
    await inbox.deliver(account.id or 0, OWNER, InboxKind.REMINDER)
    assert await inbox.count(Holder.of(None, OWNER)) == 1


async def test_a_helpers_erasure_leaves_the_familys_checklist_and_answers(db: Database) -> None:
    tramites = Tramites(db)
    tickets = Tickets(db, clock=Clock())
    account = await saved(db, "familia@example.org")
    helper_view = Holder.of(account, STRANGER)
    checklist = await tramites.start(helper_view, "permanencia")
    assert checklist is not None
    await answered(tickets, "respuesta a la familia", account)
    await Privacy(db).erase(STRANGER)
    assert [c.id for c in await tramites.of(Holder.of(account, OWNER))] == [checklist.id]
    assert await Inbox(db).count(Holder.of(account, OWNER)) == 1


async def test_an_answer_to_a_ticket_closed_meanwhile_is_not_kept(db: Database) -> None:
    tickets = Tickets(db, clock=Clock())
    ticket, _ = await tickets.open_ticket(OWNER, OWNER, "María", "es")
    await Privacy(db).erase(OWNER)  # closes the ticket, and it no longer says whose it was
    assert await tickets.record_answer(ticket.number, "tarde") is None
    assert await Inbox(db).count(Holder.of(None, OWNER)) == 0
