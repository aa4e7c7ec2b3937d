"""Countries of birth and nationality: names from Babel's CLDR data, and matching what was typed.

`find_country` forgives case, accents, punctuation, common short forms and small misspellings.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from babel import Locale
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from bot.i18n import DEFAULT_LOCALE, N_
from bot.registration.results import Choice, Invalid, Suggestion, Valid

# Most common countries of origin of migrants in Chile, most common first: offered as buttons.
COMMON_COUNTRIES: tuple[str, ...] = ("VE", "PE", "HT", "CO", "BO", "AR", "EC", "DO", "CN", "CU")

COUNTRY_NOT_RECOGNISED = N_(
    "No encontré ese país. Escriba el nombre del país en español, por ejemplo: Venezuela, "
    "o toque uno de los botones."
)
COUNTRY_DID_YOU_MEAN = N_("¿Quiso decir {name}?")
COUNTRY_DID_YOU_MEAN_SEVERAL = N_("¿Quiso decir alguno de estos países?")

# CLDR names groupings and pseudo-regions alongside countries; none is a place one is born in.
# AC, CP, CQ, DG, EA, IC and TA are only "exceptionally reserved" in ISO 3166-1 (parts of other
# countries). XK is not ISO either, but Kosovo issues passports, so it stays.
_NOT_COUNTRIES = frozenset(
    {"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB", "AC", "CP", "CQ", "DG", "EA", "IC", "TA"}
)

COUNTRY_CODES: frozenset[str] = frozenset(
    code
    for code in Locale.parse("es").territories
    if isinstance(code, str) and len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
)

# Short forms, older or regional names, demonyms (people often answer with their nationality)
# and names in the countries' own languages. Several codes mean "ask which one".
_ALIASES: dict[str, tuple[str, ...]] = {
    "EEUU": ("US",),
    "EE UU": ("US",),
    "USA": ("US",),
    "Estados Unidos de América": ("US",),
    "Estados Unidos de Norteamérica": ("US",),
    "Norteamérica": ("US",),
    "United States": ("US",),
    "Rep Dominicana": ("DO",),
    "RD": ("DO",),
    "Dominicana": ("DO",),
    "Dominicano": ("DO",),
    "Dominican Republic": ("DO",),
    # Dominica is a real country, but someone from the Dominican Republic may well mean theirs.
    "Dominica": ("DO", "DM"),
    "Ayiti": ("HT",),
    "Haitiana": ("HT",),
    "Haitiano": ("HT",),
    "Venezolana": ("VE",),
    "Venezolano": ("VE",),
    "Peruana": ("PE",),
    "Peruano": ("PE",),
    "Colombiana": ("CO",),
    "Colombiano": ("CO",),
    "Boliviana": ("BO",),
    "Boliviano": ("BO",),
    "Argentino": ("AR",),
    "Ecuatoriana": ("EC",),
    "Ecuatoriano": ("EC",),
    "Cubana": ("CU",),
    "Cubano": ("CU",),
    "China continental": ("CN",),
    "Chino": ("CN",),
    "Chilena": ("CL",),
    "Chileno": ("CL",),
    "Brazil": ("BR",),
    "Brasileña": ("BR",),
    "Brasileño": ("BR",),
    "Paraguaya": ("PY",),
    "Paraguayo": ("PY",),
    "Uruguaya": ("UY",),
    "Uruguayo": ("UY",),
    "Mexicana": ("MX",),
    "Mexicano": ("MX",),
    "Méjico": ("MX",),
    "UK": ("GB",),
    "Inglaterra": ("GB",),
    "Gran Bretaña": ("GB",),
    "Escocia": ("GB",),
    "Gales": ("GB",),
    "Holanda": ("NL",),
    "Corea": ("KR", "KP"),
    "Congo": ("CG", "CD"),
    "Congo Brazzaville": ("CG",),
    "República del Congo": ("CG",),
    "Congo Kinshasa": ("CD",),
    "RDC": ("CD",),
    "Costa de Marfil": ("CI",),
    "Palestina": ("PS",),
    "República Checa": ("CZ",),
    "Hong Kong": ("HK",),
    "Macao": ("MO",),
    "Macau": ("MO",),
    "Myanmar": ("MM",),
    "Birmania": ("MM",),
    "Timor Oriental": ("TL",),
    "Suazilandia": ("SZ",),
    "Macedonia": ("MK",),
    "Arabia Saudita": ("SA",),
    "Bangladesh": ("BD",),
    "Bahréin": ("BH",),
    "Rumania": ("RO",),
    "Vaticano": ("VA",),
    "Malvinas": ("FK",),
    "Salvador": ("SV",),
    "Guinea Bissau": ("GW",),
    "Islas Vírgenes": ("VG", "VI"),
    "Federación Rusa": ("RU",),
}

# Babel's Kreyòl locale has no country names at all (CLDR would fall back to French, whose
# "Haïti" is not Kreyòl "Ayiti"): the countries families come from, and Chile's neighbours, in
# Kreyòl; any other country goes by its French name.
KREYOL_NAMES: dict[str, str] = {
    "HT": "Ayiti",
    "CL": "Chili",
    "VE": "Venezyela",
    "PE": "Pewou",
    "CO": "Kolonbi",
    "BO": "Bolivi",
    "AR": "Ajantin",
    "EC": "Ekwatè",
    "DO": "Repiblik Dominikèn",
    "CU": "Kiba",
    "CN": "Lachin",
    "BR": "Brezil",
    "PY": "Paragwe",
    "UY": "Irigwe",
    "MX": "Meksik",
    "US": "Etazini",
    "CA": "Kanada",
    "FR": "Lafrans",
    "ES": "Espay",
    "PA": "Panama",
    "JM": "Jamayik",
    "GY": "Giyana",
    "SR": "Sirinam",
    "GF": "Giyàn Franse",
    "BS": "Bahamas",
    "GP": "Gwadloup",
    "MQ": "Matinik",
    "SN": "Senegal",
    "NG": "Nijerya",
}
# Names typed in any of the bot's languages count, whatever the chat's language: "Ayiti",
# "Haïti", "Haiti" and "Haití" all mean HT.
_NAME_LOCALES = ("es", "fr", "en", "pt")
_KREYOL = "ht"
_KREYOL_FALLBACK = "fr"

_ARTICLES = ("el ", "la ", "los ", "las ")
# Dots vanish ("EE.UU." is "EEUU"), apostrophes too ("Côte d’Ivoire"); other punctuation
# separates words ("Guinea-Bisáu", "Myanmar (Birmania)").
_DROPPED = str.maketrans("", "", ".'’`´")
_SEPARATORS = re.compile(r"[^\w\s]|_")

_FUZZY_CUTOFF = 75  # tested: catches "Hiati", "Colonbia", "Boliva"; refuses "Chad" for "Chile"
_NEAR_EQUAL = 3  # candidates this close to the best are offered together
_MAX_CHOICES = 4
_MIN_FUZZY_KEY = 4  # fuzzy matching on "RD" or "UK" would turn any two letters into a country


def normalise(text: str) -> str:
    """Lowercase, no accents, no dots, single spaces: how typed and known names are compared."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(char for char in decomposed if not unicodedata.category(char).startswith("M"))
    bare = _SEPARATORS.sub(" ", bare.casefold().translate(_DROPPED))
    return " ".join(bare.split())


