"""Whose Bandeja de Entrada and Historial de Trámites a row is in.

Both belong to an account: one person may use several children's accounts, and a parent on a
new phone logs in to the same account from another Telegram account. Before a family has any
account, what it gathers (a volunteer's answer to an early question, say) is kept as its
person's, and shows in the home of that person's own accounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import ColumnElement, and_, or_
from sqlmodel import col

from bot.storage.models import Account, InboxMessage, TramiteChecklist


@dataclass(frozen=True)
class Holder:
    # The account's owner, or the person who has no account yet.
    telegram_user_id: int
    account_id: int | None = None

    @classmethod
    def of(cls, account: Account | None, telegram_user_id: int) -> Holder:
        """The account in use, if any, else the person."""
        if account is None or account.id is None:
            return cls(telegram_user_id)
        return cls(account.telegram_user_id, account.id)


class Held(Protocol):
    telegram_user_id: int
    account_id: int | None


def held_by(
    table: type[InboxMessage] | type[TramiteChecklist], holder: Holder
) -> ColumnElement[bool]:
    """The rows in the holder's inbox or history."""
    unattached = and_(
        col(table.account_id).is_(None), col(table.telegram_user_id) == holder.telegram_user_id
    )
    if holder.account_id is None:
        return unattached
    return or_(col(table.account_id) == holder.account_id, unattached)


def holds(holder: Holder, row: Held) -> bool:
    """The same test as `held_by`, for a row already read."""
    if row.account_id is not None:
        return row.account_id == holder.account_id
    return row.telegram_user_id == holder.telegram_user_id
