"""Every process of one database seals with the same secret: another is refused while a process
runs, and taken (the secret was changed on purpose) when none does."""

from __future__ import annotations

import pytest

from bot.settings import async_database_url
from bot.storage import Database
from bot.storage.agreement import SecretAgreement, SecretDiffers


async def test_another_secret_is_refused_while_a_process_runs(
    db: Database, database_url: str
) -> None:
    url = async_database_url(database_url)
    running = SecretAgreement(url, "a" * 64)
    await running.join()
    try:
        if db.is_sqlite:
            # One process only: there is nobody to disagree with.
            other = SecretAgreement(url, "b" * 64)
            await other.join()
            await other.leave()
            return
        with pytest.raises(SecretDiffers):
            await SecretAgreement(url, "b" * 64).join()
        alike = SecretAgreement(url, "a" * 64)
        await alike.join()
        await alike.leave()
    finally:
        await running.leave()

    if not db.is_sqlite:
        # Nobody runs: a new secret was set on purpose, on every process, and is kept.
        changed = SecretAgreement(url, "b" * 64)
        await changed.join()
        await changed.leave()
        with pytest.raises(SecretDiffers):
            refused = SecretAgreement(url, "a" * 64)
            changed_again = SecretAgreement(url, "b" * 64)
            await changed_again.join()
            try:
                await refused.join()
            finally:
                await changed_again.leave()
