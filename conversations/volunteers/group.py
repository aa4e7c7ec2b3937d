"""The volunteers' side, in their group: answers relayed to families signed by the team, and
the volunteers' commands, for the group's members only."""

from __future__ import annotations

import asyncio
import logging
import math
from datetime import UTC, datetime, timedelta

from telegram import ChatMember, Message, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.i18n import Translate, translator
from bot.splitting import CAPTION_LIMIT, telegram_length
from bot.storage import ClosedBy, Ticket, TicketStatus, utcnow
from conversations.callbacks import HELPED, PENDING_PAGE
from conversations.common import (
    button_fields,
    keyboard,
    reply,
    resume_registration,
    send_text,
    services,
    settle_button,
    texts,
    whole_number,
)
from conversations.volunteers.shared import (
    JUST_POSTED,
    MEMBER_STATUSES,
    PENDING_PER_PAGE,
    RELAY_RECORD_PATIENCE,
    close_topic,
    duration,
    spanish,
    team_signature,
    tell_group,
    volunteers_chat,
    volunteers_unreachable,
)

logger = logging.getLogger(__name__)


# --- The volunteers' side -------------------------------------------------------------------


async def relay_to_family(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A volunteer wrote in a ticket's topic, or replied to a relayed question."""
    message = update.effective_message
    if message is None or message.from_user is None or message.from_user.is_bot:
        return
    found = services(context)
    ticket = await _ticket_of(context, message)
    if ticket is None:
        return  # volunteers talking among themselves
    if not await _is_volunteer(context, message.chat_id, message.from_user.id):
        await message.reply_text(
            spanish("Solo los miembros del equipo pueden responder a las familias.")
        )
        return
    if ticket.status != TicketStatus.OPEN:
        await message.reply_text(spanish("La consulta #{n} ya está cerrada.", n=ticket.number))
        return
    _ = translator(ticket.locale)
    # Kept in the inbox before the family can see it: the family's own updates run alongside
    # this one, and a /bandeja sent on reading the answer must find it there. An answer that
    # cannot be delivered stays in the inbox, for when the family comes back.
    kept = await found.tickets.record_answer(ticket.number, message.text or message.caption or "📎")
    if kept is None:  # closed meanwhile (by the family, or by erasing its data)
        await message.reply_text(spanish("La consulta #{n} ya está cerrada.", n=ticket.number))
        return
    try:
        await _deliver(context, ticket, message, _)
    except (Forbidden, BadRequest) as error:
        logger.warning("answer to ticket %s not delivered: %s", ticket.number, error)
        await message.reply_text(_undelivered(error))


async def _deliver(
    context: ContextTypes.DEFAULT_TYPE, ticket: Ticket, message: Message, _: Translate
) -> None:
    # Signed as the team: the volunteer's own name and account stay hidden (a copy, not a
    # forward, carries no author).
    signature = team_signature(_)
    if message.text:
        await send_text(context.bot, ticket.telegram_chat_id, f"{signature}\n\n{message.text}")
        return
    caption = f"{signature}\n\n{message.caption}" if message.caption else signature
    if telegram_length(caption) > CAPTION_LIMIT:
        # Signed, the caption no longer fits under the file: it goes as text just before.
        await send_text(context.bot, ticket.telegram_chat_id, caption)
        await context.bot.copy_message(
            ticket.telegram_chat_id, message.chat_id, message.message_id, caption=""
        )
        return
    try:
        await context.bot.copy_message(
            ticket.telegram_chat_id, message.chat_id, message.message_id, caption=caption
        )
    except BadRequest:
        # Stickers and video notes take no caption: the signature goes just before.
        await context.bot.send_message(ticket.telegram_chat_id, signature)
        await context.bot.copy_message(ticket.telegram_chat_id, message.chat_id, message.message_id)


def _undelivered(error: TelegramError) -> str:
    if isinstance(error, Forbidden) or "chat not found" in str(error).casefold():
        return spanish(
            "No se pudo entregar la respuesta: la familia bloqueó el bot o borró el chat. "
            "Quedó guardada en su Bandeja de Entrada."
        )
    return spanish(
        "Telegram no aceptó esta respuesta para la familia. Quedó guardada en su Bandeja de "
        "Entrada; si puede, envíela de otra forma (por ejemplo, como texto)."
    )


async def _ticket_of(context: ContextTypes.DEFAULT_TYPE, message: Message) -> Ticket | None:
    """The ticket a message of the volunteers' group is about: its topic's, or that of the
    message it replies to, both looked up in that group only."""
    tickets = services(context).tickets
    if message.is_topic_message and message.message_thread_id:
        return await tickets.by_topic(message.chat_id, message.message_thread_id)
    replied = message.reply_to_message
    if replied is None:
        return None
    ticket = await tickets.by_group_message(message.chat_id, replied.message_id)
    from_bot = replied.from_user is not None and replied.from_user.id == context.bot.id
    just_posted = datetime.now(UTC) - replied.date < JUST_POSTED
    waited = 0.0
    while ticket is None and from_bot and just_posted and waited < RELAY_RECORD_PATIENCE:
        # The bot records which ticket a message it posted belongs to just after posting it,
        # in the family's update, which runs alongside this one: a volunteer quick to reply
        # can be a moment ahead of that record.
        await asyncio.sleep(0.1)
        waited += 0.1
        ticket = await tickets.by_group_message(message.chat_id, replied.message_id)
    return ticket


async def _ticket_commanded(
    update: Update, context: ContextTypes.DEFAULT_TYPE
) -> tuple[Message, Ticket] | None:
    """The ticket a volunteer's command is about: its topic, or the message it replies to."""
    message = update.effective_message
    if message is None:
        return None
    ticket = await _ticket_of(context, message)
    if ticket is None:
        await message.reply_text(
            spanish("Use el comando dentro del tema de la consulta, o respondiendo a su mensaje.")
        )
        return None
    return message, ticket


async def _volunteers_ticket(
    update: Update, context: ContextTypes.DEFAULT_TYPE
) -> tuple[Message, Ticket] | None:
    """For a volunteer's command about one ticket: the command and its ticket, once the
    sender is known to be a volunteer; None, after saying why, otherwise."""
    if not await _volunteer_only(update, context):
        return None
    return await _ticket_commanded(update, context)


async def _is_volunteer(context: ContextTypes.DEFAULT_TYPE, group: int, user_id: int) -> bool:
    """A member of the volunteers' group (a restricted one is not: it may be muted, or only
    passing through a public group)."""
    try:
        member = await context.bot.get_chat_member(group, user_id)
    except TelegramError as error:
        # Only members can post in a private group at all: the check is a second lock, and a
        # failure to ask must not lock the volunteers out.
        logger.warning("could not check membership of %s: %s", user_id, error)
        return True
    return member.status in MEMBER_STATUSES


async def _volunteer_only(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Volunteers' commands work in their group, for its members; anywhere else, a refusal."""
    chat, user = update.effective_chat, update.effective_user
    group = volunteers_chat(context)
    allowed = False
    if chat is not None and user is not None and group is not None and chat.id == group:
        allowed = await _is_volunteer(context, group, user.id)
    if not allowed:
        _ = texts(update, context) if chat is None or chat.type == ChatType.PRIVATE else spanish
        await reply(update, context, _("Ese comando es solo para el equipo de voluntarios."))
    return allowed


async def pending(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/pendientes, and its "Siguientes" button: the open tickets, a page at a time."""
    await settle_button(update)
    if not await _volunteer_only(update, context):
        return
    fields = button_fields(update, PENDING_PAGE, 1)
    page = (whole_number(fields[0]) if fields else None) or 1
    found = services(context)
    total = await found.tickets.pending_count()
    pages = max(1, math.ceil(total / PENDING_PER_PAGE))
    page = min(page, pages)
    tickets = await found.tickets.pending(
        offset=(page - 1) * PENDING_PER_PAGE, limit=PENDING_PER_PAGE
    )
    if not tickets:
        await reply(update, context, spanish("No hay consultas pendientes. 🎉"))
        return
    now = utcnow()
    lines = [spanish("Consultas abiertas, de la más antigua a la más nueva:")]
    if pages > 1:
        lines.append(spanish("Página {page} de {pages}", page=page, pages=pages))
    for ticket in tickets:
        answered = spanish("respondida") if ticket.first_answer_at else spanish("sin respuesta")
        lines.append(
            spanish(
                "#{n} {name} — espera {wait} ({state})",
                n=ticket.number,
                name=ticket.first_name,
                wait=duration(now - ticket.created_at),
                state=answered,
            )
        )
    more = [(spanish("Siguientes ▸"), f"{PENDING_PAGE}:{page + 1}")] if page < pages else []
    await reply(update, context, "\n".join(lines), keyboard([more]))


async def close_by_volunteer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    commanded = await _volunteers_ticket(update, context)
    if commanded is None:
        return
    message, ticket = commanded
    found = services(context)
    if await found.tickets.close(ticket.number, ClosedBy.VOLUNTEER) is None:
        await message.reply_text(spanish("La consulta #{n} ya estaba cerrada.", n=ticket.number))
        return
    await close_topic(context, ticket)
    _ = translator(ticket.locale)
    try:
        await context.bot.send_message(
            ticket.telegram_chat_id,
            _("Un voluntario cerró su consulta número {n}. ¿Le ayudamos?", n=ticket.number),
            reply_markup=keyboard(
                [
                    [
                        (_("Sí, me ayudaron"), f"{HELPED}:{ticket.number}:1"),
                        (_("No"), f"{HELPED}:{ticket.number}:0"),
                    ]
                ]
            ),
        )
        await resume_registration(
            context, ticket.telegram_user_id, _("Puede seguir con su cuenta donde quedó:")
        )
    except (Forbidden, BadRequest) as error:
        logger.warning("family of ticket %s not told of its closing: %s", ticket.number, error)
        await message.reply_text(
            spanish(
                "Consulta #{n} cerrada. No se pudo avisar a la familia: bloqueó el bot o borró "
                "el chat.",
                n=ticket.number,
            )
        )
    else:
        await message.reply_text(spanish("Consulta #{n} cerrada.", n=ticket.number))


async def statistics(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await _volunteer_only(update, context):
        return
    stats = await services(context).tickets.stats()
    lines = [spanish("Estadísticas")]
    for days in ("7", "30"):
        window = stats[days]
        median = window.median_first_answer_seconds
        lines += [
            "",
            spanish("Últimos {days} días:", days=days),
            spanish("Cuentas empezadas: {n}", n=window.accounts_started),
            spanish("Cuentas creadas: {n}", n=window.accounts_created),
            spanish("Cuentas verificadas: {n}", n=window.accounts_verified),
            spanish("Consultas abiertas: {n}", n=window.tickets_opened),
            spanish("Consultas cerradas: {n}", n=window.tickets_closed),
            spanish("Consultas abiertas ahora: {n}", n=window.tickets_open_now),
            spanish(
                "Mediana hasta la primera respuesta: {wait}",
                wait=duration(timedelta(seconds=median)) if median is not None else "—",
            ),
        ]
    await reply(update, context, "\n".join(lines))


async def block(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _set_blocked(update, context, True)


async def unblock(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _set_blocked(update, context, False)


async def _set_blocked(update: Update, context: ContextTypes.DEFAULT_TYPE, blocked: bool) -> None:
    commanded = await _volunteers_ticket(update, context)
    if commanded is None:
        return
    message, ticket = commanded
    found = services(context)
    if blocked:
        await found.tickets.block(ticket.telegram_user_id)
        await found.tickets.close(ticket.number, ClosedBy.VOLUNTEER)
        await message.reply_text(
            spanish("Bloqueado: sus mensajes ya no llegarán al grupo. /desbloquear lo revierte.")
        )
    else:
        await found.tickets.unblock(ticket.telegram_user_id)
        await message.reply_text(spanish("Desbloqueado: puede volver a abrir consultas."))


async def remind_unanswered(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Job: a ticket with no answer after TICKET_REMINDER_HOURS is raised again, once."""
    found = services(context)
    if found.settings.volunteers_chat_id is None:
        return
    waited = timedelta(hours=found.settings.ticket_reminder_hours)
    for ticket in await found.tickets.due_for_reminder(waited):
        # Claimed before it is posted: a second run (or process) does not raise it again.
        if not await found.tickets.mark_reminded(ticket.number):
            continue
        await tell_group(
            context,
            ticket,
            spanish(
                "⏰ La consulta #{n} de {name} espera respuesta desde hace {wait}.",
                n=ticket.number,
                name=ticket.first_name,
                wait=duration(utcnow() - ticket.created_at),
            ),
        )


async def bot_left_group(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The bot was removed from the volunteers' group: families waiting there are told."""
    membership = update.my_chat_member
    if membership is None or membership.new_chat_member.status not in (
        ChatMember.LEFT,
        ChatMember.BANNED,
    ):
        return
    logger.warning("the bot is no longer in the volunteers' group %s", membership.chat.id)
    for ticket in await services(context).tickets.pending():
        await volunteers_unreachable(context, ticket)


def volunteer_handlers(group: int | None) -> list[BaseHandler]:
    """Group -1, and for the volunteers' group only: in any other chat they never run."""
    if group is None:
        return []
    in_group = filters.Chat(chat_id=group)
    return [
        CommandHandler("pendientes", pending, filters=in_group),
        CallbackQueryHandler(pending, pattern=f"^{PENDING_PAGE}:"),
        CommandHandler("cerrar", close_by_volunteer, filters=in_group),
        CommandHandler("estadisticas", statistics, filters=in_group),
        CommandHandler("bloquear", block, filters=in_group),
        CommandHandler("desbloquear", unblock, filters=in_group),
        MessageHandler(
            in_group & ~filters.COMMAND & ~filters.StatusUpdate.ALL & ~filters.UpdateType.EDITED,
            relay_to_family,
        ),
        ChatMemberHandler(bot_left_group, ChatMemberHandler.MY_CHAT_MEMBER, chat_id=group),
    ]
