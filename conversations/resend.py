"""/reenviar: a fresh verification link, in the chat and by e-mail; older links stop working."""

from __future__ import annotations

import math

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.accounts import ResendStatus
from bot.storage import utcnow
from conversations.callbacks import RESEND_LINK
from conversations.common import (
    family_of,
    reply,
    send_link_message,
    services,
    settle_button,
    texts,
)


async def resend(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    family = family_of(update)
    if family is None:
        return
    user, chat = family
    _ = texts(update, context)
    outcome = await services(context).accounts.resend(user.id)
    created, account, retry_at = outcome.created, outcome.account, outcome.retry_at
    if outcome.status is ResendStatus.SENT and created is not None:
        text = "\n\n".join(
            (
                _(
                    "Aquí tiene un enlace nuevo para validar la cuenta de {name}. También se lo "
                    "envié a {email} (revise la carpeta de spam). Los enlaces anteriores ya no "
                    "sirven.",
                    name=created.account.first_names,
                    email=created.account.email,
                ),
                created.link,
            )
        )
        await send_link_message(context.bot, chat.id, text, created.link, _)
    elif outcome.status is ResendStatus.ALREADY_VERIFIED and account is not None:
        await reply(
            update,
            context,
            _(
                "La cuenta con el correo {email} ya está verificada: no necesita otro enlace. "
                "Escriba /start para ver el inicio del portal.",
                email=account.email,
            ),
        )
    elif outcome.status is ResendStatus.TOO_SOON and retry_at is not None:
        minutes = max(1, math.ceil((retry_at - utcnow()).total_seconds() / 60))
        await reply(
            update,
            context,
            _(
                "Ya le envié varios enlaces en la última hora. Para proteger la cuenta, podrá "
                "pedir otro en {minutes} minutos. Mientras tanto, busque el último correo "
                "también en la carpeta de spam.",
                minutes=minutes,
            ),
        )
    else:
        await reply(
            update,
            context,
            _("Todavía no tiene una cuenta creada. Escriba /crear_cuenta para crearla."),
        )


async def resend_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The reminder's button: /reenviar, without typing it."""
    await settle_button(update)
    await resend(update, context)


def handlers() -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
    return [
        CommandHandler("reenviar", resend, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(resend_button, pattern=f"^{RESEND_LINK}$"),
    ]
