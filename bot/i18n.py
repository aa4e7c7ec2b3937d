"""Every text a person reads passes through here: Babel's gettext catalogs under `locales/`.

Msgids are written in Spanish, the language of the portal; other languages are catalogs, not code.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from pathlib import Path

from babel.support import NullTranslations, Translations

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"
DEFAULT_LOCALE = "es"
# Spanish is the source and the default; the others are the languages families read best.
SUPPORTED_LOCALES = ("es", "ht", "fr", "en", "pt")
# Each language named in itself, in the order the choice offers them: Kreyòl first, since
# Telegram has no Kreyòl interface and no language_code ever asks for it.
LANGUAGE_NAMES = {
    "ht": "Kreyòl",
    "fr": "Français",
    "en": "English",
    "pt": "Português",
    "es": "Español",
}

Translate = Callable[..., str]


def N_(msgid: str) -> str:
    """Marks a text for extraction where it is declared; it is translated where it is shown."""
    return msgid


class CatalogMissing(RuntimeError):
    pass


@cache
def translations(locale: str = DEFAULT_LOCALE) -> NullTranslations:
    # Babel returns a silent NullTranslations when the .mo file is missing; that would
    # show raw msgids in every other language, so a missing catalog is an error here.
    found = Translations.load(str(LOCALES_DIR), [locale], DOMAIN)
    if not isinstance(found, Translations):
        raise CatalogMissing(
            f"compiled catalog for {locale!r} not found under {LOCALES_DIR} (run `make install`)"
        )
    return found


def normalise_locale(code: str | None) -> str:
    """Maps a Telegram language_code (e.g. 'es-CL', 'ht') to a locale we have a catalog for."""
    if code:
        base = code.replace("-", "_").split("_")[0].lower()
        if base in SUPPORTED_LOCALES:
            return base
    return DEFAULT_LOCALE


def translator(locale: str | None = None) -> Translate:
    """Returns `_(msgid, **params)`: the text in that locale, with `{name}` placeholders filled."""
    catalog = translations(normalise_locale(locale))

    def _(msgid: str, /, **params: object) -> str:
        text = catalog.gettext(msgid)
        return text.format(**params) if params else text

    return _


def ngettext(locale: str | None, singular: str, plural: str, n: int, /, **params: object) -> str:
    text = translations(normalise_locale(locale)).ngettext(singular, plural, n)
    return text.format(n=n, **params)
