"""Every process of one database seals with the same secret (SECRET_KEY), or does not start.

A token sealed in the outbox by one process is sent by whichever process's worker claims it,
and a reset form one process served is checked by the one that takes the post: a process with
another secret would fail half of them, quietly. So each process, at start-up, compares what
its secret makes (a value derived from it, which tells nothing of it) with what the database
holds, and holds a shared advisory lock while it runs. Another value is refused while any
process runs; with none running, the secret was changed on purpose, and the new value is kept.
SQLite serves one process: there is nobody to agree with.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

# PostgreSQL's two-key advisory locks: one for starting (one process checks at a time), one
# held, shared, by every running process.
_NAMESPACE = 0x7365616C  # "seal"
_CHECKING, _RUNNING = 1, 2


class SecretDiffers(Exception):
    """Another running process of this database seals with another SECRET_KEY."""


class SecretAgreement:
    def __init__(self, url: str, fingerprint: str) -> None:
        self._fingerprint = fingerprint
        self._engine: AsyncEngine | None = None
        if not url.startswith("sqlite"):
            self._engine = create_async_engine(url, poolclass=NullPool, hide_parameters=True)
        self._connection: AsyncConnection | None = None

    async def join(self) -> None:
        """Raises SecretDiffers when a running process seals with another secret."""
        if self._engine is None or self._connection is not None:
            return
        connection = await self._engine.connect()
        try:
            async with connection.begin():
                await connection.execute(
                    text("SELECT pg_advisory_xact_lock(:n, :k)"), {"n": _NAMESPACE, "k": _CHECKING}
                )
                found = await connection.execute(text("SELECT fingerprint FROM sealcheck"))
                stored = found.scalar_one_or_none()
                if stored is None:
                    await connection.execute(
                        text("INSERT INTO sealcheck (id, fingerprint) VALUES (1, :f)"),
                        {"f": self._fingerprint},
                    )
                elif stored != self._fingerprint:
                    alone = await connection.execute(
                        text("SELECT pg_try_advisory_lock(:n, :k)"),
                        {"n": _NAMESPACE, "k": _RUNNING},
                    )
                    if not alone.scalar_one():
                        raise SecretDiffers
                    await connection.execute(
                        text("UPDATE sealcheck SET fingerprint = :f WHERE id = 1"),
                        {"f": self._fingerprint},
                    )
                    await connection.execute(
                        text("SELECT pg_advisory_unlock(:n, :k)"), {"n": _NAMESPACE, "k": _RUNNING}
                    )
                # Session-level: held after this transaction, for as long as the process runs.
                await connection.execute(
                    text("SELECT pg_advisory_lock_shared(:n, :k)"),
                    {"n": _NAMESPACE, "k": _RUNNING},
                )
        except BaseException:
            await connection.close()
            raise
        self._connection = connection

    async def leave(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            await connection.close()
        if self._engine is not None:
            await self._engine.dispose()
