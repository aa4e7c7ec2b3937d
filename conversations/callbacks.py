"""Every button's callback data, named once, and the buttons more than one conversation shows.

Button data comes back from the phone and can be forged: handlers read it with
`common.button_fields`, never by splitting it themselves.
"""

from __future__ import annotations

from bot.i18n import LANGUAGE_NAMES, Translate

# The main menu's buttons, each answered by the conversation it names.
START_REGISTRATION = "menu:crear_cuenta"
SHOW_QUESTIONS = "menu:preguntas"
ASK_VOLUNTEER = "menu:voluntario"
SHOW_LANGUAGES = "menu:idioma"
LOG_IN = "menu:ingresar"

# Logging in: login:remember:<1|0> (the portal's "Recuérdame"), login:out, login:clave (what
# Clave Única is), and the password reset's own button.
REMEMBER = "login:remember"
LOG_OUT = "login:out"
CLAVE_UNICA = "login:clave"
ASK_RESET = "reset:ask"

# A language chosen: lang:<code>.
CHOOSE_LANGUAGE = "lang"

# The registration's: pick:<field>:<index>, edit:<field>, and its fixed buttons.
PICK = "pick"
EDIT = "edit"
HUMAN_OK = "human:ok"
CREATE = "create"
CANCEL = "cancel"
# What a photo of the child's document proposed: use it all (doc:use:<ref>), or all but one
# field, which the family then types (doc:fix:<ref>:<field>); <ref> names that photo's proposal.
USE_DOCUMENT = "doc:use"
FIX_DOCUMENT = "doc:fix"

# The portal's home: the list of trámites, one trámite's guide (tramite:<key>), starting its
# checklist (tramite:start:<key>), the Historial de Trámites, and a document gathered or not
# (tick:<checklist id>:<document index>).
SHOW_TRAMITES = "menu:tramites"
SHOW_HISTORY = "menu:historial"
TRAMITE = "tramite"
START_TRAMITE = "tramite:start"
TICK = "tick"

# A new verification link, from a reminder's button.
RESEND_LINK = "resend"

# "¿Olvidaste tu contraseña?": asks for the account's e-mail, to send a reset link there.
# Shown by the login; answered by conversations/recovery.py, which owns every reset:… button.
RESET = "reset"
ASK_RESET = f"{RESET}:ask"

# A frequent question: faq<key>.
QUESTION = "faq:"

# A ticket's: close it, and ticket:helped:<ticket id>:<0|1> once a volunteer closed it.
CLOSE_TICKET = "ticket:close"
HELPED = "ticket:helped"

# The family's own data: privacy:accept is the notice's «Acepto»; privacy:erase asks to
# confirm, privacy:erase:yes|no answers.
ACCEPT_PRIVACY = "privacy:accept"
ERASE = "privacy:erase"

# Pages of a list: inbox:<page> for a family, pending:<page> in the volunteers' group.
INBOX_PAGE = "inbox"
PENDING_PAGE = "pending"


def volunteer_button(_: Translate) -> tuple[str, str]:
    return (_("Hablar con un voluntario"), ASK_VOLUNTEER)


def accept_row(_: Translate) -> list[tuple[str, str]]:
    return [(_("Acepto"), ACCEPT_PRIVACY)]


def menu_rows(_: Translate) -> list[list[tuple[str, str]]]:
    """The main menu: create the account, frequent questions, a volunteer, the language."""
    return [
        [(_("Crear cuenta"), START_REGISTRATION)],
        [(_("Iniciar sesión"), LOG_IN)],
        [(_("Preguntas frecuentes"), SHOW_QUESTIONS)],
        [volunteer_button(_)],
        [(_("🌐 Idioma"), SHOW_LANGUAGES)],
    ]


def home_rows(_: Translate) -> list[list[tuple[str, str]]]:
    """Under the portal's home: its trámites, then the main menu."""
    return [
        [(_("Iniciar trámite"), SHOW_TRAMITES), (_("Historial de Trámites"), SHOW_HISTORY)],
        *menu_rows(_),
    ]


def language_row() -> list[tuple[str, str]]:
    """One row: each language named in itself (Kreyòl · Français · English · Português ·
    Español), whatever language the family reads."""
    return [(name, f"{CHOOSE_LANGUAGE}:{code}") for code, name in LANGUAGE_NAMES.items()]
