"""Updates the Spanish catalog from locales/messages.pot: Spanish is the source language, so
each Spanish text is its own translation. Run by `make messages`."""

from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "locales" / "messages.pot"
SPANISH = ROOT / "locales" / "es" / "LC_MESSAGES" / "messages.po"


def main() -> None:
    with TEMPLATE.open("rb") as source:
        catalog = read_po(source, locale="es")
    # A fresh template is marked fuzzy as a whole, and compiling skips fuzzy catalogs.
    catalog.fuzzy = False
    catalog.project = "ninez-migrante-bot"
    catalog.version = "0.1.0"
    for message in catalog:
        if message.id:
            message.string = message.id
    SPANISH.parent.mkdir(parents=True, exist_ok=True)
    with SPANISH.open("wb") as target:
        write_po(target, catalog, omit_header=False, sort_output=True, no_location=True)


if __name__ == "__main__":
    main()
