"""Checks for what a family types: names, birth date, e-mail and password, as the portal needs them.

Pure functions: no I/O, no Telegram, no clock ("today" is a parameter); messages are N_ msgids.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import email_validator
from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.accounts.addresses import normalise_address
from bot.accounts.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH
from bot.i18n import N_
from bot.registration.results import Choice, Invalid, Suggestion, Valid

# Longer answers are refused before any validator runs: nobody's real answer is that long, and
# it keeps pasted essays out of the database and the logs.
MAX_TEXT_LENGTH = 300

# ---------------------------------------------------------------- names

# Shared by the name and both surnames, so they name no field: the question asked again right
# after the message carries the field's own example.
NAME_EMPTY = N_("Escríbalo con letras, como aparece en el documento.")
NAME_BAD_CHARACTERS = N_(
    "Aquí solo se aceptan letras, sin números ni símbolos. También puede llevar "
    "espacios, guiones (-) o apóstrofos (')."
)
NAME_TOO_LONG = N_(
    "Es demasiado largo: puede tener hasta {max} caracteres. "
    "Escríbalo como aparece en el documento."
)

_APOSTROPHES = frozenset("'’")
# Phones and word processors turn "-" into these; the portal expects the plain one.
_HYPHENS = {"-": "-", "‐": "-", "‑": "-"}


def validate_name(text: str, *, max_length: int = 50) -> Valid[str] | Invalid:
    """A given name or surname as on the document: any script, spaces, apostrophes, hyphens."""
    # NFC first, so "é" typed as "e" + combining accent counts (and is stored) as one letter.
    name = " ".join(unicodedata.normalize("NFC", text).split())
    if not name:
        return Invalid(NAME_EMPTY)
    cleaned: list[str] = []
    has_letter = False
    for char in name:
        category = unicodedata.category(char)
        if category.startswith("L"):
            has_letter = True
            cleaned.append(char)
        elif category.startswith("M") or char == " " or char in _APOSTROPHES:
            cleaned.append(char)
        elif char in _HYPHENS:
            cleaned.append(_HYPHENS[char])
        else:
            return Invalid(NAME_BAD_CHARACTERS)
    if not has_letter:
        return Invalid(NAME_BAD_CHARACTERS)
    name = "".join(cleaned)
    if len(name) > max_length:
        return Invalid(NAME_TOO_LONG, {"max": max_length})
    # Capitalisation is kept as typed: the data must match the document, and automatic
    # title-casing breaks names such as "McDonald", "van der Berg" or "D'Angelo".
    return Valid(name)


# ---------------------------------------------------------------- birth date

DATE_FORMAT_HINT = N_(
    "No entendí la fecha. Escríbala así: dd-mm-aaaa (día, mes y año). Por ejemplo: 23-04-2015"
)
DATE_TWO_DIGIT_YEAR = N_(
    "Escriba el año completo, con sus 4 cifras, así: dd-mm-aaaa. Por ejemplo: 23-04-2015"
)
DATE_MONTH_FIRST = N_(
    "Primero va el día y después el mes, así: dd-mm-aaaa. "
    "Por ejemplo, el 23 de abril de 2015 se escribe: 23-04-2015"
)
DATE_DOES_NOT_EXIST = N_(
    "La fecha {date} no existe. Revise el día y el mes, y escríbala así: dd-mm-aaaa. "
    "Por ejemplo: 23-04-2015"
)
DATE_IN_FUTURE = N_(
    "La fecha de nacimiento no puede ser después de hoy. Revise el año y escríbala así: "
    "dd-mm-aaaa. Por ejemplo: 23-04-2015"
)
DATE_TOO_OLD = N_(
    "La fecha de nacimiento debe ser del año 1900 o después. Revise el año y escríbala así: "
    "dd-mm-aaaa. Por ejemplo: 23-04-2015"
)
ADULT_NOTE = N_(
    "Según esta fecha, la persona tiene {age} años. El programa Niñez Migrante es para niños, "
    "niñas y adolescentes menores de 18 años. Si los datos son correctos, puede continuar."
)

OLDEST_BIRTH_DATE = date(1900, 1, 1)
ADULT_AGE = 18

# \d also matches other scripts' digits (e.g. Arabic-Indic), which int() reads correctly.
_DATE_RE = re.compile(r"(\d{1,2})\s*[-/.]\s*(\d{1,2})\s*[-/.]\s*(\d+)")


def format_date(d: date) -> str:
    """The portal's format, dd-mm-aaaa."""
    return f"{d.day:02d}-{d.month:02d}-{d.year:04d}"


