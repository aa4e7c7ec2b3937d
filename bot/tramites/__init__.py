"""Historial de Trámites: the trámites started on an account, each a checklist of the
documents it usually needs, ticked off as they are gathered (by whoever uses the account)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, select

from bot.portal import GUIDES_BY_KEY, Tramite
from bot.storage import Database, Holder, TramiteChecklist
from bot.storage.holders import held_by, holds


@dataclass(frozen=True)
class Checklist:
    id: int
    tramite: Tramite
    gathered: frozenset[int]

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(
            document
            for index, document in enumerate(self.tramite.documents)
            if index not in self.gathered
        )


class Tramites:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def start(self, holder: Holder, key: str) -> Checklist | None:
        """The holder's checklist of that trámite, made the first time; None for no trámite."""
        if key not in GUIDES_BY_KEY:
            return None
        for checklist in await self.of(holder):
            if checklist.tramite.key == key:
                return checklist
        async with self._db.session() as session:
            # The account's owner's, whoever started it: a helper's erasure must not take the
            # family's checklist with it.
            row = TramiteChecklist(
                telegram_user_id=holder.telegram_user_id, account_id=holder.account_id, tramite=key
            )
            session.add(row)
            await session.commit()
            await session.refresh(row)
        return _checklist(row)

    async def of(self, holder: Holder) -> list[Checklist]:
        async with self._db.session() as session:
            rows = await session.exec(
                select(TramiteChecklist)
                .where(held_by(TramiteChecklist, holder))
                .order_by(col(TramiteChecklist.id))
            )
            return [found for row in rows.all() if (found := _checklist(row)) is not None]

    async def tick(self, holder: Holder, checklist_id: int, index: int) -> Checklist | None:
        """Marks a document gathered, or not any more; only on the holder's own checklist."""
        async with self._db.session() as session:
            row = await session.get(TramiteChecklist, checklist_id)
            if row is None or not holds(holder, row):
                return None
            tramite = GUIDES_BY_KEY.get(row.tramite)
            if tramite is None or not 0 <= index < len(tramite.documents):
                return None
            gathered = set(row.gathered)
            gathered ^= {index}
            row.gathered = sorted(gathered)
            session.add(row)
            await session.commit()
            await session.refresh(row)
        return _checklist(row)


def _checklist(row: TramiteChecklist) -> Checklist | None:
    tramite = GUIDES_BY_KEY.get(row.tramite)
    if tramite is None or row.id is None:
        return None  # a trámite the portal's list no longer has
    return Checklist(row.id, tramite, frozenset(row.gathered))
