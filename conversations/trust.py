"""Who the bot listens to: a family in its own private chat, and the volunteers in the group
named by VOLUNTEERS_CHAT_ID. Every other update stops here, before any conversation sees it.

A group that is not the volunteers' is told, in one short line with no one's data, that the
bot works in private chats, and the bot leaves it. An edited message is never an answer: the
family (or volunteer) is told once how to correct, and the edit goes no further.
"""

from __future__ import annotations

import logging
from collections.abc import Collection

from telegram import ChatMember, Message, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes, TypeHandler

from bot.i18n import Translate, translator
from bot.registration.form import SUMMARY
from bot.services import Services
from bot.storage import RegistrationDraft
from conversations.common import (
    FLOODED,
    answer_button,
    delete_at_a_password_question,
    menu_keyboard,
    password_kept_out,
    resume_registration,
    send_text,
    services,
    texts,
)

logger = logging.getLogger(__name__)

_EDIT_TOLD = "edit_told"
_JOINED = {ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER, ChatMember.RESTRICTED}
_group = translator("es")


def command_of(message: Message | None, bot_username: str) -> str | None:
    """The command a message starts with ("/cerrar@ThisBot" gives "cerrar"); None when it
    starts with none, or with a command meant for another bot."""
    text = message.text if message is not None else None
    if not text or not text.startswith("/") or len(text) < 2 or text[1].isspace():
        return None
    name, _at, target = text[1:].split(maxsplit=1)[0].partition("@")
    if not name or (target and target.casefold() != bot_username.casefold()):
        return None
    return name.casefold()


def private_chat_link(username: str) -> str:
    return f"https://t.me/{username}"


def handler(volunteer_commands: Collection[str], volunteer_buttons: Collection[str]) -> TypeHandler:
    """The guard, before every other handler. `volunteer_commands` and `volunteer_buttons`
    (callback-data prefixes) are what the volunteers' group may use; nothing else runs there."""

    async def only_trusted_chats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        group = services(context).settings.volunteers_chat_id
        membership = update.my_chat_member
        if membership is not None:
            if membership.chat.id == group or membership.chat.type == ChatType.PRIVATE:
                return  # the volunteers' side hears of its group; a family's block is its own
            if membership.new_chat_member.status in _JOINED:
                await _point_to_private_chat(update, context, membership.chat.id)
            raise ApplicationHandlerStop

        chat = update.effective_chat
        if chat is None:
            # A button of an inline message, an inline query, a poll: none of them is a
            # family's chat.
            if update.callback_query is not None:
                await answer_button(update, texts(update, context)("Este botón ya no sirve."))
            raise ApplicationHandlerStop
        press = update.callback_query
        if press is not None and not press.data and not press.game_short_name:
            # None of the bot's buttons (Telegram's carry 1-64 bytes of data), and a
            # CallbackQueryHandler takes a press without data for a match of any pattern:
            # whichever came first would run. Answered as any stale button is.
            await _stale_press(update, context)
            raise ApplicationHandlerStop

        if (
            update.edited_message is not None
            or update.edited_channel_post is not None
            or update.edited_business_message is not None
        ):
            user = update.effective_user
            if update.edited_message is None:
                pass  # a channel's or a business chat's: nobody here to tell
            elif chat.type == ChatType.PRIVATE and user is not None and user.id == chat.id:
                await _family_edited(update, context)
            elif chat.id == group:
                await _volunteer_edited(update, context)
            raise ApplicationHandlerStop

        message = update.effective_message if update.callback_query is None else None
        if chat.type == ChatType.PRIVATE:
            # A family's own messages and buttons only: a business account's chat with a
            # customer (business_message) is private too, but it is not the sender's own.
            user = update.effective_user
            own = user is not None and user.id == chat.id
            if own and (update.message is not None or update.callback_query is not None):
                return
            if update.callback_query is not None:
                # Not the chat's own family's press: answered, so that its spinner stops.
                await answer_button(update, texts(update, context)("Este botón ya no sirve."))
            raise ApplicationHandlerStop
        if message is not None and group is not None and message.migrate_from_chat_id == group:
            # The volunteers' group became a supergroup (topics turned on): a new id.
            logger.error(
                "the volunteers' group %s is now %s: set VOLUNTEERS_CHAT_ID=%s",
                group,
                chat.id,
                chat.id,
            )
            raise ApplicationHandlerStop
        command = command_of(message, context.bot.username)
        query = update.callback_query
        if group is not None and chat.id == group:
            if message is not None and message.migrate_to_chat_id is not None:
                logger.error(
                    "the volunteers' group %s is now %s: set VOLUNTEERS_CHAT_ID=%s",
                    group,
                    message.migrate_to_chat_id,
                    message.migrate_to_chat_id,
                )
                raise ApplicationHandlerStop
            if message is not None and message.sender_chat is not None:
                # Sent as the group itself (an anonymous admin) or by a linked channel: nobody
                # whose membership can be checked.
                if command is not None:
                    await send_text(
                        context.bot,
                        chat.id,
                        _group(
                            "Los comandos del equipo funcionan con su propia cuenta, no como "
                            "administrador anónimo."
                        ),
                        message_thread_id=message.message_thread_id,
                    )
                raise ApplicationHandlerStop
            if command is not None and command not in volunteer_commands:
                await send_text(
                    context.bot,
                    chat.id,
                    _group(
                        "Ese comando es para las familias, en su chat privado con el asistente."
                    ),
                    message_thread_id=message.message_thread_id if message else None,
                )
                raise ApplicationHandlerStop
            if query is not None and not any(
                isinstance(query.data, str) and query.data.startswith(prefix)
                for prefix in volunteer_buttons
            ):
                await answer_button(update, _group("Este botón ya no sirve."))
                raise ApplicationHandlerStop
            return

        # Any other group or channel: no personal service at all.
        if command is not None or query is not None:
            if query is not None:
                await answer_button(update, None)
            await _point_to_private_chat(update, context, chat.id)
        raise ApplicationHandlerStop

    return TypeHandler(Update, only_trusted_chats)


