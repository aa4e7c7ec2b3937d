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

# A language chosen: lang:<code>.
CHOOSE_LANGUAGE = "lang"

# The registration's: pick:<field>:<index>, edit:<field>, and its fixed buttons.
PICK = "pick"
EDIT = "edit"
HUMAN_OK = "human:ok"
CREATE = "create"
CANCEL = "cancel"

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

# The family's own data: privacy:erase asks to confirm, privacy:erase:yes|no answers.
ERASE = "privacy:erase"

# Pages of a list: inbox:<page> for a family, pending:<page> in the volunteers' group.
INBOX_PAGE = "inbox"
PENDING_PAGE = "pending"


def volunteer_button(_: Translate) -> tuple[str, str]:
    return (_("Hablar con un voluntario"), ASK_VOLUNTEER)


def menu_rows(_: Translate) -> list[list[tuple[str, str]]]:
    """The main menu: create the account, frequent questions, a volunteer, the language."""
    return [
        [(_("Crear cuenta"), START_REGISTRATION)],
        [(_("Preguntas frecuentes"), SHOW_QUESTIONS)],
        [volunteer_button(_)],
        [(_("🌐 Idioma"), SHOW_LANGUAGES)],
    ]


def language_row() -> list[tuple[str, str]]:
    """One row: each language named in itself (Kreyòl · Français · English · Português ·
    Español), whatever language the family reads."""
    return [(name, f"{CHOOSE_LANGUAGE}:{code}") for code, name in LANGUAGE_NAMES.items()]