@cache
def _locale(locale: str) -> Locale:
    return Locale.parse(locale)


def country_name(code: str, locale: str = DEFAULT_LOCALE) -> str:
    """The country's name in that locale (Spanish when the locale lacks it); KeyError if unknown."""
    if code not in COUNTRY_CODES:
        raise KeyError(code)
    if locale == _KREYOL:
        return KREYOL_NAMES.get(code) or country_name(code, _KREYOL_FALLBACK)
    name = _locale(locale).territories.get(code)
    return name if name is not None else _locale(DEFAULT_LOCALE).territories[code]


@cache
def _index(locale: str) -> dict[str, tuple[str, ...]]:
    """Normalised name -> codes; built once per locale, since it is used on every message."""
    index: dict[str, tuple[str, ...]] = {}
    # The chat's language first, then Spanish (a family may write in Spanish whatever their
    # chat language), then the others: where two languages' names clash, the nearer wins.
    order = dict.fromkeys((locale, DEFAULT_LOCALE, *_NAME_LOCALES, _KREYOL))
    for name_locale in order:
        if name_locale == _KREYOL:
            for code, name in KREYOL_NAMES.items():
                index.setdefault(normalise(name), (code,))
            continue
        territories = _locale(name_locale).territories
        for code in COUNTRY_CODES:
            if code in territories:
                index.setdefault(normalise(territories[code]), (code,))
    # Aliases last, overriding names: CLDR calls Congo-Brazzaville just "Congo", but a family
    # typing "Congo" may mean either.
    for alias, codes in _ALIASES.items():
        index[normalise(alias)] = codes
    return index


