"""Historial de Trámites: the trámites a family started, each a checklist of the documents it
usually needs, ticked off as they are gathered."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete
from sqlmodel import col, select

from bot.portal import GUIDES_BY_KEY, Tramite
from bot.storage import Database, TramiteChecklist


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

    async def start(self, telegram_user_id: int, key: str) -> Checklist | None:
        """The family's checklist of that trámite, made the first time; None for no trámite."""
        if key not in GUIDES_BY_KEY:
            return None
        for checklist in await self.of(telegram_user_id):
            if checklist.tramite.key == key:
                return checklist
        async with self._db.session() as session:
            row = TramiteChecklist(telegram_user_id=telegram_user_id, tramite=key)
            session.add(row)
            await session.commit()
            await session.refresh(row)
        return _checklist(row)

    async def of(self, telegram_user_id: int) -> list[Checklist]:
        async with self._db.session() as session:
            rows = await session.exec(
                select(TramiteChecklist)
                .where(col(TramiteChecklist.telegram_user_id) == telegram_user_id)
                .order_by(col(TramiteChecklist.id))
            )
            return [found for row in rows.all() if (found := _checklist(row)) is not None]

    async def tick(self, telegram_user_id: int, checklist_id: int, index: int) -> Checklist | None:
        """Marks a document gathered, or not any more; only on the family's own checklist."""
        async with self._db.session() as session:
            row = await session.get(TramiteChecklist, checklist_id)
            if row is None or row.telegram_user_id != telegram_user_id:
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

    async def forget(self, telegram_user_id: int) -> None:
        async with self._db.session() as session:
            await session.exec(
                delete(TramiteChecklist).where(
                    col(TramiteChecklist.telegram_user_id) == telegram_user_id
                )
            )
            await session.commit()


def _checklist(row: TramiteChecklist) -> Checklist | None:
    tramite = GUIDES_BY_KEY.get(row.tramite)
    if tramite is None or row.id is None:
        return None  # a trámite the portal's list no longer has
    return Checklist(row.id, tramite, frozenset(row.gathered))