def age_on(born: date, today: date) -> int:
    # Someone born on 29 February turns a year older on 1 March in non-leap years.
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def validate_birth_date(text: str, *, today: date) -> Valid[date] | Invalid:
    """A birth date written dd-mm-aaaa (also with / or .), real, not future, from 1900."""
    match = _DATE_RE.fullmatch(text.strip())
    if match is None:
        return Invalid(DATE_FORMAT_HINT)
    day, month = int(match[1]), int(match[2])
    year_digits = match[3]
    if len(year_digits) == 2:
        # "15" could be 1915 or 2015; for a child's birth date the difference matters.
        return Invalid(DATE_TWO_DIGIT_YEAR)
    if len(year_digits) != 4:
        return Invalid(DATE_FORMAT_HINT)
    year = int(year_digits)
    if month > 12 and 1 <= day <= 12:
        return Invalid(DATE_MONTH_FIRST)
    try:
        born = date(year, month, day)
    except ValueError:
        shown = f"{day:02d}-{month:02d}-{year_digits}"
        return Invalid(DATE_DOES_NOT_EXIST, {"date": shown})
    if born > today:
        return Invalid(DATE_IN_FUTURE)
    if born < OLDEST_BIRTH_DATE:
        return Invalid(DATE_TOO_OLD)
    age = age_on(born, today)
    if age >= ADULT_AGE:
        return Valid(born, note=ADULT_NOTE, note_params={"age": age})
    return Valid(born)


# ---------------------------------------------------------------- e-mail

EMAIL_EMPTY = N_("Escriba el correo electrónico, por ejemplo: nombre@gmail.com")
EMAIL_MISSING_AT = N_("Al correo le falta la @. Escríbalo completo, por ejemplo: nombre@gmail.com")
EMAIL_HAS_SPACES = N_(
    "El correo no puede tener espacios. Escríbalo todo junto, por ejemplo: nombre@gmail.com"
)
EMAIL_NOT_ASCII = N_(
    "El correo no puede tener tildes, ñ ni otras letras especiales antes de la @. "
    "Escríbalo sin ellas, por ejemplo: nombre@gmail.com"
)
EMAIL_INVALID = N_(
    "Ese correo no parece correcto. Revíselo y escríbalo completo, por ejemplo: nombre@gmail.com"
)
EMAIL_UNDELIVERABLE = N_(
    "No se pueden enviar correos a {domain}. Revise lo que escribió después de la @, "
    "por ejemplo: nombre@gmail.com"
)
EMAIL_DID_YOU_MEAN = N_("¿Quiso decir {suggested}?")
EMAIL_CONFIRMATION_MISMATCH = N_(
    "Los dos correos no coinciden. Escriba otra vez el mismo correo que escribió antes."
)

# Domains a misspelling is corrected towards: the ones families in Chile use most, most used
# first (on a tie the first one wins).
COMMON_EMAIL_DOMAINS: tuple[str, ...] = (
    "gmail.com",
    "hotmail.com",
    "outlook.com",
    "yahoo.com",
    "icloud.com",
    "live.com",
    "hotmail.es",
    "outlook.es",
    "yahoo.es",
    "live.cl",
    "yahoo.com.ar",
    "hotmail.com.ar",
    "live.com.ar",
    "yahoo.com.mx",
    "msn.com",
    "me.com",
)
# Real domains close to a common one: accepted as they are, never "corrected".
_OTHER_REAL_DOMAINS = frozenset(
    {
        "mail.com",
        "email.com",
        "ymail.com",
        "gmx.com",
        "aol.com",
        "mac.com",
        "hotmail.cl",
        "hotmail.fr",
        "hotmail.it",
        "hotmail.co.uk",
        "hotmail.com.br",
        "outlook.cl",
        "outlook.fr",
        "outlook.com.ar",
        "outlook.com.br",
        "live.fr",
        "live.com.mx",
        "live.com.pe",
        "yahoo.fr",
        "yahoo.co.uk",
        "yahoo.com.br",
        "yahoo.com.co",
        "yahoo.com.pe",
        "yahoo.com.ve",
    }
)
_KNOWN_DOMAINS = frozenset(COMMON_EMAIL_DOMAINS) | _OTHER_REAL_DOMAINS
_UNDOTTED = {domain.replace(".", ""): domain for domain in COMMON_EMAIL_DOMAINS}
# Names unmistakable enough that "<name>.<anything>" is that provider with a wrong ending.
_PROVIDERS = frozenset({"gmail", "hotmail", "outlook", "yahoo", "icloud", "live"})


def _suggest_domain(domain: str) -> str | None:
    # The dot is often forgotten or doubled ("gmailcom", "gmail..com").
    if domain.replace(".", "") in _UNDOTTED:
        return _UNDOTTED[domain.replace(".", "")]
    # A well-spelled provider with a wrong ending ("gmail.cl", "hotmail.co", "gmail"): the
    # provider is certain, so take its closest common domain however far the ending is.
    provider = re.split(r"[.,;]", domain, maxsplit=1)[0]
    if provider in _PROVIDERS:
        same_provider = [d for d in COMMON_EMAIL_DOMAINS if d.split(".")[0] == provider]
        if domain == provider:
            return same_provider[0]  # the provider's most used domain
        best = process.extractOne(domain, same_provider, scorer=OSA.distance)
        return best[0] if best else None
    # One slip (OSA counts a swap like "gmial" as one) is always a candidate; two only on
    # longer domains, where two slips still leave the provider obvious.
    max_distance = 2 if len(domain) >= 9 else 1
    near = process.extractOne(
        domain, COMMON_EMAIL_DOMAINS, scorer=OSA.distance, score_cutoff=max_distance
    )
    return near[0] if near else None


