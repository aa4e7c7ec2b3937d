"""The mailer: with an SMTP host an e-mail goes out through aiosmtplib; without one it lands as
an `.eml` in the outbox. What each e-mail says is built apart, from its templates."""

from __future__ import annotations

import asyncio
import email.policy
import logging
import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Literal

import aiosmtplib

from bot.storage.files import create_private, private_folder

log = logging.getLogger("bot.mail.sender")

Security = Literal["none", "starttls", "tls"]
DEFAULT_PORTS: dict[str, int] = {"none": 25, "starttls": 587, "tls": 465}


@dataclass(frozen=True, kw_only=True)
class MailSettings:
    host: str | None
    port: int | None
    username: str | None
    password: str | None = field(repr=False)
    security: Security = "none"
    mail_from: str
    outbox_dir: Path
    timeout: float = 20.0


class MailError(Exception):
    """The e-mail was not sent. `permanent`: the server said no for good (5xx); don't retry."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        code: int | None = None,
        recipient_refused: bool = False,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.code = code
        # The server refused the address itself: the family should check what they typed.
        self.recipient_refused = recipient_refused


class Mailer:
    def __init__(self, settings: MailSettings) -> None:
        self._settings = settings

    @property
    def writes_files(self) -> bool:
        """True without an SMTP host: e-mails go to the outbox folder, to be passed on by hand."""
        return not self._settings.host

    async def send(self, message: EmailMessage) -> None:
        """Sends (or, without an SMTP host, files) the message; raises MailError when it can't."""
        if self._settings.host:
            await self._send_smtp(message)
        else:
            await self._write_outbox(message)

    async def _send_smtp(self, message: EmailMessage) -> None:
        s = self._settings
        port = s.port or DEFAULT_PORTS[s.security]
        server = f"{s.host}:{port}"
        try:
            errors, _response = await aiosmtplib.send(
                message,
                hostname=s.host,
                port=port,
                username=s.username,
                password=s.password,
                use_tls=s.security == "tls",
                # False, not None: None would upgrade whenever offered, and "none" means none.
                start_tls=s.security == "starttls",
                timeout=s.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            codes = [r.code for r in exc.recipients]
            details = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
            raise MailError(
                self._clean(f"SMTP server {server} refused the recipient ({details})"),
                permanent=all(500 <= c < 600 for c in codes),
                code=codes[0] if codes else None,
                recipient_refused=True,
            ) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise MailError(
                self._clean(f"SMTP server {server} answered {exc.code} {exc.message}"),
                permanent=500 <= exc.code < 600,
                code=exc.code,
            ) from exc
        except (aiosmtplib.SMTPTimeoutError, TimeoutError) as exc:
            raise MailError(
                f"SMTP server {server} did not answer within {s.timeout:g} s", permanent=False
            ) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:
            # Connection refused, TLS failure, AUTH/STARTTLS not offered: fixable on our side,
            # so a later retry may work.
            raise MailError(
                self._clean(f"cannot send through SMTP server {server}: {exc}"), permanent=False
            ) from exc
        if errors:
            # Some recipients were refused while others were accepted.
            codes = [response.code for response in errors.values()]
            details = "; ".join(f"{rcpt}: {r.code} {r.message}" for rcpt, r in errors.items())
            raise MailError(
                self._clean(f"SMTP server {server} refused some recipients ({details})"),
                permanent=all(500 <= c < 600 for c in codes),
                code=codes[0],
                recipient_refused=True,
            )

    def _clean(self, text: str) -> str:
        # Servers don't usually echo credentials, but error texts end up in logs and chats.
        password = self._settings.password
        return text.replace(password, "***") if password else text

    async def _write_outbox(self, message: EmailMessage) -> None:
        try:
            path = await asyncio.to_thread(_write_eml, self._settings.outbox_dir, message)
        except OSError as exc:
            raise MailError(
                f"cannot write the e-mail to {self._settings.outbox_dir}: {exc}", permanent=False
            ) from exc
        log.info("No SMTP host configured; e-mail saved as %s", path)


def _write_eml(outbox_dir: Path, message: EmailMessage) -> Path:
    private_folder(outbox_dir)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = outbox_dir / f"{stamp}-{uuid.uuid4().hex}.eml"
    # Whoever watches the outbox must never see half a message: write aside, then rename.
    tmp = outbox_dir / f".{path.name}.tmp"
    try:
        # Owner-only: the message holds the verification link, as good as the password.
        with os.fdopen(create_private(tmp), "wb") as handle:
            handle.write(message.as_bytes(policy=email.policy.default))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
