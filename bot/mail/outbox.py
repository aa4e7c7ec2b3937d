"""The outbox: e-mails written in the same transaction as what they are about, sent by a worker.

An e-mail is a row of `OutboxEmail`, added to the caller's session, so it exists exactly when
the account (or the new link) it is about was committed. A worker task in the bot's own event
loop sends the pending rows over SMTP (through `Mailer`) and marks them sent. A mail server
that is down, slow, or answers with a temporary error only delays an e-mail (it is retried with
exponential backoff, for ever); a permanent refusal marks it failed and the family is told.
The rows outlive the process: what was pending before a crash is sent after it.

Several bot processes may share one PostgreSQL database: each row is claimed with a
conditional UPDATE before it is sent, so only one of them sends it.

Tokens are stored hashed everywhere else; the outbox needs the link itself until the e-mail
is out, so it keeps the token sealed (Fernet, with the bot's secret key), and drops it once the
e-mail is sent or given up on.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import os
import random
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import bindparam, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.accounts.links import password_reset_link, verification_link
from bot.mail.password_reset import build_password_reset_email
from bot.mail.sender import Mailer, MailError
from bot.mail.verification import build_verification_email
from bot.storage import Account, Database, EmailKind, EmailStatus, OutboxEmail, utcnow
from bot.storage.files import create_private, private_folder

log = logging.getLogger("bot.mail.outbox")

KIND_VERIFICATION = EmailKind.VERIFICATION
KIND_PASSWORD_RESET = EmailKind.PASSWORD_RESET
PENDING, SENT, FAILED = EmailStatus.PENDING, EmailStatus.SENT, EmailStatus.FAILED

# A claimed row looks "not due" to every other process until the lease runs out. The lease is
# short and renewed while the send goes on, so that when the process that claimed it dies
# mid-send (SIGKILL, power cut) the row is due again within seconds, not minutes.
CLAIM_LEASE = timedelta(seconds=15)
# One send may take at most this long (aiosmtplib's timeout is per command, not per message).
SEND_DEADLINE = 60.0
# Rows looked at in one pass; a full batch means more may be due, so the next pass starts now.
BATCH = 50
# The shortest wait between passes, so a row that stays due without being sendable (claimed
# elsewhere a moment ago) cannot make the worker spin.
MIN_WAIT = 0.05
# After stop() cancels a send, the time left to put the row back as due now (not after the
# lease), so that the next start sends it at once.
RELEASE_TIMEOUT = 1.0
# A notification that hangs (Telegram unreachable) must not hold back every other e-mail.
NOTIFY_TIMEOUT = 30.0

KEY_FILE = "secret.key"
_HKDF_INFO = b"ninez-migrante-bot outbox token seal v1"


class TokenSeal:
    """Fernet (cryptography) encryption of a link's token while its e-mail waits."""

    def __init__(self, key: str | bytes) -> None:
        # A Fernet key: 32 bytes, URL-safe base64. Fernet raises ValueError for anything else.
        self._fernet = Fernet(key)
        self._key = key if isinstance(key, bytes) else key.encode("ascii")

    @classmethod
    def from_settings(cls, secret_key: str | None, data_dir: Path) -> TokenSeal:
        """SECRET_KEY when set (any string: a Fernet key is derived from it), else the key in
        DATA_DIR/secret.key, made the first time."""
        if secret_key:
            return cls(derive_key(secret_key))
        return cls(load_or_create_key(Path(data_dir) / KEY_FILE))

    def subkey(self, purpose: bytes) -> bytes:
        """A key of its own for another use of the same secret (the reset form's check): the
        same secret always gives the same subkey, and no subkey tells the seal's key."""
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(self._key)

    def seal(self, token: str) -> str:
        return self._fernet.encrypt(token.encode("utf-8")).decode("ascii")

    def open(self, sealed: str) -> str | None:
        """The token, or None when it cannot be opened (the key changed, or the text is not
        something this class sealed)."""
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError, ValueError):
            return None


def derive_key(secret_key: str) -> bytes:
    """A Fernet key from any string; the same string always gives the same key, so processes
    sharing a database can open each other's rows."""
    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(
        secret_key.encode("utf-8")
    )
    return base64.urlsafe_b64encode(raw)


