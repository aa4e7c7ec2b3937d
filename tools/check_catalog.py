"""Checks a translated catalog against locales/messages.pot: every message translated, none
fuzzy or empty, the same {placeholders}, the same markup and line structure where it matters.

    .venv/bin/python tools/check_catalog.py ht      # prints each problem; exit 1 if any
"""

from __future__ import annotations

import re
import string
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "locales" / "messages.pot"
_TAG = re.compile(r"</?[a-zA-Z][^>]*>")
_COMMAND = re.compile(r"(?<![\w/])/[a-z_]+")


def placeholders(text: str) -> set[str]:
    return {field for _lit, field, _spec, _conv in string.Formatter().parse(text) if field}


def problems(locale: str) -> list[str]:
    with TEMPLATE.open("rb") as source:
        template = read_po(source)
    path = ROOT / "locales" / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as source:
        catalog = read_po(source, locale=locale)
    found: list[str] = []
    for message in template:
        if not message.id:
            continue
        msgid = str(message.id)
        translated = catalog.get(msgid)
        if translated is None or not translated.string:
            found.append(f"missing: {msgid[:70]!r}")
            continue
        if translated.fuzzy:
            found.append(f"fuzzy: {msgid[:70]!r}")
        text = str(translated.string)
        try:
            mine = placeholders(text)
        except ValueError as error:
            found.append(f"broken braces ({error}): {msgid[:60]!r}")
            continue
        if mine != placeholders(msgid):
            wanted = sorted(placeholders(msgid))
            found.append(f"placeholders {sorted(mine)} != {wanted}: {msgid[:60]!r}")
        if sorted(_TAG.findall(text)) != sorted(_TAG.findall(msgid)):
            found.append(f"markup differs: {msgid[:60]!r}")
        if sorted(_COMMAND.findall(text)) != sorted(_COMMAND.findall(msgid)):
            found.append(f"commands differ {_COMMAND.findall(text)}: {msgid[:60]!r}")
    extra = {str(m.id) for m in catalog if m.id} - {str(m.id) for m in template if m.id}
    found += [f"not in the template (obsolete): {msgid[:70]!r}" for msgid in sorted(extra)]
    return found


def main() -> None:
    failed = False
    for locale in sys.argv[1:]:
        for problem in problems(locale):
            failed = True
            print(f"{locale}: {problem}")
    raise SystemExit(1 if failed else 0)


if __name__ == "__main__":
    main()
