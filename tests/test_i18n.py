"""Every text a family reads comes from a catalog: it loads, falls back to Spanish, is complete."""

from __future__ import annotations

import importlib.util
import string
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from bot import i18n
from bot.i18n import (
    CatalogMissing,
    normalise_locale,
    translations,
    translator,
)

ROOT = Path(__file__).resolve().parent.parent
SPANISH_PO = ROOT / "locales" / "es" / "LC_MESSAGES" / "messages.po"
KEYWORDS = {"_": None, "N_": None}
# babel.cfg itself, so that this test reads the Python code and the templates exactly as
# `make messages` does.
BABEL_CFG = ROOT / "babel.cfg"


@pytest.fixture(scope="module")
def spanish_catalog() -> Catalog:
    with SPANISH_PO.open("rb") as po:
        return read_po(po, locale="es")


@pytest.fixture
def fresh_translations() -> Iterator[None]:
    """Loads catalogs anew in this test, and leaves a clean cache for the next ones."""
    translations.cache_clear()
    try:
        yield
    finally:
        translations.cache_clear()


def placeholders(text: str) -> set[str]:
    parsed = string.Formatter().parse(text)
    return {field for _literal, field, _spec, _conversion in parsed if field is not None}


def a_message_with(catalog: Catalog, *names: str) -> tuple[str, str]:
    for message in catalog:
        if message.id and isinstance(message.id, str) and placeholders(message.id) == set(names):
            return message.id, message.string
    raise AssertionError(f"no message with placeholders {names} in {SPANISH_PO}")


# --- loading ----------------------------------------------------------------------------------


def test_spanish_is_a_real_compiled_catalog(fresh_translations: None) -> None:
    catalog = translations("es")

    assert isinstance(catalog, Translations)
    assert type(catalog) is not NullTranslations
    assert catalog.info()["language"] == "es"
    assert translations("es") is catalog  # loaded once


def test_translator_fills_placeholders(spanish_catalog: Catalog) -> None:
    msgid, msgstr = a_message_with(spanish_catalog, "first_name")
    _ = translator("es")

    assert _(msgid, first_name="Ana") == msgstr.format(first_name="Ana")
    assert "Ana" in _(msgid, first_name="Ana")


@pytest.mark.parametrize("code", ["es", "es-CL", "es_CL", "ES", "es-419"])
def test_spanish_variants_use_the_spanish_catalog(code: str, spanish_catalog: Catalog) -> None:
    msgid, msgstr = a_message_with(spanish_catalog, "first_name")

    assert normalise_locale(code) == "es"
    assert translator(code)(msgid, first_name="Luis") == msgstr.format(first_name="Luis")


@pytest.mark.parametrize(("code", "locale"), [("ht", "ht"), ("fr-HT", "fr"), ("en-US", "en")])
def test_a_telegram_language_code_picks_one_of_the_five(code: str, locale: str) -> None:
    assert normalise_locale(code) == locale


@pytest.mark.parametrize("code", ["de", "zh-Hans", "zz-ZZ", "", None])
def test_an_unknown_locale_falls_back_to_spanish(
    code: str | None, spanish_catalog: Catalog
) -> None:
    msgid, msgstr = a_message_with(spanish_catalog, "first_name")

    assert normalise_locale(code) == "es"
    assert translator(code)(msgid, first_name="Rose") == msgstr.format(first_name="Rose")


def test_ngettext_picks_the_plural_and_fills_n() -> None:
    singular = "Queda {n} intento."
    plural = "Quedan {n} intentos."
    assert i18n.ngettext("es", singular, plural, 1) == "Queda 1 intento."
    assert i18n.ngettext("ht", singular, plural, 3) == "Quedan 3 intentos."


def test_a_missing_catalog_is_an_error_not_raw_msgids(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fresh_translations: None
) -> None:
    empty = tmp_path / "locales"
    empty.mkdir()
    monkeypatch.setattr(i18n, "LOCALES_DIR", empty)
    translations.cache_clear()

    with pytest.raises(CatalogMissing) as caught:
        translations("es")
    assert "make install" in str(caught.value)
    with pytest.raises(CatalogMissing):
        translator("es-CL")

    monkeypatch.undo()
    translations.cache_clear()
    assert isinstance(translations("es"), Translations)


# --- the catalog is complete and consistent ---------------------------------------------------


