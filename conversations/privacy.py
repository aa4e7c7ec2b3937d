"""The family's own data: /privacidad says what is kept and why, /mis_datos shows all of it,
/borrar_mis_datos deletes it after a confirmation button."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.i18n import LANGUAGE_NAMES, Translate
from bot.privacy import FamilyData
from bot.registration import FIELDS
from bot.registration.countries import country_name
from bot.registration.validation import format_date
from conversations.callbacks import ACCEPT_PRIVACY, ERASE, accept_row, menu_rows
from conversations.common import (
    button_choice,
    keyboard,
    menu_keyboard,
    portal_name,
    privacy_notice,
    reply,
    resume_registration,
    services,
    settle_button,
    texts,
)


async def show_notice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/privacidad: the notice again, with «Acepto» for whoever has not accepted it yet."""
    user = update.effective_user
    _ = texts(update, context)
    found = services(context)
    notice = privacy_notice(_, found.settings)
    rows = menu_rows(_)
    if user is not None and not await found.privacy.accepted(user.id):
        rows = [accept_row(_), *rows]
    await reply(update, context, notice, keyboard(rows))


async def accept(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """«Acepto» under the notice: recorded, and the registration goes on where it stands."""
    await settle_button(update)
    user = update.effective_user
    if user is None:
        return
    found = services(context)
    await found.privacy.accept(user.id)
    _ = texts(update, context)
    if not await resume_registration(context, user.id, _("Gracias. Seguimos:")):
        await reply(update, context, _("Gracias."), menu_keyboard(_))


def _report(data: FamilyData, _: Translate, locale: str) -> str:
    kept = (data.accounts, data.draft, data.language, data.tickets, data.inbox, data.tramites)
    if not any(kept) and not data.sessions:
        return _("No tenemos ningún dato suyo guardado.")
    lines = [_("Esto es todo lo que guardamos de usted:")]
    for account in data.accounts:
        status = _("validada") if account.verified else _("sin validar")
        lines += [
            "",
            _("Cuenta {email} ({status})", email=account.email, status=status),
            f"{portal_name('Nombre', _)}: {account.first_names}",
            f"{portal_name('Apellido Paterno', _)}: {account.father_surname}",
            f"{portal_name('Apellido Materno', _)}: {account.mother_surname or _('(no tiene)')}",
            f"{portal_name('Fecha de nacimiento', _)}: {format_date(account.birth_date)}",
            f"{portal_name('País de nacimiento', _)}: {country_name(account.country_code, locale)}",
        ]
    shown = [
        f"{portal_name(field.label, _)}: {field.display(data.draft[field.key], locale)}"
        for field in FIELDS
        if field.key in data.draft and field.confirms is None
    ]
    if shown:
        lines += ["", _("Registro sin terminar:"), *shown]
    lines += [
        "",
        _("Idioma: {language}", language=LANGUAGE_NAMES.get(data.language or "", "—")),
        _("Consultas a los voluntarios: {n}", n=data.tickets),
        _("Respuestas en su Bandeja de Entrada: {n}", n=data.inbox),
        _("Trámites en su Historial: {n}", n=data.tramites),
        _("Sesiones abiertas: {n}", n=data.sessions),
    ]
    if data.accepted_at is not None:
        lines.append(
            _("Aceptó el aviso de privacidad el {date}.", date=format_date(data.accepted_at.date()))
        )
    lines += [
        _("Su contraseña no está guardada: solo una huella de ella que no se puede leer."),
    ]
    return "\n".join(lines)


async def show_data(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = update.effective_user
    if user is None:
        return
    found = services(context)
    _ = texts(update, context)
    data = await found.privacy.report(user.id)
    locale = found.languages.of(user.id, user.language_code)
    await reply(update, context, _report(data, _, locale), menu_keyboard(_))


async def ask_to_erase(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    _ = texts(update, context)
    text = _(
        "¿Borrar todos sus datos? Se borran sus cuentas, el registro en curso, sus respuestas "
        "y su idioma. No se puede deshacer. La cuenta del portal deberá crearse de nuevo."
    )
    buttons = [[(_("Sí, borrar todo"), f"{ERASE}:yes"), (_("No"), f"{ERASE}:no")]]
    await reply(update, context, text, keyboard(buttons))


async def erase(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await settle_button(update)
    user = update.effective_user
    choice = button_choice(update, ERASE, ("yes", "no"))
    _ = texts(update, context)
    if user is None or choice is None:
        await reply(update, context, _("Este botón ya no sirve."), menu_keyboard(_))
        return
    if choice == "no":
        await reply(update, context, _("No borré nada."), menu_keyboard(_))
        return
    found = services(context)
    await found.privacy.erase(user.id)
    # What the services keep in memory about this family goes with it.
    found.tickets.forget_open(user.id)
    found.languages.forget(user.id)
    found.documents.forget(user.id)  # a photo's proposal, not yet used
    await found.registrations.forget_expired(user.id)
    _ = texts(update, context)  # the chosen language is gone too
    await reply(
        update,
        context,
        _("Listo: borré todos sus datos. Puede crear una cuenta nueva con /crear_cuenta."),
        menu_keyboard(_),
    )


def handlers() -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
    """Ahead of the registration: the family's data can be seen or deleted at any moment."""
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("privacidad", show_notice, filters=private),
        CommandHandler("mis_datos", show_data, filters=private),
        CommandHandler("borrar_mis_datos", ask_to_erase, filters=private),
        CallbackQueryHandler(accept, pattern=f"^{ACCEPT_PRIVACY}$"),
        CallbackQueryHandler(erase, pattern=f"^{ERASE}:"),
    ]
