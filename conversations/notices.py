"""News for a family that does not come from its own message: the link was opened on the web,
or the mail server refused the e-mail. Both arrive through python-telegram-bot's update queue."""

from __future__ import annotations

from dataclasses import dataclass

from telegram.ext import ContextTypes, TypeHandler

from bot.accounts import VerifyOutcome
from bot.i18n import translator
from bot.outbox import FailedEmail
from bot.portal import Home
from conversations.common import services
from conversations.menu import home_text, menu_keyboard


@dataclass(frozen=True)
class AccountVerified:
    """Put on the update queue by the web page of the link, so the chat hears of it at once."""

    outcome: VerifyOutcome

    @property
    def chat_id(self) -> int | None:
        # Processed in turn with the family's own messages (bot.processing).
        return self.outcome.telegram_chat_id


@dataclass(frozen=True)
class EmailRefused:
    """Put on the update queue by the outbox when an e-mail can never be delivered."""

    failure: FailedEmail


async def account_verified(update: AccountVerified, context: ContextTypes.DEFAULT_TYPE) -> None:
    outcome = update.outcome
    if outcome.telegram_chat_id is None or outcome.account_id is None:
        return
    found = services(context)
    account = await found.accounts.get(outcome.account_id)
    if account is None:
        return
    _ = translator(outcome.locale)
    home = Home(inbox=await found.tickets.inbox_count(account.telegram_user_id))
    text = "\n\n".join(
        (_("¡Su correo fue validado! La cuenta quedó verificada."), home_text(account, _, home))
    )
    await context.bot.send_message(outcome.telegram_chat_id, text, reply_markup=menu_keyboard(_))


async def email_refused(update: EmailRefused, context: ContextTypes.DEFAULT_TYPE) -> None:
    failure = update.failure
    account = await services(context).accounts.get(failure.account_id)
    if account is None:
        return
    _ = translator(failure.locale)
    if failure.recipient_refused:
        text = _(
            "No pudimos entregar el correo de validación a {email}: el servidor de correo dice "
            "que esa dirección no existe o no recibe correos. Revise que esté bien escrita.",
            email=failure.recipient,
        )
    else:
        text = _("No pudimos enviar el correo de validación a {email}.", email=failure.recipient)
    text += "\n\n" + _(
        "El enlace que le di en este chat sirve igual para validar la cuenta. Si el correo "
        "estaba mal escrito, cree la cuenta de nuevo con /crear_cuenta y el correo correcto."
    )
    await context.bot.send_message(account.telegram_chat_id, text)


def handlers() -> list[TypeHandler]:
    return [
        TypeHandler(AccountVerified, account_verified),
        TypeHandler(EmailRefused, email_refused),
    ]