@cache
def _fuzzy_keys(locale: str) -> tuple[str, ...]:
    return tuple(key for key in _index(locale) if len(key) >= _MIN_FUZZY_KEY)


def _score(query: str, key: str, **_: object) -> float:
    # Plain ratio for misspellings, token_sort for swapped words ("Dominicana República");
    # not WRatio, whose partial matching makes "Islas" or "Sur" look like a dozen countries.
    return max(fuzz.ratio(query, key), fuzz.token_sort_ratio(query, key))


def _genuinely_close(query: str, key: str) -> bool:
    """A slip of the fingers, not another word: at most one or two letters wrong, swapped,
    missing or extra (three in a long name), in the words' order or sorted. The ratio alone
    finds "Armenia" in "Narnia"; no one born in Armenia types that."""
    allowed = 1 if len(key) <= 5 else 2 if len(key) <= 12 else 3
    distance = min(
        OSA.distance(query, key),
        OSA.distance(" ".join(sorted(query.split())), " ".join(sorted(key.split()))),
    )
    return distance <= allowed


def _suggest(codes: list[str], locale: str) -> Suggestion:
    choices = tuple(Choice(label=country_name(code, locale), value=code) for code in codes)
    if len(choices) == 1:
        return Suggestion(COUNTRY_DID_YOU_MEAN, choices, {"name": choices[0].label})
    return Suggestion(COUNTRY_DID_YOU_MEAN_SEVERAL, choices)


def find_country(text: str, locale: str = DEFAULT_LOCALE) -> Valid[str] | Invalid | Suggestion:
    """The ISO code of the country typed, a few likely countries to choose from, or a refusal."""
    query = normalise(text)
    # ISO codes themselves are not accepted: "PE" or "CO" are too easily something else.
    if not query or not any(char.isalpha() for char in query):
        return Invalid(COUNTRY_NOT_RECOGNISED)
    index = _index(locale)
    for candidate in (query, _without_article(query)):
        codes = index.get(candidate)
        if codes is not None:
            return Valid(codes[0]) if len(codes) == 1 else _suggest(list(codes), locale)
    if len(query) < 3:
        return Invalid(COUNTRY_NOT_RECOGNISED)
    matches = [
        match
        for match in process.extract(
            query, _fuzzy_keys(locale), scorer=_score, score_cutoff=_FUZZY_CUTOFF, limit=None
        )
        if _genuinely_close(query, match[0])
    ]
    if not matches:
        return Invalid(COUNTRY_NOT_RECOGNISED)
    best_score = matches[0][1]
    found: list[str] = []
    for key, score, _ in matches:
        if score < best_score - _NEAR_EQUAL:
            break
        for code in index[key]:
            if code not in found:
                found.append(code)
    return _suggest(found[:_MAX_CHOICES], locale)


def _without_article(query: str) -> str:
    for article in _ARTICLES:
        if query.startswith(article):
            return query.removeprefix(article)
    return query
