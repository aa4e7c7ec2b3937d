"""The outbox, against a real database (SQLite, and PostgreSQL when configured) and a real SMTP
server: written in the caller's transaction, sent once, delayed but never lost, survives
restarts, and keeps the link's token only sealed."""

from __future__ import annotations

import asyncio
import logging
import secrets
import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from bot.accounts.links import verification_link
from bot.mail.outbox import FailedEmail, Outbox, RetryPolicy, TokenSeal
from bot.mail.sender import Mailer, MailSettings
from bot.settings import async_database_url
from bot.storage import Account, Database, OutboxEmail, utcnow
from tests.support.smtp_server import SmtpServer, hanging_server, unused_port

MAIL_FROM = "Programa Niñez Migrante <no-reply@ninez.test>"
LINK_BASE = "https://ninez.test"
FAST = RetryPolicy(base_seconds=0.05, cap_seconds=0.2)


@pytest.fixture
def seal() -> TokenSeal:
    return TokenSeal(Fernet.generate_key())


def smtp_mailer(port: int, tmp_path: Path, *, timeout: float = 20.0) -> Mailer:
    return Mailer(
        MailSettings(
            host="127.0.0.1",
            port=port,
            username=None,
            password=None,
            mail_from=MAIL_FROM,
            outbox_dir=tmp_path / "outbox",
            timeout=timeout,
        )
    )


def make_outbox(database: Database, mailer: Mailer, seal: TokenSeal, **options) -> Outbox:
    options.setdefault("retry", FAST)
    return Outbox(database, mailer, seal, link_base=LINK_BASE, mail_from=MAIL_FROM, **options)


async def new_account(database: Database, email: str | None = None) -> Account:
    account = Account(
        email=email or f"familia-{secrets.token_hex(4)}@example.com",
        first_names="Ana María",
        father_surname="Pérez",
        mother_surname="Rojas",
        birth_date=date(2016, 3, 4),
        country_code="VE",
        password_hash="not-a-real-hash",
        telegram_user_id=1001,
        telegram_chat_id=1001,
        locale="es",
    )
    async with database.session() as session:
        session.add(account)
        await session.commit()
    return account


async def queue(database: Database, outbox: Outbox, account: Account) -> tuple[int, str]:
    """Commits one verification e-mail, the way AccountService does; returns its id and token."""
    token = secrets.token_urlsafe(32)
    async with database.session() as session:
        row = outbox.add_verification(session, account=account, token=token)
        await session.commit()
    assert row.id is not None
    return row.id, token


async def get_row(database: Database, row_id: int) -> OutboxEmail:
    async with database.session() as session:
        row = await session.get(OutboxEmail, row_id)
        assert row is not None
        return row


async def raw_values(database: Database) -> list[str]:
    """Every value of every column of the outbox table, as text."""
    async with database.engine.connect() as connection:
        rows = (await connection.execute(text("SELECT * FROM outboxemail"))).all()
    return [str(value) for row in rows for value in row]


async def until_due(database: Database, row_id: int) -> None:
    row = await get_row(database, row_id)
    wait = (row.next_attempt_at - utcnow()).total_seconds()
    if wait > 0:
        await asyncio.sleep(wait + 0.01)


