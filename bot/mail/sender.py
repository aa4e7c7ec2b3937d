"""The validation e-mail, in the portal's own wording, and the mailer that sends it.

With an SMTP host it goes out through aiosmtplib; without one it lands as an `.eml` in the outbox.
"""

from __future__ import annotations

import asyncio
import email.policy
import html
import logging
import os
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr
from pathlib import Path
from typing import Literal

import aiosmtplib

from bot.i18n import translator
from bot.storage.files import create_private, private_folder

log = logging.getLogger("bot.mail.sender")

Security = Literal["none", "starttls", "tls"]
DEFAULT_PORTS: dict[str, int] = {"none": 25, "starttls": 587, "tls": 465}

# A private-use character: survives html.escape, never appears in a translation.
_LINK_MARK = "\ue000"


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


def _msgid_domain(mail_from: str) -> str:
    domain = parseaddr(mail_from)[1].rpartition("@")[2].strip() or "localhost"
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return "localhost"


def build_verification_email(
    *, to: str, link: str, mail_from: str, locale: str = "es"
) -> EmailMessage:
    """The portal's validation e-mail (plain text and HTML), with the link to open."""
    _ = translator(locale)
    subject = _("Valide su correo electrónico — Trámites de Extranjería")
    service = _("Servicio Nacional de Migraciones")
    program = _("Programa Niñez Migrante")
    welcome = _("Bienvenido al sitio de Trámites de Extranjería del Gobierno de Chile.")
    instruction = _(
        "Para poder acceder a su cuenta, primero debe validar su correo electrónico "
        "haciendo click en el siguiente enlace:"
    )
    button = _("Validar mi correo electrónico")
    fallback = _(
        'Si tiene problemas al hacer click en el botón "Validar mi correo electrónico", '
        "copie y pegue la siguiente URL en su navegador web: {link}",
        link=_LINK_MARK,
    )
    sender_note = _(
        "Este mensaje lo envió el asistente del Programa Niñez Migrante a pedido de su "
        "familia, para el registro que hicieron en Telegram."
    )
    free_note = _("El trámite es gratuito.")
    ignore_note = _("Si usted no lo pidió, ignore este mensaje.")

    text = "\n\n".join(
        [
            f"{service}\n{program}",
            welcome,
            instruction,
            f"{button}:\n{link}",
            fallback.replace(_LINK_MARK, link),
            f"--\n{sender_note} {free_note} {ignore_note}",
        ]
    )

    e = html.escape
    href = e(link, quote=True)
    link_anchor = f'<a href="{href}" style="color:#0b5cad;word-break:break-all;">{e(link)}</a>'
    body_html = f"""<!DOCTYPE html>
<html lang="{e(locale)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(subject)}</title>
</head>
<body style="margin:0;padding:0;background:#eef1f5;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"
 style="background:#eef1f5;">
<tr><td align="center" style="padding:16px 8px;">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"
 style="max-width:560px;background:#ffffff;border-radius:6px;
 font-family:Arial,Helvetica,sans-serif;color:#1f2937;">
<tr><td style="background:#0f3f7f;color:#ffffff;padding:16px 24px;border-radius:6px 6px 0 0;">
<div style="font-size:18px;font-weight:bold;">{e(service)}</div>
<div style="font-size:13px;">{e(program)}</div>
</td></tr>
<tr><td style="padding:24px;font-size:15px;line-height:1.5;">
<p style="margin:0 0 16px;">{e(welcome)}</p>
<p style="margin:0 0 16px;">{e(instruction)}</p>
<table role="presentation" cellpadding="0" cellspacing="0" border="0" style="margin:0 0 24px;">
<tr><td style="background:#0b5cad;border-radius:4px;">
<a href="{href}"
 style="display:inline-block;padding:12px 22px;color:#ffffff;font-weight:bold;
 text-decoration:none;">{e(button)}</a>
</td></tr>
</table>
<p style="margin:0;font-size:13px;color:#4b5563;">{e(fallback).replace(_LINK_MARK, link_anchor)}</p>
</td></tr>
<tr><td style="padding:16px 24px;border-top:1px solid #e5e7eb;font-size:12px;line-height:1.4;
 color:#6b7280;">
{e(sender_note)} <strong>{e(free_note)}</strong> {e(ignore_note)}
</td></tr>
</table>
</td></tr>
</table>
</body>
</html>
"""

    message = EmailMessage(policy=email.policy.default)
    message["Subject"] = subject
    message["From"] = mail_from
    message["To"] = to
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=_msgid_domain(mail_from))
    message.set_content(text, charset="utf-8")
    message.add_alternative(body_html, subtype="html", charset="utf-8")
    return message


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
