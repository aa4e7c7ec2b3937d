"""The e-mail with the link to choose a new password: `templates/password_reset.*`."""

from __future__ import annotations

from email.message import EmailMessage

from bot.mail.compose import compose


def build_password_reset_email(
    *, to: str, link: str, mail_from: str, locale: str = "es"
) -> EmailMessage:
    """The link to choose a new password (plain text and HTML); it is only ever sent here,
    to the account's own address, never in a chat."""
    return compose("password_reset", to=to, mail_from=mail_from, locale=locale, link=link, email=to)