def suggest_email_domain(address: str) -> str | None:
    """The address with its domain corrected if it looks like a typo of a common one, else None.

    Returns the whole address (lowercased), e.g. "ana@gmial.com" -> "ana@gmail.com".
    """
    local, at, domain = address.strip().lower().rpartition("@")
    if not at or not local or not domain or domain in _KNOWN_DOMAINS:
        return None
    suggested = _suggest_domain(domain)
    return None if suggested is None else f"{local}@{suggested}"


def _normalise_email(text: str, *, check_deliverability: bool = False) -> str:
    return normalise_address(text, check_deliverability=check_deliverability)


def _email_error(text: str, error: email_validator.EmailNotValidError) -> Invalid:
    stripped = text.strip()
    if not stripped:
        return Invalid(EMAIL_EMPTY)
    if "@" not in stripped:
        return Invalid(EMAIL_MISSING_AT)
    if any(char.isspace() for char in stripped):
        return Invalid(EMAIL_HAS_SPACES)
    if isinstance(error, email_validator.EmailUndeliverableError):
        domain = stripped.rpartition("@")[2].lower()
        return Invalid(EMAIL_UNDELIVERABLE, {"domain": domain})
    if not stripped.rpartition("@")[0].isascii():
        return Invalid(EMAIL_NOT_ASCII)
    return Invalid(EMAIL_INVALID)


def _did_you_mean(suggested: str, *alternatives: str) -> Suggestion:
    return Suggestion(
        message=EMAIL_DID_YOU_MEAN,
        params={"suggested": suggested},
        choices=tuple(Choice(label=value, value=value) for value in (suggested, *alternatives)),
    )


def validate_email(
    text: str, *, check_deliverability: bool = False, accept_as_typed: bool = False
) -> Valid[str] | Invalid | Suggestion:
    """An e-mail address, lowercased; a likely typo in a common domain is offered as a choice.

    `accept_as_typed` is for the value of a suggestion's button: the family already decided.
    `check_deliverability` looks the domain up in DNS, so it is the one option that does I/O.
    """
    try:
        address = _normalise_email(text, check_deliverability=check_deliverability)
    except email_validator.EmailNotValidError as error:
        # "nombre@gmailcom" or "nombre@gmail" fail the syntax check but have an obvious fix;
        # what was typed is not offered back, since it cannot be used.
        suggested = suggest_email_domain(text)
        if suggested is not None:
            try:
                suggested = _normalise_email(suggested)
            except email_validator.EmailNotValidError:
                return _email_error(text, error)
            return _did_you_mean(suggested)
        return _email_error(text, error)
    if not accept_as_typed:
        suggested = suggest_email_domain(address)
        if suggested is not None:
            return _did_you_mean(suggested, address)
    return Valid(address)


def validate_email_confirmation(text: str, *, email: str) -> Valid[str] | Invalid:
    """The address typed a second time: it must be the same one (case does not matter)."""
    try:
        again = _normalise_email(text)
    except email_validator.EmailNotValidError:
        again = text.strip().lower()
    if again != email.strip().lower():
        return Invalid(EMAIL_CONFIRMATION_MISMATCH)
    return Valid(again)


# ---------------------------------------------------------------- password


PASSWORD_TOO_SHORT = N_(
    "La contraseña es muy corta: debe tener {min} caracteres como mínimo. Consejo: use una "
    "frase fácil de recordar para usted, con letras y números, y difícil de adivinar para otros."
)
PASSWORD_TOO_LONG = N_(
    "La contraseña es muy larga: puede tener hasta {max} caracteres. Escriba una más corta, "
    "con letras y números."
)

# Telegram takes a message that starts with "/" for a command: the form could never be sent it
# as an answer. (The login still takes one, for an account whose password was set elsewhere.)
PASSWORD_STARTS_WITH_SLASH = N_(
    "La contraseña no puede empezar con «/»: Telegram la toma por un comando. Elija otra."
)


def validate_password(text: str) -> Valid[str] | Invalid:
    """Only the length is checked; messages never contain the password, not even in params."""
    # Not stripped: spaces are legitimate password characters, and silently dropping them
    # would leave the family with a password different from the one they typed.
    # len() counts code points, so "ñ" or "密" is one character, whatever its UTF-8 size.
    if len(text) < MIN_PASSWORD_LENGTH:
        return Invalid(PASSWORD_TOO_SHORT, {"min": MIN_PASSWORD_LENGTH})
    if len(text) > MAX_PASSWORD_LENGTH:
        return Invalid(PASSWORD_TOO_LONG, {"max": MAX_PASSWORD_LENGTH})
    if text.startswith("/"):
        return Invalid(PASSWORD_STARTS_WITH_SLASH)
    return Valid(text)