def plain_body(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return part.get_content()


# -- the transaction ---------------------------------------------------------------------------


async def test_rolled_back_email_is_never_sent(
    db: Database, seal: TokenSeal, smtp: SmtpServer, tmp_path: Path
) -> None:
    outbox = make_outbox(db, smtp_mailer(smtp.port, tmp_path), seal)
    async with db.session() as session:
        account = Account(
            email="nunca@example.com",
            first_names="Luis",
            father_surname="Soto",
            birth_date=date(2015, 1, 1),
            country_code="PE",
            password_hash="x",
            telegram_user_id=7,
            telegram_chat_id=7,
        )
        session.add(account)
        await session.flush()
        outbox.add_verification(session, account=account, token=secrets.token_urlsafe(32))
        await session.rollback()

    assert await outbox.send_due() == 0
    assert await outbox.pending_count() == 0
    assert await raw_values(db) == []
    await asyncio.sleep(0.1)
    assert smtp.envelopes == []


async def test_committed_email_is_sent_once_and_the_token_is_only_ever_sealed(
    db: Database,
    seal: TokenSeal,
    smtp: SmtpServer,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    outbox = make_outbox(db, smtp_mailer(smtp.port, tmp_path), seal)
    account = await new_account(db, "ana@example.com")
    row_id, token = await queue(db, outbox, account)

    queued = await get_row(db, row_id)
    assert queued.status == "pending" and queued.sealed_token
    assert queued.sealed_token != token and token not in queued.sealed_token
    assert not any(token in value for value in await raw_values(db))
    assert await outbox.pending_count() == 1

    assert await outbox.send_due() == 1
    message = await smtp.wait_for_message()
    assert message["To"] == "ana@example.com"
    assert verification_link(LINK_BASE, token) in plain_body(message)

    sent = await get_row(db, row_id)
    assert sent.status == "sent" and sent.sealed_token is None and sent.sent_at is not None
    assert sent.last_error is None and sent.attempts == 0
    assert not any(token in value for value in await raw_values(db))
    assert await outbox.pending_count() == 0

    assert await outbox.send_due() == 0
    await asyncio.sleep(0.2)
    assert len(smtp.envelopes) == 1
    # The bot's side logs no token; the test server's own log (aiosmtpd's "mail.log") shows
    # the DATA it received, which is the e-mail itself.
    ours = [r.getMessage() for r in caplog.records if not r.name.startswith("mail.log")]
    assert ours and not any(token in line for line in ours)


async def test_add_verification_needs_a_flushed_account(db: Database, seal: TokenSeal) -> None:
    outbox = make_outbox(db, Mailer(_file_settings(Path("/nonexistent"))), seal)
    async with db.session() as session:
        with pytest.raises(ValueError, match="flush"):
            outbox.add_verification(session, account=Account(email="x@example.com"), token="t")


# -- a mail server that is down, or says no ----------------------------------------------------


async def test_server_down_delays_with_backoff_and_the_email_arrives_once_it_is_back(
    db: Database, seal: TokenSeal, tmp_path: Path
) -> None:
    port = unused_port()  # nothing listens there yet
    outbox = make_outbox(db, smtp_mailer(port, tmp_path), seal)
    account = await new_account(db)
    row_id, token = await queue(db, outbox, account)

    # 0.05, 0.1, 0.2, 0.2 (the cap), each ±10 %. The wait is counted from the failed attempt,
    # which lies between `before` and `after`: however slow the machine, it is bracketed.
    for attempt, expected in enumerate((0.05, 0.1, 0.2, 0.2), start=1):
        await until_due(db, row_id)
        before = utcnow()
        assert await outbox.send_due() == 1
        after = utcnow()
        row = await get_row(db, row_id)
        assert row.status == "pending" and row.attempts == attempt
        assert row.sealed_token is not None
        assert row.last_error and str(port) in row.last_error
        longest = (row.next_attempt_at - before).total_seconds()
        shortest = (row.next_attempt_at - after).total_seconds()
        assert shortest <= expected * 1.1 and longest >= expected * 0.9, (attempt, expected)

    server = SmtpServer(port=port)
    await server.start()
    try:
        await until_due(db, row_id)
        assert await outbox.send_due() == 1
        message = await server.wait_for_message()
        assert verification_link(LINK_BASE, token) in plain_body(message)
        assert (await get_row(db, row_id)).status == "sent"
        await asyncio.sleep(0.3)
        assert await outbox.send_due() == 0
        assert len(server.envelopes) == 1
    finally:
        await server.stop()


async def test_temporary_refusal_is_retried(
    db: Database, seal: TokenSeal, smtp: SmtpServer, tmp_path: Path
) -> None:
    failures: list[FailedEmail] = []

    async def told(failure: FailedEmail) -> None:
        failures.append(failure)

    outbox = make_outbox(db, smtp_mailer(smtp.port, tmp_path), seal, on_failure=told)
    account = await new_account(db)
    row_id, token = await queue(db, outbox, account)

    smtp.reject_code = 451
    assert await outbox.send_due() == 1
    row = await get_row(db, row_id)
    assert row.status == "pending" and row.attempts == 1
    assert row.last_error and "451" in row.last_error

    smtp.reject_code = None
    await until_due(db, row_id)
    assert await outbox.send_due() == 1
    message = await smtp.wait_for_message()
    assert verification_link(LINK_BASE, token) in plain_body(message)
    assert (await get_row(db, row_id)).status == "sent"
    assert failures == []


async def test_permanent_refusal_fails_and_the_family_is_told(
    db: Database, seal: TokenSeal, smtp: SmtpServer, tmp_path: Path
) -> None:
    failures: list[FailedEmail] = []

    async def told(failure: FailedEmail) -> None:
        failures.append(failure)

    outbox = make_outbox(db, smtp_mailer(smtp.port, tmp_path), seal, on_failure=told)
    account = await new_account(db, "no-existe@example.com")
    row_id, _token = await queue(db, outbox, account)

    smtp.reject_code = 550
    assert await outbox.send_due() == 1
    row = await get_row(db, row_id)
    assert row.status == "failed" and row.sealed_token is None
    assert row.last_error and "550" in row.last_error
    assert len(failures) == 1
    failure = failures[0]
    assert failure.account_id == account.id and failure.recipient == "no-existe@example.com"
    assert failure.recipient_refused and failure.locale == "es" and "550" in failure.error

    # Given up on: never tried again, even once the server would take it.
    smtp.reject_code = None
    await asyncio.sleep(0.3)
    assert await outbox.send_due() == 0
    assert await outbox.pending_count() == 0
    assert smtp.envelopes == [] and len(failures) == 1


async def test_a_failing_notification_does_not_stop_the_outbox(
    db: Database, seal: TokenSeal, smtp: SmtpServer, tmp_path: Path
) -> None:
    async def broken(_failure: FailedEmail) -> None:
        raise RuntimeError("telegram is down")

    outbox = make_outbox(db, smtp_mailer(smtp.port, tmp_path), seal, on_failure=broken)
    refused, _ = await queue(db, outbox, await new_account(db))
    smtp.reject_code = 550
    assert await outbox.send_due() == 1
    assert (await get_row(db, refused)).status == "failed"

    smtp.reject_code = None
    accepted, _ = await queue(db, outbox, await new_account(db))
    assert await outbox.send_due() == 1
    await smtp.wait_for_message()
    assert (await get_row(db, accepted)).status == "sent"


async def test_a_token_sealed_with_another_key_fails_and_is_told(
    db: Database, seal: TokenSeal, smtp: SmtpServer, tmp_path: Path
) -> None:
    failures: list[FailedEmail] = []

    async def told(failure: FailedEmail) -> None:
        failures.append(failure)

    before = make_outbox(db, smtp_mailer(smtp.port, tmp_path), seal)
    row_id, _ = await queue(db, before, await new_account(db))

    other_key = TokenSeal(Fernet.generate_key())
    after = make_outbox(db, smtp_mailer(smtp.port, tmp_path), other_key, on_failure=told)
    assert await after.send_due() == 1
    row = await get_row(db, row_id)
    assert row.status == "failed" and row.sealed_token is None
    assert row.last_error and "SECRET_KEY" in row.last_error
    assert len(failures) == 1 and not failures[0].recipient_refused
    await asyncio.sleep(0.1)
    assert smtp.envelopes == []


async def test_without_smtp_host_the_link_is_logged_for_whoever_runs_the_bot(
    db: Database, seal: TokenSeal, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = make_outbox(db, Mailer(_file_settings(tmp_path / "outbox")), seal)
    account = await new_account(db)
    row_id, token = await queue(db, outbox, account)

    assert await outbox.send_due() == 1
    files = list((tmp_path / "outbox").glob("*.eml"))
    link = verification_link(LINK_BASE, token)
    assert len(files) == 1 and link in files[0].read_text()
    assert (await get_row(db, row_id)).status == "sent"
    warnings = [
        r
        for r in caplog.records
        if r.name == "bot.mail.outbox" and r.levelno == logging.WARNING and link in r.getMessage()
    ]
    assert len(warnings) == 1
    assert "no SMTP_HOST" in warnings[0].getMessage()
    assert f"account {account.id}" in warnings[0].getMessage()


def _file_settings(outbox_dir: Path) -> MailSettings:
    return MailSettings(
        host=None,
        port=None,
        username=None,
        password=None,
        mail_from=MAIL_FROM,
        outbox_dir=outbox_dir,
    )


# -- the worker --------------------------------------------------------------------------------


async def test_worker_sends_at_once_when_woken(
    db: Database, seal: TokenSeal, smtp: SmtpServer, tmp_path: Path
) -> None:
    # A 30 s poll: only wake() can explain an e-mail that arrives within 2 s.
    outbox = make_outbox(db, smtp_mailer(smtp.port, tmp_path), seal, poll_seconds=30)
    account = await new_account(db)
    await outbox.start()
    try:
        await asyncio.sleep(0.1)  # the worker's first pass is over; it now waits
        row_id, token = await queue(db, outbox, account)
        outbox.wake()
        message = await smtp.wait_for_message(timeout=2)
        assert verification_link(LINK_BASE, token) in plain_body(message)
    finally:
        loop = asyncio.get_running_loop()
        started = loop.time()
        await outbox.stop()
        assert loop.time() - started < 1
    assert (await get_row(db, row_id)).status == "sent"


async def test_worker_sends_a_row_when_it_falls_due_not_at_the_next_poll(
    db: Database, seal: TokenSeal, smtp: SmtpServer, tmp_path: Path
) -> None:
    # The pass that finds nothing due also reads when the next pending row falls due, and
    # waits until then: with a 30 s poll, only that explains the e-mail within 2 s.
    outbox = make_outbox(db, smtp_mailer(smtp.port, tmp_path), seal, poll_seconds=30)
    row_id, _ = await queue(db, outbox, await new_account(db))
    async with db.session() as session:
        row = await session.get(OutboxEmail, row_id)
        assert row is not None
        row.next_attempt_at = utcnow() + timedelta(seconds=0.5)
        session.add(row)
        await session.commit()
    await outbox.start()
    try:
        await asyncio.sleep(0.2)
        assert (await get_row(db, row_id)).status == "pending"  # not before its time
        await smtp.wait_for_message(timeout=2)
    finally:
        await outbox.stop()
    assert (await get_row(db, row_id)).status == "sent"


async def test_worker_finds_rows_another_process_added(
    db: Database, seal: TokenSeal, smtp: SmtpServer, tmp_path: Path
) -> None:
    worker = make_outbox(db, smtp_mailer(smtp.port, tmp_path), seal, poll_seconds=0.2)
    other = make_outbox(db, smtp_mailer(smtp.port, tmp_path), seal)
    await worker.start()
    try:
        await asyncio.sleep(0.05)
        await queue(db, other, await new_account(db))  # no wake(): another process did it
        await smtp.wait_for_message(timeout=2)
    finally:
        await worker.stop()


async def test_worker_retries_when_woken_during_backoff_and_survives_errors(
    db: Database,
    seal: TokenSeal,
    smtp: SmtpServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    outbox = make_outbox(db, smtp_mailer(smtp.port, tmp_path), seal, poll_seconds=0.1)
    real_send_due = outbox.send_due
    calls = 0

    async def flaky_send_due() -> int:
        nonlocal calls
        calls += 1
        if calls <= 2:
            raise OSError("database unreachable (test)")
        return await real_send_due()

    monkeypatch.setattr(outbox, "send_due", flaky_send_due)
    await queue(db, outbox, await new_account(db))
    await outbox.start()
    try:
        await smtp.wait_for_message(timeout=3)
        assert calls >= 3
    finally:
        await outbox.stop()


async def test_stop_returns_in_time_while_the_server_hangs_and_the_email_stays_pending(
    db: Database, seal: TokenSeal, smtp: SmtpServer, tmp_path: Path
) -> None:
    async with hanging_server() as hanging:
        outbox = make_outbox(db, smtp_mailer(hanging.port, tmp_path), seal, poll_seconds=30)
        await outbox.start()
        row_id, token = await queue(db, outbox, await new_account(db))
        outbox.wake()
        await asyncio.wait_for(hanging.connected.wait(), 2)

        loop = asyncio.get_running_loop()
        started = loop.time()
        await outbox.stop(timeout=0.3)
        assert loop.time() - started < 2.0

    row = await get_row(db, row_id)
    assert row.status == "pending" and row.sealed_token is not None and row.attempts == 0
    # Put back as due now, not left claimed: the next start sends it straight away.
    assert row.next_attempt_at <= utcnow()

    restarted = make_outbox(db, smtp_mailer(smtp.port, tmp_path), seal)
    assert await restarted.send_due() == 1
    message = await smtp.wait_for_message()
    assert verification_link(LINK_BASE, token) in plain_body(message)


async def test_a_long_send_keeps_its_claim_and_a_stopped_one_gives_it_back(
    database_url: str, db: Database, seal: TokenSeal, smtp: SmtpServer, tmp_path: Path
) -> None:
    # Renewed every lease/3: a row that was not given back is due again only 2 s after the
    # stop at the earliest, so finding it due within 1.5 s means it was given back, however
    # slow the machine is meanwhile.
    lease = timedelta(seconds=3)
    other_db = Database(async_database_url(database_url))  # another process's engine
    other = make_outbox(other_db, smtp_mailer(smtp.port, tmp_path), seal, claim_lease=lease)
    try:
        async with hanging_server() as hanging:
            slow = make_outbox(
                db, smtp_mailer(hanging.port, tmp_path), seal, poll_seconds=30, claim_lease=lease
            )
            await slow.start()
            _row_id, token = await queue(db, slow, await new_account(db))
            slow.wake()
            await asyncio.wait_for(hanging.connected.wait(), 2)
            # Longer than a lease: renewed all along, so the other process never takes it.
            for _ in range(12):
                await asyncio.sleep(0.3)
                assert await other.send_due() == 0
            await slow.stop(timeout=0.1)
            loop = asyncio.get_running_loop()
            given_back_by = loop.time() + 1.5
            while (taken := await other.send_due()) == 0 and loop.time() < given_back_by:
                await asyncio.sleep(0.05)
        assert taken == 1
        message = await smtp.wait_for_message()
        assert verification_link(LINK_BASE, token) in plain_body(message)
    finally:
        await other_db.dispose()


async def test_stop_without_start_does_nothing(db: Database, seal: TokenSeal) -> None:
    outbox = make_outbox(db, Mailer(_file_settings(Path("/nonexistent"))), seal)
    outbox.wake()
    await outbox.stop()


# -- two processes, and a restart --------------------------------------------------------------


async def test_two_processes_never_send_the_same_email_twice(
    database_url: str, db: Database, seal: TokenSeal, smtp: SmtpServer, tmp_path: Path
) -> None:
    other_db = Database(async_database_url(database_url))  # its own engine and connections
    try:
        first = make_outbox(db, smtp_mailer(smtp.port, tmp_path), seal)
        second = make_outbox(other_db, smtp_mailer(smtp.port, tmp_path), seal)
        links = set()
        for _ in range(12):
            _row_id, token = await queue(db, first, await new_account(db))
            links.add(verification_link(LINK_BASE, token))

        tried = await asyncio.gather(first.send_due(), second.send_due(), first.send_due())
        assert sum(tried) == 12
        assert await first.pending_count() == 0
        await asyncio.sleep(0.3)
        assert len(smtp.envelopes) == 12
        found = {link for m in smtp.messages for link in links if link in plain_body(m)}
        assert found == links
    finally:
        await other_db.dispose()


async def test_what_was_pending_before_a_restart_is_sent_after_it(
    database_url: str, data_dir: Path, smtp: SmtpServer, tmp_path: Path
) -> None:
    # Before: the mail server is down; the e-mail waits. The key is made in DATA_DIR.
    before_db = Database(async_database_url(database_url))
    await before_db.create_schema()
    before = make_outbox(
        before_db,
        smtp_mailer(unused_port(), tmp_path),
        TokenSeal.from_settings(None, data_dir),
    )
    row_id, token = await queue(before_db, before, await new_account(before_db))
    assert await before.send_due() == 1
    assert (await get_row(before_db, row_id)).status == "pending"
    await before_db.dispose()

    # After: a new process, a new Database, the key read back from DATA_DIR.
    after_db = Database(async_database_url(database_url))
    try:
        await after_db.create_schema()
        after = make_outbox(
            after_db,
            smtp_mailer(smtp.port, tmp_path),
            TokenSeal.from_settings(None, data_dir),
        )
        assert await after.pending_count() == 1
        await until_due(after_db, row_id)
        assert await after.send_due() == 1
        message = await smtp.wait_for_message()
        assert verification_link(LINK_BASE, token) in plain_body(message)
        assert (await get_row(after_db, row_id)).status == "sent"
    finally:
        await after_db.dispose()


# -- the seal and the backoff ------------------------------------------------------------------


def test_seal_round_trip_and_wrong_key() -> None:
    seal = TokenSeal(Fernet.generate_key())
    token = secrets.token_urlsafe(32)
    sealed = seal.seal(token)
    assert token not in sealed and len(sealed) <= 512
    assert seal.open(sealed) == token
    assert TokenSeal(Fernet.generate_key()).open(sealed) is None
    assert seal.open("not sealed at all") is None


def test_key_file_is_made_once_with_mode_0600(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    first = TokenSeal.from_settings(None, data_dir)
    key_file = data_dir / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    content = key_file.read_bytes()

    second = TokenSeal.from_settings(None, data_dir)
    assert key_file.read_bytes() == content
    assert second.open(first.seal("abc")) == "abc"
    assert [p.name for p in data_dir.iterdir()] == ["secret.key"]  # no temporary file left


def test_processes_starting_together_share_one_key(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    barrier = threading.Barrier(8)

    def make() -> TokenSeal:
        barrier.wait()
        return TokenSeal.from_settings(None, data_dir)

    with ThreadPoolExecutor(8) as pool:
        seals = list(pool.map(lambda _: make(), range(8)))
    sealed = seals[0].seal("abc")
    assert all(seal.open(sealed) == "abc" for seal in seals)
    assert [p.name for p in data_dir.iterdir()] == ["secret.key"]


def test_a_damaged_key_file_is_never_replaced(tmp_path: Path) -> None:
    (tmp_path / "secret.key").write_text("not a key\n")
    with pytest.raises(ValueError, match=r"secret\.key"):
        TokenSeal.from_settings(None, tmp_path)
    assert (tmp_path / "secret.key").read_text() == "not a key\n"


def test_secret_key_setting_gives_the_same_key_everywhere(tmp_path: Path) -> None:
    one = TokenSeal.from_settings("una frase cualquiera, ñandú", tmp_path / "a")
    two = TokenSeal.from_settings("una frase cualquiera, ñandú", tmp_path / "b")
    other = TokenSeal.from_settings("otra frase", tmp_path / "a")
    sealed = one.seal("abc")
    assert two.open(sealed) == "abc"
    assert other.open(sealed) is None
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_backoff_doubles_up_to_the_cap() -> None:
    policy = RetryPolicy(base_seconds=5, cap_seconds=300)
    for attempts, expected in [(1, 5), (2, 10), (3, 20), (6, 160)]:
        assert expected * 0.9 <= policy.delay(attempts) <= expected * 1.1
    assert 270 <= policy.delay(7) <= 300
    assert policy.delay(10**6) <= 300  # an outage of months does not overflow
    assert policy.delay(0) <= 5.5