async def _point_to_private_chat(
    update: Update, context: ContextTypes.DEFAULT_TYPE, chat_id: int
) -> None:
    """One line with the private chat's link, then the bot leaves the chat; once per chat."""
    if not services(context).foreign_chats.first_notice(chat_id):
        return
    _ = texts(update, context)
    link = private_chat_link(context.bot.username)
    try:
        await context.bot.send_message(
            chat_id,
            _(
                "Este asistente atiende a cada familia en un chat privado, para cuidar sus "
                "datos. Escríbale aquí: {link}",
                link=link,
            ),
        )
    except TelegramError as error:
        logger.info("could not post in chat %s before leaving it: %s", chat_id, error)
    try:
        await context.bot.leave_chat(chat_id)
    except TelegramError as error:
        logger.warning("could not leave chat %s: %s", chat_id, error)
        return
    logger.warning(
        "left chat %s: it is not the volunteers' group (VOLUNTEERS_CHAT_ID=%s)",
        chat_id,
        services(context).settings.volunteers_chat_id,
    )


def _first_time(context: ContextTypes.DEFAULT_TYPE) -> bool:
    # Per person and in memory on purpose: the notice is a courtesy, and once a process is
    # enough.
    if context.user_data is None or context.user_data.get(_EDIT_TOLD):
        return False
    context.user_data[_EDIT_TOLD] = True
    return True


async def _family_edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user, chat, message = update.effective_user, update.effective_chat, update.edited_message
    if user is None or chat is None or message is None:
        return
    _ = texts(update, context)
    found = services(context)
    # Edits stop here, before the guards' flood gate; each may cost a hash's verify below.
    admitted, warn = found.flood.admit(user.id)
    if not admitted:
        await delete_at_a_password_question(found, user.id, message)
        if warn:
            await send_text(context.bot, chat.id, _(FLOODED))
        return
    draft = await found.registrations.current(user.id)
    # Never an answer, but it may hold the password: one typed into an older message, at the
    # password's question or after it, must leave the chat as a sent one does.
    said = [] if draft is None else await password_kept_out(found, draft, message, _, edited=True)
    if _first_time(context):
        said.append(await _edit_notice(found, user.id, draft, _))
    if said:
        await send_text(context.bot, chat.id, "\n\n".join(said))


async def _edit_notice(
    found: Services, telegram_user_id: int, draft: RegistrationDraft | None, _: Translate
) -> str:
    """How the family can say what it meant, where it stands."""
    if await found.tickets.open_for(telegram_user_id) is not None:
        return _(
            "Los voluntarios no ven los cambios de un mensaje editado. Si quiere corregir algo, "
            "envíe un mensaje nuevo."
        )
    if draft is None:
        return _("Editar un mensaje no cambia nada. Si quiere decir otra cosa, envíe un mensaje.")
    if draft.step == SUMMARY:
        return _(
            "Editar un mensaje no cambia la respuesta que ya dio. Para corregir un dato, toque "
            "su botón en el resumen."
        )
    return _(
        "Editar un mensaje no cambia la respuesta que ya dio. Al final verá un resumen con un "
        "botón para corregir cada dato."
    )


async def _stale_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _ = texts(update, context)
    stale = _("Este botón ya no sirve.")
    await answer_button(update, stale)
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or chat.id != user.id:
        return  # a group's: the answer to the press is all
    if not await resume_registration(context, user.id, stale):
        await send_text(context.bot, chat.id, stale, menu_keyboard(_))


async def _volunteer_edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message, chat = update.edited_message, update.effective_chat
    if message is None or chat is None or message.from_user is None:
        return
    if message.from_user.is_bot or not _first_time(context):
        return
    if not (message.is_topic_message or message.reply_to_message is not None):
        return  # not an answer to anyone
    await send_text(
        context.bot,
        chat.id,
        _group(
            "Las ediciones no llegan a la familia: ya recibió el mensaje como estaba. Si quiere "
            "corregir algo, envíe un mensaje nuevo."
        ),
        message_thread_id=message.message_thread_id,
    )
