"""Drafts: a family's registration in progress, in the database, and what an answer, a button
or a change does to it. Every acknowledged answer is here before the family sees the next
question."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, bindparam, delete, insert, update
from sqlmodel import SQLModel, col, select

from bot.accounts import AccountService, CreatedAccount, EmailTaken, NewAccount
from bot.documents import Stated
from bot.registration.form import (
    DOCUMENT_FIELDS,
    FIELDS,
    FIELDS_BY_KEY,
    SUMMARY,
    SUMMARY_KEYS,
    TOO_LONG,
    FormContext,
    FormField,
    answered_labels,
    next_step,
    takes_document,
)
from bot.registration.results import Invalid, Result, Suggestion, Valid
from bot.registration.validation import MAX_TEXT_LENGTH
from bot.storage import (
    Account,
    Database,
    RegistrationDraft,
    RegistrationStart,
    inserted_values,
    utcnow,
)

# The draft's columns an answer may change: all but the key. As an ORM merge would write them,
# in one UPDATE by the key, without reading the row first: the caller holds it.
_DRAFTS: Table = RegistrationDraft.__table__  # type: ignore[attr-defined]
_WRITTEN = tuple(c.name for c in _DRAFTS.columns if c.name != "telegram_user_id")
# Read and written at every update: built once, so each only binds its values.
_READ = _DRAFTS.select().where(_DRAFTS.c.telegram_user_id == bindparam("user"))
_WRITE = update(_DRAFTS).where(_DRAFTS.c.telegram_user_id == bindparam("user"))
_DELETE = delete(_DRAFTS).where(_DRAFTS.c.telegram_user_id == bindparam("user"))


@dataclass(frozen=True)
class DraftRead:
    """A family's draft row as read in some transaction (None: there is none), expired or not:
    for `current` and `begin` to use instead of reading it again."""

    draft: RegistrationDraft | None


class Registrations:
    """Drafts in the database, and what an answer does to one."""

    def __init__(
        self,
        database: Database,
        accounts: AccountService,
        *,
        check_deliverability: bool = False,
        today: Callable[[], date] = date.today,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._clock = clock
        self._db = database
        self._accounts = accounts
        self._check_deliverability = check_deliverability
        self._today = today
        # Families whose draft expired and who have not been told yet, as `note` was told.
        self._expired: set[int] = set()
        # Where each family that wrote lately stands: (chat, step), as `note` was told.
        self._standing: dict[int, tuple[int, str]] = {}

    def read(self, connection: Connection, telegram_user_id: int) -> DraftRead:
        """The family's draft row, as a statement of the caller's transaction (see
        `Database.run`): a Core SELECT by the key."""
        row = connection.execute(_READ, {"user": telegram_user_id}).first()
        return DraftRead(None if row is None else RegistrationDraft(**row._mapping))

    async def current(
        self, telegram_user_id: int, *, read: DraftRead | None = None
    ) -> RegistrationDraft | None:
        """The family's registration in progress; an expired one does not count. `read`: the
        row as this update already read it (see `read`), so as not to read it twice.

        A draft always stands at its first missing field (or the check, or the summary). One
        that does not, because the form changed since it was saved, is moved there."""
        if read is None:
            read = await self._db.run(lambda connection: self.read(connection, telegram_user_id))
        draft = read.draft
        if draft is None or draft.expired_at is not None:
            return None
        known = {k: v for k, v in draft.answers.items() if k in FIELDS_BY_KEY}
        if known != draft.answers or draft.step != next_step(draft):
            draft.answers = known
            self._move_to(draft, next_step(draft))
            await self._save(draft)
        return draft

    async def expire_unfinished(self, older_than: timedelta) -> list[int]:
        """Forgets the answers of drafts untouched for `older_than`; returns their users' ids.

        The emptied row stays as a marker, so the family can be told the next time it writes.
        """
        now = utcnow()
        async with self._db.session() as session:
            found = await session.exec(
                select(RegistrationDraft)
                .where(col(RegistrationDraft.expired_at).is_(None))
                .where(col(RegistrationDraft.updated_at) < now - older_than)
            )
            expired = list(found.all())
            for draft in expired:
                draft.answers, draft.choices, draft.expired_at = {}, [], now
                session.add(draft)
            await session.commit()
        self._expired |= {draft.telegram_user_id for draft in expired}
        return [draft.telegram_user_id for draft in expired]

    @staticmethod
    def password_hash(draft: RegistrationDraft) -> str | None:
        """The hash of the password the draft holds, once the family gave one."""
        for form_field in FIELDS:
            value = draft.answers.get(form_field.key)
            if form_field.secret and form_field.confirms is None and isinstance(value, str):
                return value
        return None

    async def remind_unfinished(self, after: timedelta) -> list[RegistrationDraft]:
        """The drafts untouched for `after`, not yet reminded, each marked as reminded: each is
        returned once, to be told once."""
        now = self._clock()
        async with self._db.session() as session:
            found = await session.exec(
                select(RegistrationDraft)
                .where(col(RegistrationDraft.expired_at).is_(None))
                .where(col(RegistrationDraft.reminded_at).is_(None))
                .where(col(RegistrationDraft.updated_at) <= now - after)
            )
            reminded = []
            for draft in found.all():
                marked = await session.exec(
                    update(RegistrationDraft)
                    .where(col(RegistrationDraft.telegram_user_id) == draft.telegram_user_id)
                    .where(col(RegistrationDraft.reminded_at).is_(None))
                    .values(reminded_at=now)
                )
                if marked.rowcount == 1:
                    reminded.append(draft)
            await session.commit()
        return reminded

    async def offer_again(self, telegram_user_id: int) -> None:
        """The current question's buttons anew, in the draft's language (after a change of
        language: country names, say)."""
        draft = await self.current(telegram_user_id)
        if draft is not None:
            self._offer_quick_answers(draft)
            await self._save(draft)

    def note(self, telegram_user_id: int, read: DraftRead) -> None:
        """Takes where the family stands from its draft as read before one of its updates
        (Services.read_family): another process that shares the database may have moved it on,
        or expired it, since this one looked."""
        self._standing.pop(telegram_user_id, None)
        self._expired.discard(telegram_user_id)
        draft = read.draft
        if draft is None:
            return
        if draft.expired_at is not None:
            self._expired.add(telegram_user_id)
        else:
            self._standing[telegram_user_id] = (draft.telegram_chat_id, draft.step)

    def standing(self, telegram_user_id: int) -> tuple[int, str] | None:
        """The chat and the step of the family's registration in progress, as of `note`."""
        return self._standing.get(telegram_user_id)

    async def take_expiry_notice(self, telegram_user_id: int) -> bool:
        """True once for a family whose draft expired: it is told then, and the marker goes.
        Asked of every update, so answered from memory when there is nothing to tell."""
        if telegram_user_id not in self._expired:
            return False
        self._expired.discard(telegram_user_id)
        return await self.forget_expired(telegram_user_id)

    async def forget_expired(self, telegram_user_id: int) -> bool:
        """Deletes an expired draft's marker; True when there was one (tell the family once)."""
        self._expired.discard(telegram_user_id)
        async with self._db.session() as session:
            draft = await session.get(RegistrationDraft, telegram_user_id)
            if draft is None or draft.expired_at is None:
                return False
            await session.delete(draft)
            await session.commit()
            return True

    async def begin(
        self, telegram_user_id: int, chat_id: int, locale: str, *, read: DraftRead | None = None
    ) -> RegistrationDraft:
        """The family's draft: the one in progress, or a new one at the first field. `read`:
        as for `current`."""
        draft = await self.current(telegram_user_id, read=read)
        if draft is not None:
            return draft
        if read is None or read.draft is not None:
            await self.forget_expired(
                telegram_user_id
            )  # an expired marker: the new one replaces it
        draft = RegistrationDraft(
            telegram_user_id=telegram_user_id,
            telegram_chat_id=chat_id,
            locale=locale,
            step=FIELDS[0].key,
        )
        self._offer_quick_answers(draft)
        await self._save(draft, RegistrationStart(telegram_user_id=telegram_user_id), new=True)
        return draft

    async def discard(self, telegram_user_id: int) -> list[str]:
        """Deletes the draft; returns the labels of the answers that were thrown away."""

        def gone(connection: Connection) -> list[str]:
            read = self.read(connection, telegram_user_id)
            if read.draft is None:
                return []
            connection.execute(_DELETE, {"user": telegram_user_id})
            return answered_labels(read.draft)

        return await self._db.run(gone)

    async def answer(
        self, draft: RegistrationDraft, text: str, *, chosen: bool = False
    ) -> Result | None:
        """Checks `text` as the answer to the draft's current field.

        A valid answer is stored and the draft moves on, durably, before this returns.
        Returns None when the draft is not waiting for a field.
        """
        form_field = FIELDS_BY_KEY.get(draft.step)
        if form_field is None:
            return None
        result = await self._check(draft, form_field, text, chosen, draft.answers)
        if isinstance(result, Valid):
            draft.answers = {**draft.answers, form_field.key: result.value}
            self._move_to(draft, next_step(draft))
        elif isinstance(result, Suggestion):
            draft.choices = [[choice.label, choice.value] for choice in result.choices]
        else:
            self._offer_quick_answers(draft)
        await self._save(draft)
        return result

    async def _check(
        self,
        draft: RegistrationDraft,
        form_field: FormField,
        text: str,
        chosen: bool,
        answers: Mapping[str, Any],
    ) -> Result:
        """`text` through the field's own check, as an answer typed (or, `chosen`, tapped)."""
        if len(text) > MAX_TEXT_LENGTH:
            return Invalid(TOO_LONG, {"length": len(text), "example": form_field.example})
        context = FormContext(
            accounts=self._accounts,
            today=self._today(),
            telegram_user_id=draft.telegram_user_id,
            locale=draft.locale,
            check_deliverability=self._check_deliverability,
            repeated=answers.get(form_field.confirms) if form_field.confirms else None,
        )
        return await form_field.accept(text, dict(answers), context, chosen)

    async def fill(
        self,
        draft: RegistrationDraft,
        stated: Mapping[str, Stated],
        *,
        leave_out: str | None = None,
    ) -> Result | None:
        """Answers the fields the child's document states, each exactly as if the family had
        typed it (or tapped the button, when `chosen`), through the field's own check; then the
        draft moves to its first missing field. A field `leave_out` names, or whose check
        refuses the document's value, is left unanswered, so it is asked next; one the document
        does not state keeps any answer it had.

        Only while the draft asks a field a document answers; None otherwise. Returns the first
        refusal, else the first acceptance with a note, else Valid(True)."""
        if not takes_document(draft):
            return None
        answers = dict(draft.answers)
        refused: Result | None = None
        noted: Result | None = None
        for form_field in DOCUMENT_FIELDS:
            given = stated.get(form_field.document or "")
            if form_field.key == leave_out:
                answers.pop(form_field.key, None)
                continue
            if given is None:
                continue
            result = await self._check(draft, form_field, given.text, given.chosen, answers)
            if isinstance(result, Valid):
                answers[form_field.key] = result.value
                noted = noted or (result if result.note else None)
            else:
                answers.pop(form_field.key, None)
                refused = refused or result
        draft.answers = answers
        self._move_to(draft, next_step(draft))
        await self._save(draft)
        return refused or noted or Valid(True)

    async def pick(self, draft: RegistrationDraft, step: str, index: int) -> Result | None:
        """A button of the current question was pressed; None when it belongs to another."""
        if step != draft.step or not 0 <= index < len(draft.choices):
            return None
        return await self.answer(draft, draft.choices[index][1], chosen=True)

    async def pass_human_check(self, draft: RegistrationDraft) -> None:
        draft.human_checked = True
        self._move_to(draft, next_step(draft))
        await self._save(draft)

    async def edit(self, draft: RegistrationDraft, key: str) -> bool:
        """Asks a field again; its confirmation, if any, is asked again after it. Only what the
        family can be offered right now may be changed: any field from the summary, and the
        repeated field from its confirmation. False, and nothing changes, otherwise."""
        current = FIELDS_BY_KEY.get(draft.step)
        offered = (draft.step == SUMMARY and key in SUMMARY_KEYS) or (
            current is not None and current.confirms == key
        )
        if not offered:
            return False
        target = FIELDS_BY_KEY[key]
        dropped = {target.key} | {f.key for f in FIELDS if f.confirms == target.key}
        draft.answers = {k: v for k, v in draft.answers.items() if k not in dropped}
        self._move_to(draft, target.key)
        await self._save(draft)
        return True

    async def create_account(
        self,
        draft: RegistrationDraft,
        *,
        alongside: Callable[[Connection, Account], object] | None = None,
    ) -> CreatedAccount:
        """Creates the account from a finished draft and forgets the draft, in one transaction
        with `alongside`'s statements (AccountService.create).

        Raises EmailTaken when the address got an account meanwhile; the draft then asks
        for another address. Raises TooManyAccounts when the family has made as many as it
        may; the draft stays as it is.
        """
        answers = draft.answers
        new = NewAccount(
            email=answers["correo"],
            first_names=answers["nombre"],
            father_surname=answers["apellido_paterno"],
            mother_surname=answers["apellido_materno"],
            birth_date=date.fromisoformat(answers["fecha_nacimiento"]),
            country_code=answers["pais_nacimiento"],
            password_hash=answers["contrasena"],
            telegram_user_id=draft.telegram_user_id,
            telegram_chat_id=draft.telegram_chat_id,
            locale=draft.locale,
        )

        def forget_draft(connection: Connection, account: Account) -> None:
            connection.execute(_DELETE, {"user": draft.telegram_user_id})
            if alongside is not None:
                alongside(connection, account)

        try:
            return await self._accounts.create(new, alongside=forget_draft)
        except EmailTaken:
            await self.edit(draft, "correo")
            raise

    def _move_to(self, draft: RegistrationDraft, step: str) -> None:
        draft.step = step
        self._offer_quick_answers(draft)

    @staticmethod
    def _offer_quick_answers(draft: RegistrationDraft) -> None:
        form_field = FIELDS_BY_KEY.get(draft.step)
        quick = form_field.quick_answers(draft.locale) if form_field else ()
        draft.choices = [[choice.label, choice.value] for choice in quick]

    async def _save(self, draft: RegistrationDraft, *also: SQLModel, new: bool = False) -> None:
        """Writes the draft, and any rows that go with it, in one transaction. `new`: there is
        no row of it yet (`begin` made sure), so it is inserted without trying an UPDATE."""
        draft.updated_at = utcnow()
        values = {name: getattr(draft, name) for name in _WRITTEN}
        rows = [(type(row), inserted_values(row)) for row in also]

        def write(connection: Connection) -> None:
            if (
                new
                or connection.execute(_WRITE, {"user": draft.telegram_user_id, **values}).rowcount
                == 0
            ):
                connection.execute(
                    insert(_DRAFTS).values(telegram_user_id=draft.telegram_user_id, **values)
                )
            for table, fields in rows:
                connection.execute(insert(table).values(fields))

        await self._db.run(write)
