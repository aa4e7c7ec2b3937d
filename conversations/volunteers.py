"""Families ask, volunteers answer: tickets relayed between a family's private chat and the
volunteers' group (one forum topic per ticket, or replies in a plain group).

The family never leaves its chat and never sees who answered; volunteers see the question and
where the family stands, never passwords, tokens or links.
"""

from __future__ import annotations

import asyncio
import logging
import math
from datetime import UTC, datetime, timedelta

from telegram import ChatMember, Message, MessageOriginUser, ReplyParameters, Update
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.i18n import N_, Translate, translator
from bot.registration import FIELDS, FIELDS_BY_KEY, HUMAN_CHECK, SUMMARY, position
from bot.registration.validation import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from bot.services import Services
from bot.splitting import CAPTION_LIMIT, telegram_length
from bot.storage import ClosedBy, RelayDirection, Ticket, TicketStatus, utcnow
from conversations.callbacks import ASK_VOLUNTEER, CLOSE_TICKET, HELPED, PENDING_PAGE
from conversations.common import (
    button_fields,
    delete_quietly,
    family_of,
    final,
    keyboard,
    locale_of,
    reply,
    resume_registration,
    send_text,
    services,
    settle_button,
    texts,
    whole_number,
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
_JUST_POSTED = timedelta(seconds=RELAY_RECORD_PATIENCE + 3)

# What volunteers see for the group's own texts: the group's language is Spanish.
_group = translator("es")


def _volunteers_chat(context: ContextTypes.DEFAULT_TYPE) -> int | None:
    return services(context).settings.volunteers_chat_id


def _signature(_: Translate) -> str:
    return _("Equipo de voluntarios de Niñez Migrante:")


# --- The family's side ----------------------------------------------------------------------


async def open_ticket(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/voluntario, the menu button, or the button offered after repeated mistakes."""
    await settle_button(update)
    family = family_of(update)
    if family is None:
        raise ApplicationHandlerStop
    user, chat = family
    _ = texts(update)
    found = services(context)
    group = _volunteers_chat(context)
    if group is None:
        await reply(
            update,
            context,
            _(
                "Por ahora no hay voluntarios atendiendo por este chat. Puede pedir ayuda en la "
                "página del Servicio Nacional de Migraciones (serviciomigraciones.cl, sección "
                "Contacto) o en la oficina de migraciones de su municipalidad."
            ),
        )
        raise ApplicationHandlerStop
    if await found.tickets.is_blocked(user.id):
        await reply(update, context, _("No es posible abrir una consulta desde esta cuenta."))
        raise ApplicationHandlerStop

    draft = await found.registrations.current(user.id)
    asking = FIELDS_BY_KEY.get(draft.step) if draft is not None else None
    at_password = asking is not None and asking.secret
    ticket, created = await found.tickets.open_ticket(
        user.id, chat.id, user.first_name or "", locale_of(update)
    )
    if created:
        try:
            await _announce_ticket(context, ticket)
        except TelegramError as error:
            # The group cannot be reached now; the ticket stays, and the family can leave it.
            logger.warning("ticket %s not announced in the group: %s", ticket.number, error)
            await _volunteers_unreachable(context, ticket)
            raise ApplicationHandlerStop from None
    ahead = max(0, await found.tickets.waiting_position(ticket.number) - 1)
    await reply(
        update,
        context,
        "\n\n".join(
            (
                *(
                    [
                        _(
                            "Importante: no escriba aquí su contraseña. Los voluntarios no la "
                            "necesitan y nunca se la pedirán."
                        )
                    ]
                    if at_password
                    else []
                ),
                _("Su consulta es la número {number}.", number=ticket.number),
                _(
                    "Escriba su pregunta aquí. También puede mandar una foto de un documento, "
                    "un audio o un archivo. Un voluntario del programa le responderá en este "
                    "chat, normalmente en menos de una hora (entre las 9 y las 21 h)."
                ),
                _("Hay {n} consultas antes que la suya.", n=ahead)
                if ahead > 0
                else _("No hay otras consultas esperando antes que la suya."),
                _("Para cerrar la consulta, escriba /cancelar o toque el botón."),
            )
        ),
        keyboard([[(_("Cerrar consulta"), CLOSE_TICKET)]]),
    )
    raise ApplicationHandlerStop


async def relay_to_volunteers(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every message of a family with an open ticket goes to that ticket."""
    user, message = update.effective_user, update.effective_message
    found = services(context)
    if user is None or message is None or not found.tickets.has_open_ticket(user.id):
        return  # not in a ticket: the other conversations take it
    ticket = await found.tickets.open_for(user.id)
    group = _volunteers_chat(context)
    if ticket is None or group is None:
        found.tickets.forget_open(user.id)
        return
    _ = texts(update)
    if _forwarded_from_the_bot(context, message):
        # The bot's own messages carry the family's link and data: not for the volunteers.
        await reply(
            update,
            context,
            _(
                "No pasé ese mensaje a los voluntarios: es del asistente y tiene sus datos. "
                "Escriba su pregunta con sus palabras."
            ),
        )
        raise ApplicationHandlerStop
    if await _holds_password(found, user.id, message):
        if await delete_quietly(message):
            text = _(
                "Borré su mensaje y no lo pasé a los voluntarios: tenía su contraseña. No la "
                "comparta con nadie."
            )
        else:
            text = _(
                "No pasé su mensaje a los voluntarios: tenía su contraseña. Bórrelo usted, por "
                "favor (mantenga el dedo sobre el mensaje y elija «Eliminar»)."
            )
        await reply(update, context, text)
        raise ApplicationHandlerStop
    # The ticket's header is its first relay; the family's first question comes after it.
    first = len(await found.tickets.relays(ticket.number)) <= 1
    thread = ticket.topic_id
    replying = None if thread else await _header_reply(found, ticket)
    try:
        try:
            copied = await context.bot.copy_message(
                group,
                from_chat_id=message.chat_id,
                message_id=message.message_id,
                message_thread_id=thread,
                reply_parameters=replying,
            )
            copied_id = copied.message_id
        except BadRequest:
            if not message.text:
                raise
            # A text can always go as a new message, where copying is refused.
            sent = await context.bot.send_message(
                group, message.text, message_thread_id=thread, reply_parameters=replying
            )
            copied_id = sent.message_id
    except Forbidden:
        logger.warning("the bot cannot post in the volunteers' group (ticket %s)", ticket.number)
        await _volunteers_unreachable(context, ticket)
        raise ApplicationHandlerStop from None
    except TelegramError:
        logger.exception("could not relay a message of ticket %s", ticket.number)
        await reply(
            update,
            context,
            _("No pude pasar su mensaje a los voluntarios. Intente de nuevo en unos minutos."),
        )
        raise ApplicationHandlerStop from None
    await found.tickets.remember_relay(ticket.number, group, copied_id, RelayDirection.TO_GROUP)
    if first:
        await reply(update, context, _("Recibido. Se lo pasé a los voluntarios."))
    raise ApplicationHandlerStop


async def close_by_family(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/cancelar or the button, while a ticket is open; otherwise /cancelar goes on."""
    user = update.effective_user
    found = services(context)
    if user is None or not found.tickets.has_open_ticket(user.id):
        return
    await settle_button(update)
    ticket = await found.tickets.open_for(user.id)
    if ticket is None:
        found.tickets.forget_open(user.id)
        return
    await found.tickets.close(ticket.number, ClosedBy.FAMILY)
    _ = texts(update)
    await _tell_group(
        context, ticket, _group("La familia cerró la consulta #{n}.", n=ticket.number)
    )
    await _close_topic(context, ticket)
    await reply(update, context, _("Consulta cerrada. Cuando necesite, escriba /voluntario."))
    await resume_registration(context, user.id, _("Sigamos con la cuenta donde quedó:"))
    raise ApplicationHandlerStop


async def _holds_password(found: Services, telegram_user_id: int, message: Message) -> bool:
    """Whether the message holds the family's password (its draft's or an account's)."""
    text = message.text or message.caption
    if not text:
        return False
    draft = await found.registrations.current(telegram_user_id)
    asking = FIELDS_BY_KEY.get(draft.step) if draft is not None else None
    if asking is not None and asking.secret and _one_word_of_password_length(text):
        # The form waits for a new password, so no hash can tell yet: one word of the
        # password's length typed now is taken for it.
        return True
    hashes = await found.accounts.password_hashes(telegram_user_id)
    held = found.registrations.password_hash(draft) if draft is not None else None
    if held is not None:
        hashes.insert(0, held)
    return bool(hashes) and await found.accounts.passwords.found_in(text, hashes)


def _one_word_of_password_length(text: str) -> bool:
    word = text.strip()
    return MIN_PASSWORD_LENGTH <= len(word) <= MAX_PASSWORD_LENGTH and not any(
        character.isspace() for character in word
    )


def _forwarded_from_the_bot(context: ContextTypes.DEFAULT_TYPE, message: Message) -> bool:
    origin = message.forward_origin
    return isinstance(origin, MessageOriginUser) and origin.sender_user.id == context.bot.id


async def helped(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """ "¿Le ayudamos?" answered; only the family of that ticket can answer it."""
    await settle_button(update)
    user = update.effective_user
    fields = button_fields(update, HELPED, 2)
    ticket_id = whole_number(fields[0]) if fields else None
    _ = texts(update)
    if (
        user is None
        or fields is None
        or ticket_id is None
        or fields[1] not in ("0", "1")
        or not await services(context).tickets.set_helped(ticket_id, user.id, fields[1] == "1")
    ):
        await reply(update, context, _("Este botón ya no sirve."))
        return
    await reply(update, context, _("¡Gracias por contarnos!"))


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
            _group("Solo los miembros del equipo pueden responder a las familias.")
        )
        return
    if ticket.status != TicketStatus.OPEN:
        await message.reply_text(_group("La consulta #{n} ya está cerrada.", n=ticket.number))
        return
    _ = translator(ticket.locale)
    # Kept in the inbox before the family can see it: the family's own updates run alongside
    # this one, and a /bandeja sent on reading the answer must find it there. An answer that
    # cannot be delivered stays in the inbox, for when the family comes back.
    await found.tickets.record_answer(ticket.number, message.text or message.caption or "📎")
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
    signature = _signature(_)
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
        return _group(
            "No se pudo entregar la respuesta: la familia bloqueó el bot o borró el chat. "
            "Quedó guardada en su Bandeja de Entrada."
        )
    return _group(
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
    just_posted = datetime.now(UTC) - replied.date < _JUST_POSTED
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
            _group("Use el comando dentro del tema de la consulta, o respondiendo a su mensaje.")
        )
        return None
    return message, ticket


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
    group = _volunteers_chat(context)
    allowed = False
    if chat is not None and user is not None and group is not None and chat.id == group:
        allowed = await _is_volunteer(context, group, user.id)
    if not allowed:
        _ = texts(update) if chat is None or chat.type == ChatType.PRIVATE else _group
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
        await reply(update, context, _group("No hay consultas pendientes. 🎉"))
        return
    now = utcnow()
    lines = [_group("Consultas abiertas, de la más antigua a la más nueva:")]
    if pages > 1:
        lines.append(_group("Página {page} de {pages}", page=page, pages=pages))
    for ticket in tickets:
        answered = _group("respondida") if ticket.first_answer_at else _group("sin respuesta")
        lines.append(
            _group(
                "#{n} {name} — espera {wait} ({state})",
                n=ticket.number,
                name=ticket.first_name,
                wait=_duration(now - ticket.created_at),
                state=answered,
            )
        )
    more = [(_group("Siguientes ▸"), f"{PENDING_PAGE}:{page + 1}")] if page < pages else []
    await reply(update, context, "\n".join(lines), keyboard([more]))


async def close_by_volunteer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await _volunteer_only(update, context):
        return
    found = services(context)
    commanded = await _ticket_commanded(update, context)
    if commanded is None:
        return
    message, ticket = commanded
    if await found.tickets.close(ticket.number, ClosedBy.VOLUNTEER) is None:
        await message.reply_text(_group("La consulta #{n} ya estaba cerrada.", n=ticket.number))
        return
    await _close_topic(context, ticket)
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
            _group(
                "Consulta #{n} cerrada. No se pudo avisar a la familia: bloqueó el bot o borró "
                "el chat.",
                n=ticket.number,
            )
        )
    else:
        await message.reply_text(_group("Consulta #{n} cerrada.", n=ticket.number))


async def statistics(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if not await _volunteer_only(update, context):
        return
    stats = await services(context).tickets.stats()
    lines = [_group("Estadísticas")]
    for days in ("7", "30"):
        window = stats[days]
        median = window.median_first_answer_seconds
        lines += [
            "",
            _group("Últimos {days} días:", days=days),
            _group("Cuentas empezadas: {n}", n=window.accounts_started),
            _group("Cuentas creadas: {n}", n=window.accounts_created),
            _group("Cuentas verificadas: {n}", n=window.accounts_verified),
            _group("Consultas abiertas: {n}", n=window.tickets_opened),
            _group("Consultas cerradas: {n}", n=window.tickets_closed),
            _group("Consultas abiertas ahora: {n}", n=window.tickets_open_now),
            _group(
                "Mediana hasta la primera respuesta: {wait}",
                wait=_duration(timedelta(seconds=median)) if median is not None else "—",
            ),
        ]
    await reply(update, context, "\n".join(lines))


async def block(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _set_blocked(update, context, True)


async def unblock(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _set_blocked(update, context, False)


async def _set_blocked(update: Update, context: ContextTypes.DEFAULT_TYPE, blocked: bool) -> None:
    if not await _volunteer_only(update, context):
        return
    found = services(context)
    commanded = await _ticket_commanded(update, context)
    if commanded is None:
        return
    message, ticket = commanded
    if blocked:
        await found.tickets.block(ticket.telegram_user_id)
        await found.tickets.close(ticket.number, ClosedBy.VOLUNTEER)
        await message.reply_text(
            _group("Bloqueado: sus mensajes ya no llegarán al grupo. /desbloquear lo revierte.")
        )
    else:
        await found.tickets.unblock(ticket.telegram_user_id)
        await message.reply_text(_group("Desbloqueado: puede volver a abrir consultas."))


# --- Shared -----------------------------------------------------------------------------------


async def _announce_ticket(context: ContextTypes.DEFAULT_TYPE, ticket: Ticket) -> None:
    """A forum topic for the ticket (or a header in a plain group), with what helps to answer."""
    found = services(context)
    group = _volunteers_chat(context)
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
            group, header + "\n\n" + _group("Respondan a este mensaje o a sus preguntas.")
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
            group, _group("#{n} {name}", n=ticket.number, name=ticket.first_name)[:128]
        )
    except TelegramError as error:
        logger.warning("no forum topic for ticket %s (%s); using replies", ticket.number, error)
        return None
    return topic.message_thread_id


async def _header_reply(found: Services, ticket: Ticket) -> ReplyParameters | None:
    """In a plain group each question answers the ticket's header, to keep them together."""
    relays = await found.tickets.relays(ticket.number)
    return ReplyParameters(relays[0], allow_sending_without_reply=True) if relays else None


async def _family_context(context: ContextTypes.DEFAULT_TYPE, ticket: Ticket) -> str:
    found = services(context)
    draft = await found.registrations.current(ticket.telegram_user_id)
    account = await found.accounts.latest_account(ticket.telegram_user_id)
    if account is not None and account.verified_at is not None:
        standing = _group("cuenta creada y verificada")
    elif account is not None:
        standing = _group("cuenta creada, correo sin verificar")
    elif draft is not None:
        if draft.step in FIELDS_BY_KEY:
            standing = _group(
                "creando la cuenta: paso {n} de {total} ({label})",
                n=position(draft.step),
                total=len(FIELDS),
                label=_group(FIELDS_BY_KEY[draft.step].label),
            )
        elif draft.step in (HUMAN_CHECK, SUMMARY):
            standing = _group("creando la cuenta: revisando los datos")
        else:
            standing = _group("creando la cuenta")
    else:
        standing = _group("todavía no empieza a crear la cuenta")
    return "\n".join(
        (
            _group("Consulta #{n}", n=ticket.number),
            _group("Nombre: {name}", name=ticket.first_name or "—"),
            _group("Idioma: {locale}", locale=ticket.locale),
            _group("Situación: {standing}", standing=standing),
        )
    )


async def _tell_group(context: ContextTypes.DEFAULT_TYPE, ticket: Ticket, text: str) -> None:
    group = _volunteers_chat(context)
    if group is None:
        return
    try:
        await context.bot.send_message(group, text, message_thread_id=ticket.topic_id)
    except TelegramError as error:
        logger.warning("could not tell the group about ticket %s: %s", ticket.number, error)


async def _close_topic(context: ContextTypes.DEFAULT_TYPE, ticket: Ticket) -> None:
    group = _volunteers_chat(context)
    if group is None or ticket.topic_id is None:
        return
    try:
        await context.bot.close_forum_topic(group, ticket.topic_id)
    except TelegramError as error:
        logger.info("could not close the topic of ticket %s: %s", ticket.number, error)


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
        await _tell_group(
            context,
            ticket,
            _group(
                "⏰ La consulta #{n} de {name} espera respuesta desde hace {wait}.",
                n=ticket.number,
                name=ticket.first_name,
                wait=_duration(utcnow() - ticket.created_at),
            ),
        )


def _duration(delta: timedelta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 60:
        return _group("{m} min", m=minutes)
    return _group("{h} h {m} min", h=minutes // 60, m=minutes % 60)


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
        await _volunteers_unreachable(context, ticket)


async def _volunteers_unreachable(context: ContextTypes.DEFAULT_TYPE, ticket: Ticket) -> None:
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


async def not_for_families(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _ = texts(update)
    await reply(update, context, _("Ese comando es solo para el equipo de voluntarios."))


def family_handlers() -> list[BaseHandler]:
    """Group -1: before the registration, so a ticket takes the family's messages first."""
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("voluntario", open_ticket, filters=private),
        CallbackQueryHandler(open_ticket, pattern=f"^{ASK_VOLUNTEER}$"),
        CommandHandler("cancelar", close_by_family, filters=private),
        CallbackQueryHandler(close_by_family, pattern=f"^{CLOSE_TICKET}$"),
        CallbackQueryHandler(final(helped), pattern=f"^{HELPED}:"),
        CommandHandler(list(COMMAND_NAMES), final(not_for_families), filters=private),
        MessageHandler(private & ~filters.COMMAND, relay_to_volunteers),
    ]


def volunteer_handlers(group: int | None) -> list[BaseHandler]:
    """Group -1, and for the volunteers' group only: in any other chat they never run."""
    if group is None:
        return []
    in_group = filters.Chat(chat_id=group)
    return [
        CommandHandler("pendientes", final(pending), filters=in_group),
        CallbackQueryHandler(final(pending), pattern=f"^{PENDING_PAGE}:"),
        CommandHandler("cerrar", final(close_by_volunteer), filters=in_group),
        CommandHandler("estadisticas", final(statistics), filters=in_group),
        CommandHandler("bloquear", final(block), filters=in_group),
        CommandHandler("desbloquear", final(unblock), filters=in_group),
        MessageHandler(
            in_group & ~filters.COMMAND & ~filters.StatusUpdate.ALL & ~filters.UpdateType.EDITED,
            relay_to_family,
        ),
        ChatMemberHandler(bot_left_group, ChatMemberHandler.MY_CHAT_MEMBER, chat_id=group),
    ]
