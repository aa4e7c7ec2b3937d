"""One kind of e-mail from its three templates: `templates/<kind>.subject.txt`, `<kind>.txt`
and `<kind>.html`. A new kind is those templates and a builder that calls `compose`."""

from __future__ import annotations

import email.policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from bot.i18n import normalise_locale
from bot.rendering import environment


def _msgid_domain(mail_from: str) -> str:
    domain = parseaddr(mail_from)[1].rpartition("@")[2].strip() or "localhost"
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return "localhost"


def compose(
    kind: str, *, to: str, mail_from: str, locale: str | None, **context: object
) -> EmailMessage:
    """Plain text with an HTML alternative, both rendered from `context` in `locale`."""
    locale = normalise_locale(locale)
    templates = environment("bot.mail", locale)
    values = {"locale": locale, **context}
    # A line break in a header is refused by the e-mail policy, so a subject keeps to one line.
    subject = templates.get_template(f"{kind}.subject.txt").render(values).strip()
    text = templates.get_template(f"{kind}.txt").render(values)
    html = templates.get_template(f"{kind}.html").render(values, subject=subject)

    message = EmailMessage(policy=email.policy.default)
    message["Subject"] = subject
    message["From"] = mail_from
    message["To"] = to
    message["Date"] = formatdate(localtime=True)
    # Our own domain, as spam filters expect; the host name would say nothing to them.
    message["Message-ID"] = make_msgid(domain=_msgid_domain(mail_from))
    message.set_content(text, charset="utf-8")
    message.add_alternative(html, subtype="html", charset="utf-8")
    return message
