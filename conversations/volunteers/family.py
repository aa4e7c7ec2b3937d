"""The family's side of a ticket, in its private chat: open it, write to the volunteers, close
it, and say whether it helped. Everything it sends while a ticket is open goes to the group,
but never a password."""

from __future__ import annotations

import logging

from telegram import Message, MessageOriginUser, Update
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import (
    ApplicationHandlerStop,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.registration import FIELDS_BY_KEY
from bot.registration.form import takes_document
from bot.registration.validation import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from bot.services import Services
from bot.storage import ClosedBy, RelayDirection
from conversations.callbacks import ASK_VOLUNTEER, CLOSE_TICKET, HELPED
from conversations.common import (
    button_fields,
    delete_quietly,
    family_of,
    final,
    holder_of,
    keyboard,
    locale_of,
    reply,
    resume_registration,
    services,
    settle_button,
    texts,
    whole_number,
)
from conversations.volunteers.shared import (
    COMMAND_NAMES,
    announce_ticket,
    close_topic,
    header_reply,
    spanish,
    tell_group,
    volunteers_chat,
    volunteers_unreachable,
)

logger = logging.getLogger(__name__)


# --- The family's side ----------------------------------------------------------------------


async def open_ticket(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/voluntario, the menu button, or the button offered after repeated mistakes."""
    await settle_button(update)
    family = family_of(update)
    if family is None:
        raise ApplicationHandlerStop
    user, chat = family
    _ = texts(update, context)
    found = services(context)
    group = volunteers_chat(context)
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
    holder = await holder_of(found, user.id)
    ticket, created = await found.tickets.open_ticket(
        user.id, chat.id, user.first_name or "", locale_of(update, context), holder.account_id
    )
    if created:
        try:
            await announce_ticket(context, ticket)
        except TelegramError as error:
            # The group cannot be reached now; the ticket stays, and the family can leave it.
            logger.warning("ticket %s not announced in the group: %s", ticket.number, error)
            await volunteers_unreachable(context, ticket)
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
                _("Consultas antes que la suya: {n}.", n=ahead)
                if ahead > 0
                else _("No hay otras consultas esperando antes que la suya."),
                _("Para cerrar la consulta, escriba /cancelar o toque el botón."),
            )
        ),
        keyboard([[(_("Cerrar consulta"), CLOSE_TICKET)]]),
    )
    raise ApplicationHandlerStop


async def _document_for_the_form(found: Services, user_id: int, message: Message) -> bool:
    image = bool(message.photo) or (
        message.document is not None and (message.document.mime_type or "").startswith("image/")
    )
    if not image:
        return False
    draft = await found.registrations.current(user_id)
    return draft is not None and takes_document(draft)


async def relay_to_volunteers(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every message of a family with an open ticket goes to that ticket."""
    user, message = update.effective_user, update.effective_message
    found = services(context)
    if user is None or message is None or not found.tickets.has_open_ticket(user.id):
        return  # not in a ticket: the other conversations take it
    ticket = await found.tickets.open_for(user.id)
    group = volunteers_chat(context)
    if ticket is None or group is None:
        found.tickets.forget_open(user.id)
        return
    _ = texts(update, context)
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
    # A conversation waits for a password (the login's): whatever else takes the message must
    # not pass it on.
    if found.questions.awaits_secret(user.id) or await _holds_password(found, user.id, message):
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
    if await _document_for_the_form(found, user.id, message):
        # At a question a photo of the child's document answers, a photo is most likely that
        # document, meant for the form: a child's document does not go to the group.
        await reply(
            update,
            context,
            _(
                "No pasé esa foto a los voluntarios, por si es el documento del niño, niña o "
                "adolescente. Para llenar el formulario con ella, cierre la consulta con "
                "/cancelar y envíela otra vez."
            ),
        )
        raise ApplicationHandlerStop
    # The ticket's header is its first relay; the family's first question comes after it.
    first = len(await found.tickets.relays(ticket.number)) <= 1
    thread = ticket.topic_id
    replying = None if thread else await header_reply(found, ticket)
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
        await volunteers_unreachable(context, ticket)
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
    _ = texts(update, context)
    await tell_group(
        context, ticket, spanish("La familia cerró la consulta #{n}.", n=ticket.number)
    )
    await close_topic(context, ticket)
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
    _ = texts(update, context)
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


async def not_for_families(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _ = texts(update, context)
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
