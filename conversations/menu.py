"""The main menu: /start's welcome, the portal's home for a verified family, /ayuda, the inbox,
and the answer to a button that nothing else took."""

from __future__ import annotations

import math

from telegram import Update
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    filters,
)

from bot.i18n import N_
from bot.storage import Holder, InboxKind
from conversations.callbacks import INBOX_PAGE, language_row, menu_rows
from conversations.common import (
    account_in_use,
    button_fields,
    home_keyboard,
    home_of,
    home_text,
    keyboard,
    menu_keyboard,
    reply,
    services,
    settle_button,
    texts,
    whole_number,
)

# The family's commands, in the order of the chat's command menu (published per language at
# start, bot/runtime/commands.py) and of /ayuda, which both read this one list.
COMMANDS = (
    ("start", N_("Inicio")),
    ("crear_cuenta", N_("Crear la cuenta del portal, paso a paso")),
    ("reenviar", N_("Recibir otra vez el enlace de validación")),
    ("ingresar", N_("Iniciar sesión en una cuenta ya creada")),
    ("salir", N_("Cerrar la sesión")),
    ("recuperar", N_("Elegir una contraseña nueva, si olvidó la suya")),
    ("preguntas", N_("Preguntas frecuentes")),
    ("voluntario", N_("Hablar con un voluntario del programa")),
    ("bandeja", N_("Bandeja de Entrada: las respuestas de los voluntarios")),
    ("cancelar", N_("Dejar el registro en curso")),
    ("idioma", N_("Cambiar el idioma")),
    ("mis_datos", N_("Ver todo lo que guardamos de usted")),
    ("borrar_mis_datos", N_("Borrar todos sus datos")),
    ("privacidad", N_("Qué datos guardamos y por qué")),
    ("ayuda", N_("Qué puede hacer este asistente")),
)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = update.effective_user
    if user is None:
        return
    _ = texts(update, context)
    found = services(context)
    account = await account_in_use(found, user.id)
    if account is not None and account.verified_at is not None:
        home = await home_of(found, account, user.id)
        await reply(update, context, home_text(account, _, home), home_keyboard(_))
        return
    welcome = "\n\n".join(
        (
            _("¡Hola! Soy el asistente del Programa Niñez Migrante."),
            _(
                "Le ayudo a crear y validar la cuenta del portal de trámites del Servicio "
                "Nacional de Migraciones (SERMIG), el primer paso para pedir la residencia de "
                "un niño, niña o adolescente."
            ),
            _(
                "Es gratis. Nunca le pediremos dinero. No comparta su contraseña con nadie, "
                "tampoco con quien diga ayudarle."
            ),
            _(
                "Tenga a mano:\n• el documento del niño, niña o adolescente (NNA): la cuenta "
                "lleva sus datos tal como aparecen allí;\n• un correo electrónico que la "
                "familia use y pueda revisar por mucho tiempo."
            ),
        )
    )
    rows = menu_rows(_)
    if services(context).languages.chosen(user.id) is None:
        # First contact: Telegram's language is only a guess (it has no Kreyòl at all).
        rows = [language_row(), *rows]
    if account is not None:
        welcome += "\n\n" + _(
            "Ya creó una cuenta con el correo {email}, pero todavía no está validada: abra el "
            "enlace que le enviamos (revise también la carpeta de spam). Si no lo encuentra, "
            "escriba /reenviar y le mando uno nuevo.",
            email=account.email,
        )
    await reply(update, context, welcome, keyboard(rows))


INBOX_PER_PAGE = 5


# The bot's own messages kept in the inbox, worded when read, in the reader's language.
NEWS: dict[str, str] = {
    InboxKind.LINK_SENT: N_(
        "La cuenta fue creada. Le enviamos el enlace para validar el correo a {email}."
    ),
    InboxKind.VERIFIED: N_("Su cuenta ha sido correctamente verificada."),
    InboxKind.REMINDER: N_(
        "Recordatorio: la cuenta con el correo {email} todavía no está validada."
    ),
    InboxKind.PASSWORD_CHANGED: N_("Su contraseña fue cambiada."),
}


async def inbox(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/bandeja: the portal's Bandeja de Entrada of the account in use: the volunteers'
    answers and the bot's messages, newest first, a page at a time (a button shows the older
    ones)."""
    await settle_button(update)
    user = update.effective_user
    if user is None:
        return
    _ = texts(update, context)
    fields = button_fields(update, INBOX_PAGE, 1)
    page = (whole_number(fields[0]) if fields else None) or 1
    found = services(context)
    account = await account_in_use(found, user.id)
    holder = Holder.of(account, user.id)
    pages = max(1, math.ceil(await found.inbox.count(holder) / INBOX_PER_PAGE))
    page = min(page, pages)
    kept = await found.inbox.read(holder, offset=(page - 1) * INBOX_PER_PAGE, limit=INBOX_PER_PAGE)
    if not kept:
        await reply(update, context, _("Su Bandeja de Entrada está vacía."), menu_keyboard(_))
        return
    lines = [_("Bandeja de Entrada — de la más nueva a la más antigua:")]
    if account is not None:
        lines.append(_("Cuenta de {name} ({email})", name=account.first_names, email=account.email))
    if pages > 1:
        lines.append(_("Página {page} de {pages}", page=page, pages=pages))
    email = account.email if account is not None else ""
    for message in kept:
        news = NEWS.get(message.kind)
        text = _(news, email=email) if news else message.text
        lines += ["", message.created_at.strftime("%d-%m-%Y"), text]
    older = [(_("Más antiguas ▸"), f"{INBOX_PAGE}:{page + 1}")] if page < pages else []
    await reply(update, context, "\n".join(lines), keyboard([older]))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _ = texts(update, context)
    await reply(
        update,
        context,
        "\n".join(
            [
                _("Esto es lo que puedo hacer:"),
                *(f"/{name} — {_(about)}" for name, about in COMMANDS if name != "ayuda"),
            ]
        ),
        menu_keyboard(_),
    )


async def nothing_to_cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _ = texts(update, context)
    await reply(update, context, _("No hay nada que cancelar."), menu_keyboard(_))


async def stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button that nothing else took: from an older message, or forged."""
    await settle_button(update)
    _ = texts(update, context)
    await reply(update, context, _("Este botón ya no sirve."), menu_keyboard(_))


def handlers() -> list[BaseHandler]:
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("start", start, filters=private),
        CommandHandler(["ayuda", "help"], help_command, filters=private),
        CommandHandler("cancelar", nothing_to_cancel, filters=private),
    ]


def anytime_handlers() -> list[BaseHandler]:
    """Ahead of the registration: the inbox can be read in the middle of it."""
    return [
        CommandHandler("bandeja", inbox, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(inbox, pattern=f"^{INBOX_PAGE}:"),
    ]


def catch_all() -> list[BaseHandler]:
    """Registered last: a button that nothing else took."""
    return [CallbackQueryHandler(stale_button)]
