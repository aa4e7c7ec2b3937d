"""What both sides of a ticket use: the group, its texts in Spanish, the ticket's header and
topic, and telling a family that the volunteers cannot be reached."""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram import ChatMember, ReplyParameters
from telegram.error import TelegramError
from telegram.ext import (
    ContextTypes,
)

from bot.i18n import LANGUAGE_NAMES, N_, Translate, translator
from bot.registration import progress
from bot.services import Services
from bot.storage import RelayDirection, Ticket
from conversations.callbacks import CLOSE_TICKET, PENDING_PAGE
from conversations.common import (
    keyboard,
    services,
)

logger = logging.getLogger(__name__)

PENDING_PER_PAGE = 25
# The volunteers' own commands, with their descriptions for the group's menu.
COMMANDS = (
    ("pendientes", N_("Consultas abiertas, de la más antigua a la más nueva")),
    ("cerrar", N_("Cerrar la consulta de este tema o de este mensaje")),
    ("estadisticas", N_("Cuentas y consultas de los últimos 7 y 30 días")),
    ("bloquear", N_("Bloquear a quien abusa del servicio")),
    ("desbloquear", N_("Volver a permitir a alguien bloqueado")),
)
COMMAND_NAMES = tuple(name for name, _description in COMMANDS)
# Callback-data prefixes of the buttons the bot posts in the volunteers' group.
GROUP_BUTTONS = (PENDING_PAGE + ":",)
MEMBER_STATUSES = {ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER}
REMIND_EVERY = timedelta(minutes=5)
# Seconds a volunteer's reply to a message of the bot waits for that message's ticket to be
# recorded (see _ticket_of); a reply to any other message of the bot then gives up quietly.
RELAY_RECORD_PATIENCE = 2.0
# Only a message the bot posted this recently can still be waiting for its record (Telegram's
# dates are whole seconds, hence the margin); a reply to an older one never waits.
JUST_POSTED = timedelta(seconds=RELAY_RECORD_PATIENCE + 3)

# What volunteers see for the group's own texts: the group's language is Spanish.
spanish = translator("es")


def volunteers_chat(context: ContextTypes.DEFAULT_TYPE) -> int | None:
    return services(context).settings.volunteers_chat_id


def team_signature(_: Translate) -> str:
    return _("Equipo de voluntarios de Niñez Migrante:")


# --- Shared -----------------------------------------------------------------------------------


async def announce_ticket(context: ContextTypes.DEFAULT_TYPE, ticket: Ticket) -> None:
    """A forum topic for the ticket (or a header in a plain group), with what helps to answer."""
    found = services(context)
    group = volunteers_chat(context)
    if group is None:
        raise LookupError("tickets are announced only with VOLUNTEERS_CHAT_ID set")
    header = await _family_context(context, ticket)
    topic_id = await _new_topic(context, group, ticket)
    if topic_id is not None:
        await found.tickets.set_topic(ticket.number, group, topic_id)
        ticket.topic_id = topic_id
        posted = await context.bot.send_message(group, header, message_thread_id=topic_id)
    else:
        posted = await context.bot.send_message(
            group, header + "\n\n" + spanish("Respondan a este mensaje o a sus preguntas.")
        )
    await found.tickets.remember_relay(
        ticket.number, group, posted.message_id, RelayDirection.TO_GROUP
    )


async def _new_topic(context: ContextTypes.DEFAULT_TYPE, group: int, ticket: Ticket) -> int | None:
    """The new ticket's forum topic; None in a plain group, or where the bot may not make
    topics: the ticket then works by replies, as in a plain group."""
    try:
        if not (await context.bot.get_chat(group)).is_forum:
            return None
        topic = await context.bot.create_forum_topic(
            group, spanish("#{n} {name}", n=ticket.number, name=ticket.first_name)[:128]
        )
    except TelegramError as error:
        logger.warning("no forum topic for ticket %s (%s); using replies", ticket.number, error)
        return None
    return topic.message_thread_id


async def header_reply(found: Services, ticket: Ticket) -> ReplyParameters | None:
    """In a plain group each question answers the ticket's header, to keep them together."""
    relays = await found.tickets.relays(ticket.number)
    return ReplyParameters(relays[0], allow_sending_without_reply=True) if relays else None


async def _family_context(context: ContextTypes.DEFAULT_TYPE, ticket: Ticket) -> str:
    found = services(context)
    draft = await found.registrations.current(ticket.telegram_user_id)
    account = await found.accounts.latest_account(ticket.telegram_user_id)
    if account is not None and account.verified_at is not None:
        standing = spanish("cuenta creada y verificada")
    elif account is not None:
        standing = spanish("cuenta creada, correo sin verificar")
    elif draft is not None:
        where = progress(draft)
        if where.number is not None and where.label is not None:
            standing = spanish(
                "creando la cuenta: paso {n} de {total} ({label})",
                n=where.number,
                total=where.total,
                label=spanish(where.label),
            )
        else:
            standing = spanish("creando la cuenta: revisando los datos")
    else:
        standing = spanish("todavía no empieza a crear la cuenta")
    return "\n".join(
        (
            spanish("Consulta #{n}", n=ticket.number),
            spanish("Nombre: {name}", name=ticket.first_name or "—"),
            # Named in itself, so a volunteer who reads Kreyòl sees "Kreyòl" and takes it.
            spanish("Idioma: {locale}", locale=LANGUAGE_NAMES.get(ticket.locale, ticket.locale)),
            spanish("Situación: {standing}", standing=standing),
        )
    )


async def tell_group(context: ContextTypes.DEFAULT_TYPE, ticket: Ticket, text: str) -> None:
    group = volunteers_chat(context)
    if group is None:
        return
    try:
        await context.bot.send_message(group, text, message_thread_id=ticket.topic_id)
    except TelegramError as error:
        logger.warning("could not tell the group about ticket %s: %s", ticket.number, error)


async def close_topic(context: ContextTypes.DEFAULT_TYPE, ticket: Ticket) -> None:
    group = volunteers_chat(context)
    if group is None or ticket.topic_id is None:
        return
    try:
        await context.bot.close_forum_topic(group, ticket.topic_id)
    except TelegramError as error:
        logger.info("could not close the topic of ticket %s: %s", ticket.number, error)


async def volunteers_unreachable(context: ContextTypes.DEFAULT_TYPE, ticket: Ticket) -> None:
    _ = translator(ticket.locale)
    try:
        await context.bot.send_message(
            ticket.telegram_chat_id,
            _(
                "Los voluntarios no pueden recibir mensajes en este momento. Puede cerrar su "
                "consulta y seguir con su cuenta; más tarde puede abrir otra con /voluntario."
            ),
            reply_markup=keyboard([[(_("Cerrar consulta"), CLOSE_TICKET)]]),
        )
    except TelegramError as error:
        logger.info("could not tell the family of ticket %s: %s", ticket.number, error)


def duration(delta: timedelta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return spanish("{m} min", m=minutes)
    return spanish("{h} h {m} min", h=minutes // 60, m=minutes % 60)