def marked_texts() -> Iterator[tuple[str, str]]:
    """(msgid, where it is written) for every text the code and the templates mark."""
    with BABEL_CFG.open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, KEYWORDS
    ):
        msgids = message if isinstance(message, tuple) else (message,)
        for msgid in msgids:
            if msgid:
                yield msgid, f"{filename}:{lineno}"


def extracted_msgids() -> dict[str, str]:
    """msgid -> the first place it is written."""
    found: dict[str, str] = {}
    for msgid, where in marked_texts():
        found.setdefault(msgid, where)
    return found


def test_the_extraction_finds_the_marked_texts() -> None:
    found = extracted_msgids()

    assert len(found) > 20
    assert any(where.startswith("bot/") for where in found.values())
    assert any(where.startswith("conversations/") for where in found.values())


@pytest.mark.parametrize(
    ("template", "text"),
    [
        ("bot/web/templates/verified.html", "Su cuenta ha sido correctamente verificada."),
        ("bot/web/templates/portal_home.html", "Bandeja de Entrada ({n})"),
        ("bot/mail/templates/verification.subject.txt", "Valide su correo electrónico"),
        ("bot/mail/templates/verification.txt", "copie y pegue la siguiente URL"),
        ("bot/mail/templates/verification.html", "Validar mi correo electrónico"),
    ],
)
def test_the_extraction_reads_the_templates(template: str, text: str) -> None:
    places = [where for msgid, where in marked_texts() if text in msgid]

    assert any(where.startswith(f"{template}:") for where in places), places


def test_every_marked_text_is_in_the_spanish_catalog(spanish_catalog: Catalog) -> None:
    in_catalog = {message.id for message in spanish_catalog if message.id}
    missing = {
        msgid: where for msgid, where in extracted_msgids().items() if msgid not in in_catalog
    }

    assert not missing, (
        f"{len(missing)} text(s) marked for translation are not in {SPANISH_PO.name}; "
        "run `make messages`:\n"
        + "\n".join(f"  {where}: {msgid!r}" for msgid, where in sorted(missing.items()))
    )


def test_every_spanish_text_is_translated(spanish_catalog: Catalog) -> None:
    untranslated = [message.id for message in spanish_catalog if message.id and not message.string]
    assert not untranslated, f"empty msgstr in {SPANISH_PO.name}; run `make messages`"


def test_translations_keep_the_same_placeholders(spanish_catalog: Catalog) -> None:
    wrong = []
    checked = 0
    for message in spanish_catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = set().union(*(placeholders(msgid) for msgid in ids))
        for msgstr in strings:
            if msgstr and placeholders(msgstr) != expected:
                wrong.append(f"{message.id!r}: {sorted(expected)} -> {msgstr!r}")
        checked += 1

    assert checked > 20
    assert not wrong, "placeholders differ between msgid and msgstr:\n" + "\n".join(wrong)


def test_the_compiled_catalog_matches_the_po_file(
    spanish_catalog: Catalog, fresh_translations: None
) -> None:
    compiled = translations("es")
    stale = [
        message.id
        for message in spanish_catalog
        if message.id
        and isinstance(message.id, str)
        and message.string
        and not message.fuzzy
        and compiled.gettext(message.id) != message.string
    ]
    assert not stale, f"messages.mo is older than messages.po; run `make install`: {stale[:5]}"


# --- every language ---------------------------------------------------------------------------


def _catalog_checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "check_catalog", ROOT / "tools" / "check_catalog.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("locale", [code for code in i18n.SUPPORTED_LOCALES if code != "es"])
def test_every_catalog_is_complete_with_its_placeholders_and_markup_intact(locale: str) -> None:
    # Missing, empty or fuzzy entries; a {placeholder}, a tag or a /command changed or lost.
    assert _catalog_checker().problems(locale) == []


# The portal shows these in Spanish only: the family must recognise them there.
PORTAL_BUTTONS = (
    "Crear cuenta",
    "✅ Crear cuenta",
    "No soy un robot",
    "Validar mi correo electrónico",
)


@pytest.mark.parametrize("locale", i18n.SUPPORTED_LOCALES)
def test_the_portals_own_button_names_stay_visible_in_every_language(locale: str) -> None:
    _ = translator(locale)
    for name in PORTAL_BUTTONS:
        assert name.removeprefix("✅ ") in _(name), (locale, name, _(name))
