"""The validation e-mail, in the portal's own wording: `templates/verification.*`."""

from __future__ import annotations

from email.message import EmailMessage

from bot.mail.compose import compose


def build_verification_email(
    *, to: str, link: str, mail_from: str, locale: str = "es"
) -> EmailMessage:
    """The portal's validation e-mail (plain text and HTML), with the link to open."""
    return compose("verification", to=to, mail_from=mail_from, locale=locale, link=link)
