"""News for a family that does not come from its own message: the link was opened on the web,
a new password was chosen there, or the mail server refused the e-mail (all through
python-telegram-bot's update queue), and an account never verified is about to be deleted, or
was (a job)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from telegram import InlineKeyboardMarkup
from telegram.error import TelegramError
from telegram.ext import ContextTypes, TypeHandler

from bot.accounts import ResetOutcome, UnverifiedNotice, VerifyOutcome
from bot.i18n import N_, translator
from bot.mail.outbox import KIND_VERIFICATION, FailedEmail
from bot.registration import progress
from bot.registration.validation import format_date
from bot.storage import InboxKind
from conversations.callbacks import RESEND_LINK, START_REGISTRATION
from conversations.common import home_keyboard, home_of, home_text, keyboard, services

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class AccountVerified:
    """Put on the update queue by the web page of the link, so the chat hears of it at once."""

    outcome: VerifyOutcome

    @property
    def chat_id(self) -> int | None:
        # Processed in turn with the family's own messages (bot.runtime.processing).
        return self.outcome.telegram_chat_id


@dataclass(frozen=True)
class AccountPasswordChanged:
    """Put on the update queue by the reset page once a new password replaced the old one."""

    outcome: ResetOutcome

    @property
    def chat_id(self) -> int | None:
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
    # Read as it is written: this very message tells it.
    await found.inbox.deliver(
        outcome.account_id, account.telegram_user_id, InboxKind.VERIFIED, read=True
    )
    _ = translator(outcome.locale)
    home = await home_of(found, account, account.telegram_user_id)
    text = "\n\n".join(
        (_("¡Su correo fue validado! La cuenta quedó verificada."), home_text(account, _, home))
    )
    await context.bot.send_message(outcome.telegram_chat_id, text, reply_markup=home_keyboard(_))


async def password_changed(
    update: AccountPasswordChanged, context: ContextTypes.DEFAULT_TYPE
) -> None:
    """Told to the account's own chat, whoever asked for the link: if it was not the family,
    this is how it hears of it."""
    outcome = update.outcome
    if outcome.telegram_chat_id is None:
        return
    found = services(context)
    account = await found.accounts.get(outcome.account_id) if outcome.account_id else None
    if account is not None and account.id is not None:
        await found.inbox.deliver(account.id, account.telegram_user_id, InboxKind.PASSWORD_CHANGED)
    _ = translator(outcome.locale)
    text = _(
        "Su contraseña fue cambiada. Desde ahora, entre con la contraseña nueva. Si usted no la "
        "cambió, escriba /recuperar para elegir otra y hable con un voluntario con /voluntario."
    )
    await context.bot.send_message(outcome.telegram_chat_id, text)


async def email_refused(update: EmailRefused, context: ContextTypes.DEFAULT_TYPE) -> None:
    failure = update.failure
    if failure.kind != KIND_VERIFICATION:
        # A reset link's e-mail: whoever asked was told nothing about the address, and the
        # account's family may not have asked at all; the outbox's log has it.
        return
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


UNVERIFIED_WARNING = N_(
    "La cuenta con el correo {email} todavía no fue validada. Si no abre el enlace de "
    "validación, la cuenta se borrará el {date}. ¿No encuentra el enlace? Escriba /reenviar y "
    "le envío uno nuevo."
)
UNVERIFIED_DELETED = N_(
    "La cuenta con el correo {email} se borró porque no fue validada a tiempo. Puede crearla "
    "de nuevo con /crear_cuenta."
)


async def unverified_accounts(context: ContextTypes.DEFAULT_TYPE) -> None:
    """A job: warns the families whose account, never verified, is about to be deleted, then
    deletes the ones whose time is up and tells them. Each is told once: the account is marked
    (or gone) before the message is tried."""
    accounts = services(context).accounts
    for notice in await accounts.warn_unverified():
        await _tell(context, notice, UNVERIFIED_WARNING)
    for notice in await accounts.delete_unverified():
        await _tell(context, notice, UNVERIFIED_DELETED)


async def _tell(context: ContextTypes.DEFAULT_TYPE, notice: UnverifiedNotice, msgid: str) -> None:
    _ = translator(notice.locale)
    text = _(msgid, email=notice.email, date=format_date(notice.deletion_date))
    try:
        await context.bot.send_message(notice.telegram_chat_id, text)
    except TelegramError as error:
        # A family that blocked the bot, or a chat that is gone: the others are still told.
        logger.warning(
            "could not tell chat %s about its unverified account: %s",
            notice.telegram_chat_id,
            error,
        )


VERIFY_REMINDER = N_(
    "Todavía no validó la cuenta con el correo {email}: abra el enlace que le enviamos. Si no "
    "lo encuentra, revise también la carpeta de spam o correo no deseado."
)
DRAFT_REMINDER = N_(
    "Su registro quedó a medio camino, en el paso {n} de {total}. Lo que escribió está guardado: "
    "toque el botón para seguir donde quedó."
)


async def reminders(context: ContextTypes.DEFAULT_TYPE) -> None:
    """A job, every half minute: each reminder falls due once, and goes out within a minute
    (the marks are in the database, so what fell due while the bot was down goes out once,
    after it starts)."""
    found = services(context)
    settings = found.settings
    for notice in await found.accounts.remind_unverified(
        timedelta(hours=settings.unverified_reminder_hours)
    ):
        await found.inbox.deliver(notice.account_id, notice.telegram_user_id, InboxKind.REMINDER)
        _ = translator(notice.locale)
        button = keyboard([[(_("Recibir un enlace nuevo"), RESEND_LINK)]])
        await _send(
            context, notice.telegram_chat_id, _(VERIFY_REMINDER, email=notice.email), button
        )
    for draft in await found.registrations.remind_unfinished(
        timedelta(hours=settings.draft_reminder_hours)
    ):
        _ = translator(draft.locale)
        where = progress(draft)
        text = _(DRAFT_REMINDER, n=where.number or where.total, total=where.total)
        button = keyboard([[(_("Seguir con la cuenta"), START_REGISTRATION)]])
        await _send(context, draft.telegram_chat_id, text, button)


async def _send(
    context: ContextTypes.DEFAULT_TYPE, chat_id: int, text: str, markup: InlineKeyboardMarkup | None
) -> None:
    try:
        await context.bot.send_message(chat_id, text, reply_markup=markup)
    except TelegramError as error:
        # A family that blocked the bot: the others are still reminded.
        logger.warning("could not remind chat %s: %s", chat_id, error)


def handlers() -> list[TypeHandler]:
    return [
        TypeHandler(AccountVerified, account_verified),
        TypeHandler(AccountPasswordChanged, password_changed),
        TypeHandler(EmailRefused, email_refused),
    ]
