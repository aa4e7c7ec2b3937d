"""Photos of a child's document made into proposals: each kept in memory, for its family only,
until the family uses it, sends another photo, or it is forgotten. Nothing of it is written
anywhere before the family accepts: the registration then stores the accepted answers."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta

from bot.documents.mrz import Mrz, Refusal
from bot.documents.proposal import Proposal, propose
from bot.documents.reader import Busy, DocumentReader

# A proposal not used within this long is forgotten: a photo seen an hour ago is not the data
# the family is looking at now.
KEEP_PROPOSAL = timedelta(minutes=30)


class Documents:
    def __init__(
        self,
        reader: DocumentReader | None,
        *,
        today: Callable[[], date] = date.today,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._reader = reader
        self._today = today
        self._clock = clock
        self._proposals: dict[int, tuple[float, Proposal]] = {}

    @property
    def available(self) -> bool:
        """Whether photos of documents are read at all (settings, packages, the model)."""
        return self._reader is not None and self._reader.available

    async def start(self) -> None:
        if self._reader is not None:
            await self._reader.start()

    async def close(self) -> None:
        self._proposals.clear()
        if self._reader is not None:
            await self._reader.close()

    async def read(self, telegram_user_id: int, image: bytes) -> Proposal | Refusal | Busy:
        """Reads the photo; a verified zone becomes this family's proposal, replacing any
        earlier one. A photo that fails forgets the earlier proposal too: it was replaced."""
        self.forget(telegram_user_id)
        # What other families left behind past its time goes too: a child's names and birth
        # date are not kept in memory longer than needed.
        now = self._clock()
        for user, (made, _proposal) in list(self._proposals.items()):
            if now - made > KEEP_PROPOSAL.total_seconds():
                del self._proposals[user]
        if self._reader is None:
            return Refusal.NOT_FOUND
        reading = await self._reader.read(image)
        if not isinstance(reading, Mrz):
            return reading
        proposal = replace(propose(reading, self._today()), ref=secrets.token_hex(4))
        self._proposals[telegram_user_id] = (self._clock(), proposal)
        return proposal

    def proposal(self, telegram_user_id: int) -> Proposal | None:
        kept = self._proposals.get(telegram_user_id)
        if kept is None:
            return None
        made, proposal = kept
        if self._clock() - made > KEEP_PROPOSAL.total_seconds():
            self.forget(telegram_user_id)
            return None
        return proposal

    def forget(self, telegram_user_id: int) -> None:
        self._proposals.pop(telegram_user_id, None)
