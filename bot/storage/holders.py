"""Whose Bandeja de Entrada and Historial de Trámites a row is in, and who may read it.

Both belong to an account: one person may use several children's accounts, and a parent on a
new phone logs in to the same account from another Telegram account. Before a family has any
account, what it gathers (a volunteer's answer to an early question, say) is kept as its
person's: the person sees it in the home of its own accounts, and nobody else does, not even
someone logged in to one of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import ColumnElement, and_, false, or_
from sqlmodel import col

from bot.storage.models import Account, InboxMessage, TramiteChecklist


@dataclass(frozen=True)
class Holder:
    # The account's owner, or the person who has no account yet.
    telegram_user_id: int
    account_id: int | None = None
    # Who reads; the owner when not said.
    reader: int | None = None

    @classmethod
    def of(cls, account: Account | None, reader: int) -> Holder:
        """The account in use, if any, else the person; as `reader` sees them."""
        if account is None or account.id is None:
            return cls(reader, reader=reader)
        return cls(account.telegram_user_id, account.id, reader=reader)

    @property
    def sees_the_persons_own(self) -> bool:
        return self.reader is None or self.reader == self.telegram_user_id


class Held(Protocol):
    telegram_user_id: int
    account_id: int | None


def held_by(
    table: type[InboxMessage] | type[TramiteChecklist], holder: Holder
) -> ColumnElement[bool]:
    """The rows in the holder's inbox or history that its reader may see."""
    unattached = (
        and_(
            col(table.account_id).is_(None),
            col(table.telegram_user_id) == holder.telegram_user_id,
        )
        if holder.sees_the_persons_own
        else false()
    )
    if holder.account_id is None:
        return unattached
    return or_(col(table.account_id) == holder.account_id, unattached)


def holds(holder: Holder, row: Held) -> bool:
    """The same test as `held_by`, for a row already read."""
    if row.account_id is not None:
        return row.account_id == holder.account_id
    return holder.sees_the_persons_own and row.telegram_user_id == holder.telegram_user_id
