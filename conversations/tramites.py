"""The portal's home made useful: "Iniciar trámite" lists the trámites, each with a short plain
guide and a button to it on the official portal; starting one keeps it in the Historial de
Trámites as a checklist of its documents, ticked off as the family gathers them."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, ContextTypes

from bot.i18n import Translate
from bot.portal import GUIDES, GUIDES_BY_KEY
from bot.tramites import Checklist
from conversations.callbacks import (
    SHOW_HISTORY,
    SHOW_TRAMITES,
    START_TRAMITE,
    TICK,
    TRAMITE,
)
from conversations.common import (
    button_fields,
    holder_of,
    home_keyboard,
    keyboard,
    portal_name,
    reply,
    resume_registration,
    services,
    settle_button,
    texts,
    whole_number,
)


async def show_tramites(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await settle_button(update)
    _ = texts(update, context)
    rows = [[(_(tramite.name), f"{TRAMITE}:{tramite.key}")] for tramite in GUIDES]
    await reply(update, context, _("Listado de trámites disponibles:"), keyboard(rows))


async def show_guide(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await settle_button(update)
    _ = texts(update, context)
    fields = button_fields(update, TRAMITE, 1)
    tramite = GUIDES_BY_KEY.get(fields[0]) if fields else None
    if tramite is None:
        await show_tramites(update, context)  # a button of an older list
        return
    text = "\n\n".join(
        (
            portal_name(tramite.name, _),
            _(tramite.purpose),
            _(tramite.who),
            _("Documentos que suele pedir:")
            + "\n"
            + "\n".join(f"• {_(document)}" for document in tramite.documents),
        )
    )
    markup = InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(_("Abrir en el portal oficial"), url=tramite.url)],
            [
                InlineKeyboardButton(
                    _("Empezar mi lista de documentos"),
                    callback_data=f"{START_TRAMITE}:{tramite.key}",
                )
            ],
        ]
    )
    await reply(update, context, text, markup)


def _checklist_view(checklist: Checklist, _: Translate) -> tuple[str, InlineKeyboardMarkup | None]:
    lines = [_("Lista de documentos — {name}", name=_(checklist.tramite.name)), ""]
    buttons = []
    for index, document in enumerate(checklist.tramite.documents):
        mark = "✅" if index in checklist.gathered else "⬜"
        lines.append(f"{mark} {index + 1}. {_(document)}")
        buttons.append((f"{mark} {index + 1}", f"{TICK}:{checklist.id}:{index}"))
    lines += ["", _("Toque un número cuando tenga ese documento.")]
    if not checklist.missing:
        lines.append(_("¡Tiene todos los documentos! Ya puede hacer el trámite en el portal."))
    return "\n".join(lines), keyboard([buttons])


async def start_checklist(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await settle_button(update)
    user = update.effective_user
    _ = texts(update, context)
    fields = button_fields(update, START_TRAMITE, 1)
    checklist = None
    if user is not None and fields is not None:
        found = services(context)
        checklist = await found.tramites.start(await holder_of(found, user.id), fields[0])
    if checklist is None:
        await show_tramites(update, context)
        return
    text, markup = _checklist_view(checklist, _)
    await reply(update, context, text, markup)


async def tick(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await settle_button(update)
    user = update.effective_user
    _ = texts(update, context)
    fields = button_fields(update, TICK, 2)
    checklist_id = whole_number(fields[0]) if fields else None
    index = whole_number(fields[1]) if fields else None
    checklist = None
    if user is not None and checklist_id is not None and index is not None:
        found = services(context)
        checklist = await found.tramites.tick(await holder_of(found, user.id), checklist_id, index)
    if checklist is None:  # forged, stale, or another family's
        # In the middle of a registration, its question again: the family is not left without it.
        if user is None or not await resume_registration(
            context, user.id, _("Este botón ya no sirve.")
        ):
            await reply(update, context, _("Este botón ya no sirve."), home_keyboard(_))
        return
    text, markup = _checklist_view(checklist, _)
    await reply(update, context, text, markup)


async def show_history(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await settle_button(update)
    user = update.effective_user
    _ = texts(update, context)
    found = services(context)
    checklists = await found.tramites.of(await holder_of(found, user.id)) if user else []
    if not checklists:
        await reply(
            update,
            context,
            _("Todavía no empezó ningún trámite. Toque «Iniciar trámite» para ver la lista."),
            home_keyboard(_),
        )
        return
    lines = [portal_name("Historial de Trámites", _), ""]
    rows = []
    for checklist in checklists:
        total = len(checklist.tramite.documents)
        done = total - len(checklist.missing)
        lines.append(
            _(
                "{tramite}: {done} de {total} documentos",
                tramite=_(checklist.tramite.name),
                done=done,
                total=total,
            )
        )
        rows.append([(_(checklist.tramite.name), f"{START_TRAMITE}:{checklist.tramite.key}")])
    await reply(update, context, "\n".join(lines), keyboard(rows))


def handlers() -> list[BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]]:
    """Ahead of the registration: the home's buttons work at any moment."""
    return [
        CallbackQueryHandler(show_tramites, pattern=f"^{SHOW_TRAMITES}$"),
        CallbackQueryHandler(show_history, pattern=f"^{SHOW_HISTORY}$"),
        CallbackQueryHandler(start_checklist, pattern=f"^{START_TRAMITE}:"),
        CallbackQueryHandler(show_guide, pattern=f"^{TRAMITE}:"),
        CallbackQueryHandler(tick, pattern=f"^{TICK}:"),
    ]
