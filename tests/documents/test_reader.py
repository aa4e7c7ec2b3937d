"""The OCR worker process on photos the tests draw: a passport, an ID card, tilted and blurred
ones, a wrong check digit, no document; and what happens when a read hangs, when too many wait,
and when the OCR cannot be loaded."""

from __future__ import annotations

import asyncio
import io
import os
import sys

from bot.devtools.specimens import (
    Holder,
    document_photo,
    id_card_zone,
    no_document_photo,
    passport_zone,
)
from bot.documents import reader as reading
from bot.documents.mrz import Mrz, Refusal
from bot.documents.reader import Busy, DocumentReader, ReaderSettings
from bot.priority import BACKGROUND_NICENESS


def blank_png(side: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (side, side)).save(out, "PNG", optimize=True)
    return out.getvalue()


HOLDER = Holder(surnames="PEREZ", given_names="JOSE ANGEL", nationality="PER", birth="180101")


async def test_the_worker_reads_passports_and_id_cards_and_refuses_the_rest() -> None:
    reader = DocumentReader()
    try:
        assert await reader.ready()
        # Below the bot's event loop, as the password hashes are (bot/priority.py).
        own = os.getpriority(os.PRIO_PROCESS, 0)
        assert reader.worker_pids
        for pid in reader.worker_pids:
            assert os.getpriority(os.PRIO_PROCESS, pid) == min(own + BACKGROUND_NICENESS, 19)
        photos = {
            "passport": document_photo(passport_zone(HOLDER)),
            "passport tilted and blurred": document_photo(passport_zone(HOLDER), angle=6, blur=1.8),
            "id card": document_photo(id_card_zone(HOLDER), width=1000),
            "id card tilted and blurred": document_photo(
                id_card_zone(HOLDER), width=1000, angle=-5, blur=1.5
            ),
        }
        for what, photo in photos.items():
            assert len(photo) < 80_000, what  # small test images
            read = await reader.read(photo)
            assert isinstance(read, Mrz), what
            assert (read.primary, read.secondary, read.birth) == ("PEREZ", "JOSE ANGEL", "180101")
            assert read.nationality == "PER"
        wrong = document_photo(passport_zone(HOLDER, spoil=True))
        assert await reader.read(wrong) is Refusal.UNVERIFIED
        assert await reader.read(document_photo(id_card_zone(HOLDER, spoil=True))) is (
            Refusal.UNVERIFIED
        )
        assert await reader.read(no_document_photo()) is Refusal.NOT_FOUND
        assert await reader.read(b"GIF89a not really an image") is Refusal.NOT_FOUND
        # A few kilobytes claiming 100 and 169 million pixels (past Pillow's limit, and between
        # the limit and twice it): refused, and the same worker reads on.
        for side in (10_000, 13_000):
            bomb = blank_png(side)
            assert len(bomb) < 200_000
            assert await reader.read(bomb) is Refusal.NOT_FOUND
        assert isinstance(await reader.read(document_photo(passport_zone(HOLDER))), Mrz)
        assert len(reader.worker_pids) == 1  # the same worker, its model loaded once
    finally:
        await reader.close()
    assert not reader.worker_pids


async def test_a_read_that_takes_too_long_is_cut_and_the_worker_replaced() -> None:
    reader = DocumentReader(ReaderSettings(timeout_seconds=0.01))
    try:
        assert await reader.ready()
        first = reader.worker_pids
        assert await reader.read(document_photo(passport_zone(HOLDER))) is Busy.TIMED_OUT
        reader.settings = ReaderSettings(timeout_seconds=30)
        read = await reader.read(document_photo(passport_zone(HOLDER)))
        assert isinstance(read, Mrz)
        assert reader.worker_pids and reader.worker_pids != first
    finally:
        await reader.close()


async def test_past_the_waiting_limit_a_photo_is_not_queued() -> None:
    reader = DocumentReader(ReaderSettings(max_waiting=1))
    try:
        assert await reader.ready()
        photo = document_photo(passport_zone(HOLDER))
        results = await asyncio.gather(*(reader.read(photo) for _ in range(3)))
        assert results.count(Busy.WAITING) == 1
        assert sum(isinstance(result, Mrz) for result in results) == 2
    finally:
        await reader.close()


async def test_reading_is_off_when_the_ocr_cannot_be_loaded(monkeypatch) -> None:
    # A worker that dies before its model is loaded.
    broken = DocumentReader(ReaderSettings(command=(sys.executable, "-c", "raise SystemExit(1)")))
    assert broken.available
    assert not await broken.ready()
    assert not broken.available
    assert await broken.read(b"...") is Refusal.NOT_FOUND
    await broken.close()

    # The OCR's packages not installed: off from the start, no process started.
    monkeypatch.setattr(reading, "OCR_PACKAGES", ("rapidocr", "no_such_ocr_package"))
    missing = DocumentReader()
    assert not missing.available
    await missing.start()
    assert not missing.worker_pids