def load_or_create_key(path: Path) -> bytes:
    """The key kept in `path`, which is created (mode 0600) if it does not exist yet.

    Two processes starting at once on an empty DATA_DIR must end with the same key: the key is
    written to a private temporary file first, then hard-linked to its name, which fails if the
    other process got there first; so nobody ever reads a half-written key either.
    """
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    private_folder(path.parent)
    key = Fernet.generate_key()
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = create_private(tmp)
    try:
        try:
            os.write(fd, key + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            # Another process made it first: use theirs, or the rows it seals can't be opened.
            return _read_key(path)
        log.warning("Made a new secret key for the outbox in %s; keep it with the data", path)
        return key
    finally:
        tmp.unlink(missing_ok=True)


def _read_key(path: Path) -> bytes:
    key = path.read_bytes().strip()
    try:
        Fernet(key)
    except ValueError as error:
        # Never replace it silently: the e-mails sealed with it would all be lost.
        raise ValueError(f"{path} does not hold a valid key; move it away to make a new one") from (
            error
        )
    return key


# Each kind of e-mail with a link: how its link is made from the token, and how it is built.
_LINKS: dict[str, Callable[[str, str], str]] = {
    KIND_VERIFICATION: verification_link,
    KIND_PASSWORD_RESET: password_reset_link,
}
_BUILDERS: dict[str, Callable[..., EmailMessage]] = {
    KIND_VERIFICATION: build_verification_email,
    KIND_PASSWORD_RESET: build_password_reset_email,
}


# The worker's statements, built once: it runs them for every e-mail (see Database.run).
_DUE = (
    select(OutboxEmail.id, OutboxEmail.next_attempt_at, OutboxEmail.attempts)
    .where(col(OutboxEmail.status) == PENDING)
    .where(col(OutboxEmail.next_attempt_at) <= bindparam("now"))
    .order_by(col(OutboxEmail.next_attempt_at), col(OutboxEmail.id))
    .limit(BATCH)
)
# A row by its id, as long as it is still pending; and, among those, one still as it was seen
# (or as this process last leased it). SQLAlchemy's statements are immutable: each below is
# built on these once.
_STILL_PENDING = (
    update(OutboxEmail)
    .where(col(OutboxEmail.id) == bindparam("row_id"))
    .where(col(OutboxEmail.status) == PENDING)
)
_AS_SEEN = _STILL_PENDING.where(col(OutboxEmail.next_attempt_at) == bindparam("seen_at"))
# Matches the row only as it was read: of two processes that read it, the second one's UPDATE
# matches nothing (PostgreSQL re-checks the WHERE after the first one commits; SQLite runs
# writers one at a time). RETURNING hands back what the send needs in the same statement.
_CLAIM = (
    _AS_SEEN.where(col(OutboxEmail.attempts) == bindparam("seen_attempts"))
    .values(next_attempt_at=bindparam("lease_until"))
    .returning(
        col(OutboxEmail.kind),
        col(OutboxEmail.account_id),
        col(OutboxEmail.recipient),
        col(OutboxEmail.locale),
        col(OutboxEmail.sealed_token),
        col(OutboxEmail.attempts),
    )
)
_MOVE_LEASE = _AS_SEEN.values(next_attempt_at=bindparam("lease_until"))
_MARK_SENT = _STILL_PENDING.values(
    status=SENT, sent_at=bindparam("sent_at"), sealed_token=None, last_error=None
)
# The earliest pending row that is not due yet: read with the due ones, in the same transaction.
_LATER = (
    select(func.min(OutboxEmail.next_attempt_at))
    .where(col(OutboxEmail.status) == PENDING)
    .where(col(OutboxEmail.next_attempt_at) > bindparam("now"))
)


@dataclass(frozen=True)
class RetryPolicy:
    base_seconds: float = 5.0
    cap_seconds: float = 300.0

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the `attempts`-th failed try: base · 2^(attempts−1), never
        more than cap, with ±10 % jitter so that e-mails that failed together spread out."""
        exponent = min(max(attempts, 1) - 1, 60)  # 2**huge would overflow a float
        raw = self.base_seconds * 2**exponent
        # Jitter needs no unpredictability, so `random` (not `secrets`) is right here.
        return min(self.cap_seconds, raw * random.uniform(0.9, 1.1))


@dataclass(frozen=True)
class FailedEmail:
    """An e-mail given up on, to be told to the family in the chat."""

    account_id: int
    recipient: str
    locale: str
    error: str
    recipient_refused: bool
    kind: str = KIND_VERIFICATION  # EmailKind


FailureHook = Callable[[FailedEmail], Awaitable[None]]


@dataclass
class _Claimed:
    """What a pass needs of a row it claimed; plain values, not a session-bound object.
    `lease_until` moves forward each time the lease is renewed."""

    id: int
    kind: str
    account_id: int
    recipient: str
    locale: str
    sealed_token: str | None
    attempts: int
    lease_until: datetime


class Outbox:
    def __init__(
        self,
        database: Database,
        mailer: Mailer,
        seal: TokenSeal,
        *,
        link_base: str,
        mail_from: str,
        retry: RetryPolicy = RetryPolicy(),  # frozen: one shared default is safe
        on_failure: FailureHook | None = None,
        poll_seconds: float = 5.0,
        claim_lease: timedelta = CLAIM_LEASE,
    ) -> None:
        self._db = database
        self._mailer = mailer
        self._seal = seal
        self._link_base = link_base
        self._mail_from = mail_from
        self._retry = retry
        self.on_failure = on_failure
        self._poll_seconds = poll_seconds
        self._lease = claim_lease
        self._task: asyncio.Task[None] | None = None
        # Made in start(): an asyncio.Event belongs to the loop that first waits on it.
        self._wakeup: asyncio.Event | None = None
        self._stopping = False
        # Set by send_due(): a full batch means more rows may be due right now.
        self._last_batch_full = False
        # Set by send_due(): when the next of the rows it saw (or postponed) falls due.
        self._next_due: datetime | None = None

    # -- writing ------------------------------------------------------------------------------

    def add_verification(
        self, session: AsyncSession, *, account: Account, token: str
    ) -> OutboxEmail:
        """Queues the verification e-mail in the caller's session and transaction: it exists
        if and only if the caller commits. The caller commits, then calls wake()."""
        return self._add(session, KIND_VERIFICATION, account=account, token=token)

    def add_password_reset(
        self, session: AsyncSession, *, account: Account, token: str
    ) -> OutboxEmail:
        """Queues the e-mail with the link to choose a new password, as add_verification does:
        the account's own address is the only place that link ever goes."""
        return self._add(session, KIND_PASSWORD_RESET, account=account, token=token)

    def verification_row(self, *, account: Account, token: str) -> OutboxEmail:
        """The verification e-mail's row, for the caller to insert in its own transaction (a
        Core INSERT of `inserted_values`): as add_verification, the caller then calls wake()."""
        return self._row(KIND_VERIFICATION, account=account, token=token)

    def _add(
        self, session: AsyncSession, kind: EmailKind, *, account: Account, token: str
    ) -> OutboxEmail:
        row = self._row(kind, account=account, token=token)
        session.add(row)
        return row

    def _row(self, kind: EmailKind, *, account: Account, token: str) -> OutboxEmail:
        if account.id is None:
            raise ValueError("flush the account first: the e-mail refers to its id")
        return OutboxEmail(
            kind=kind,
            account_id=account.id,
            recipient=account.email,
            locale=account.locale,
            sealed_token=self._seal.seal(token),
            status=PENDING,
            next_attempt_at=utcnow(),
        )

    def wake(self) -> None:
        """Something was committed: the worker looks now instead of at its next poll."""
        if self._wakeup is not None:
            self._wakeup.set()

    async def pending_count(self) -> int:
        async with self._db.session() as session:
            found = await session.exec(
                select(func.count()).select_from(OutboxEmail).where(OutboxEmail.status == PENDING)
            )
            return int(found.one())

    # -- sending ------------------------------------------------------------------------------

    async def send_due(self) -> int:
        """One pass over the pending e-mails that are due; returns how many it tried."""
        now = utcnow()
        # Read in a transaction of its own, closed before any claim: on SQLite a transaction
        # that read first and then writes fails at once (instead of waiting) if another
        # process wrote in between.
        due, self._next_due = await self._db.run(
            lambda c: (
                c.execute(_DUE, {"now": now}).all(),
                c.execute(_LATER, {"now": now}).scalar(),
            )
        )
        tried = 0
        for row_id, next_attempt_at, attempts in due:
            if self._stopping:
                break
            if row_id is None:
                continue  # a row read back always has its id; the type allows none
            claimed = await self._claim(row_id, next_attempt_at, attempts)
            if claimed is None:
                continue  # another process took it (or it changed) since we looked
            tried += 1
            await self._send(claimed)
        self._last_batch_full = len(due) == BATCH
        return tried

    async def _claim(self, row_id: int, seen_at: datetime, attempts: int) -> _Claimed | None:
        """Takes the row for this process for one lease, or None if someone else did.

        The UPDATE only matches the row as it was read; of two processes that read it, the
        second one's UPDATE matches nothing (PostgreSQL re-checks the WHERE after the first one
        commits; SQLite runs writers one at a time)."""
        lease_until = utcnow() + self._lease
        parameters = {
            "row_id": row_id,
            "seen_at": seen_at,
            "seen_attempts": attempts,
            "lease_until": lease_until,
        }
        row = await self._db.run(lambda c: c.execute(_CLAIM, parameters).first())
        if row is None:
            return None
        return _Claimed(
            id=row_id,
            kind=row.kind,
            account_id=row.account_id,
            recipient=row.recipient,
            locale=row.locale,
            sealed_token=row.sealed_token,
            attempts=row.attempts,
            lease_until=lease_until,
        )

    async def _send(self, row: _Claimed) -> None:
        make_link, build = _LINKS.get(row.kind), _BUILDERS.get(row.kind)
        if make_link is None or build is None:
            await self._give_up(row, f"unknown kind of e-mail: {row.kind!r}", refused=False)
            return
        token = self._seal.open(row.sealed_token) if row.sealed_token else None
        if token is None:
            await self._give_up(
                row,
                "the link in this e-mail cannot be unsealed: SECRET_KEY (or DATA_DIR/secret.key) "
                "changed since it was queued; the family needs a new link (/reenviar)",
                refused=False,
            )
            return
        link = make_link(self._link_base, token)
        try:
            message = build(
                to=row.recipient, link=link, mail_from=self._mail_from, locale=row.locale
            )
            async with asyncio.timeout(SEND_DEADLINE), self._holding(row):
                await self._mailer.send(message)
        except asyncio.CancelledError:
            # stop() gave up waiting: the e-mail stays pending, due again at once rather than
            # when the lease runs out, so that the next start (this process or another) sends it.
            await self._release(row)
            raise
        except MailError as error:
            if error.permanent:
                await self._give_up(row, str(error), refused=error.recipient_refused)
            else:
                await self._postpone(row, str(error))
            return
        except TimeoutError:
            await self._postpone(row, f"sending took longer than {SEND_DEADLINE:g} s")
            return
        except Exception as error:
            # A fault of ours rather than the server's; keep the e-mail and keep the worker.
            log.exception("Unexpected error sending e-mail %s (account %s)", row.id, row.account_id)
            await self._postpone(row, f"unexpected error: {type(error).__name__}: {error}")
            return
        await self._mark_sent(row)
        if self._writes_files():
            # Nobody receives a file in the outbox folder: whoever runs the bot must pass the
            # link on by hand, so here, and only here, the link is logged.
            log.warning(
                "no SMTP_HOST: e-mail for account %s written to the outbox folder; link: %s",
                row.account_id,
                link,
            )

    @contextlib.asynccontextmanager
    async def _holding(self, row: _Claimed) -> AsyncIterator[None]:
        """Keeps renewing the row's lease while the body runs."""
        keeper = asyncio.get_running_loop().create_task(
            self._keep_lease(row), name=f"outbox-lease-{row.id}"
        )
        try:
            yield
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper

    async def _keep_lease(self, row: _Claimed) -> None:
        # A third of the lease: one slow or failed renewal still leaves time for the next.
        while True:
            await asyncio.sleep(self._lease.total_seconds() / 3)
            try:
                held = await self._move_lease(row, utcnow() + self._lease)
            except Exception as error:
                # The lease still runs a while; the next renewal may get through.
                log.warning("Could not renew the claim on e-mail %s: %s", row.id, error)
                continue
            if not held:
                # Another process took it after our lease ran out: it may arrive twice, which
                # beats never; nothing more to hold.
                log.warning("Lost the claim on e-mail %s while sending it", row.id)
                return

    async def _move_lease(self, row: _Claimed, until: datetime) -> bool:
        """Moves the end of this process's claim on the row to `until`; False when the claim
        is no longer this process's (the row changed since)."""
        parameters = {"row_id": row.id, "seen_at": row.lease_until, "lease_until": until}
        moved = await self._db.run(lambda c: c.execute(_MOVE_LEASE, parameters).rowcount)
        if moved != 1:
            return False
        row.lease_until = until
        return True

    async def _mark_sent(self, row: _Claimed) -> None:
        # If this write fails (database gone) the row stays claimed and is sent again after the
        # lease: an e-mail may, rarely, arrive twice, but is never lost.
        parameters = {"row_id": row.id, "sent_at": utcnow()}
        await self._db.run(lambda c: c.execute(_MARK_SENT, parameters))
        log.info("E-mail %s (account %s) sent", row.id, row.account_id)

    async def _postpone(self, row: _Claimed, error: str) -> None:
        attempts = row.attempts + 1
        delay = self._retry.delay(attempts)
        next_attempt_at = utcnow() + timedelta(seconds=delay)
        await self._finish(
            row, attempts=attempts, next_attempt_at=next_attempt_at, last_error=error[:1000]
        )
        if self._next_due is None or next_attempt_at < self._next_due:
            self._next_due = next_attempt_at
        log.warning(
            "E-mail %s (account %s) not sent (attempt %s), retrying in %.0f s: %s",
            row.id,
            row.account_id,
            attempts,
            delay,
            error,
        )

    async def _give_up(self, row: _Claimed, error: str, *, refused: bool) -> None:
        await self._finish(
            row,
            status=FAILED,
            attempts=row.attempts + 1,
            sealed_token=None,
            last_error=error[:1000],
        )
        log.warning("E-mail %s (account %s) failed for good: %s", row.id, row.account_id, error)
        hook = self.on_failure
        if hook is None:
            return
        failure = FailedEmail(
            account_id=row.account_id,
            recipient=row.recipient,
            locale=row.locale,
            error=error,
            recipient_refused=refused,
            kind=row.kind,
        )
        try:
            async with asyncio.timeout(NOTIFY_TIMEOUT):
                await hook(failure)
        except Exception:
            # The row is already marked failed; a broken notification must not stop the worker.
            log.exception("Could not tell the family that e-mail %s failed", row.id)

    async def _finish(self, row: _Claimed, **values: object) -> None:
        statement = _STILL_PENDING.values(**values)
        await self._db.run(lambda c: c.execute(statement, {"row_id": row.id}))

    async def _release(self, row: _Claimed) -> None:
        try:
            async with asyncio.timeout(RELEASE_TIMEOUT):
                await self._move_lease(row, utcnow())
        except Exception as error:
            # It stays claimed and is sent when the lease runs out: later, not lost.
            log.info("E-mail %s stays claimed until its lease ends: %s", row.id, error)

    def _writes_files(self) -> bool:
        return self._mailer.writes_files

    # -- the worker ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Starts the worker task in the running event loop (once; a second call does nothing)."""
        if self._task is not None and not self._task.done():
            return
        self._stopping = False
        self._wakeup = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="outbox-worker")

    async def stop(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109 — a grace period
        """Stops the worker: a send in progress may finish within `timeout` seconds, then it is
        cancelled, and its e-mail stays pending."""
        task, self._task = self._task, None
        if task is None:
            return
        self._stopping = True
        if self._wakeup is not None:
            self._wakeup.set()
        done, _ = await asyncio.wait({task}, timeout=timeout)
        if not done:
            task.cancel()
            # Enough for the cancelled send to put its row back (RELEASE_TIMEOUT), no more.
            await asyncio.wait({task}, timeout=RELEASE_TIMEOUT + 0.5)
        if task.done() and not task.cancelled() and task.exception() is not None:
            log.error("The outbox worker had stopped on an error", exc_info=task.exception())

    async def _run(self) -> None:
        wakeup = self._wakeup
        if wakeup is None:
            raise RuntimeError("the outbox worker runs only once start() made its wake-up")
        while not self._stopping:
            # Cleared before the pass looks: a wake() during the pass makes the next one start
            # at once, so a row committed while the pass ran is never left for the poll.
            wakeup.clear()
            try:
                self._last_batch_full = False
                await self.send_due()
                wait = 0.0 if self._last_batch_full else self._seconds_to_next()
            except Exception:
                # Database down, most likely: log it and try again later; never die.
                log.exception("Outbox pass failed; trying again in %g s", self._poll_seconds)
                wait = self._poll_seconds
            if self._stopping:
                break
            if wait > 0:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await wakeup.wait()

    def _seconds_to_next(self) -> float:
        """Until the earliest pending row the last pass saw, or postponed, is due; at most
        poll_seconds, so that rows another process added (whose wake() we never hear), or one
        whose end this process could not write, are found too."""
        if self._next_due is None:
            return self._poll_seconds
        seconds = (self._next_due - utcnow()).total_seconds()
        return min(self._poll_seconds, max(MIN_WAIT, seconds))
