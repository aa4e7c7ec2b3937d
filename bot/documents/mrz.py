"""The machine-readable zone of travel documents (ICAO 9303): found among an OCR's lines,
repaired where the field's type allows it, and accepted only when every check digit holds.

Pure: text in, fields or a refusal out. TD3 (passports, 2 lines of 44), TD2 (2 of 36) and TD1
(identity cards, 3 of 30).
"""

from __future__ import annotations

import datetime
import enum
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

FILLER = "<"
_WEIGHTS = (7, 3, 1)


class Refusal(enum.Enum):
    """Why nothing was read: no zone at all, or a zone whose check digits do not hold."""

    NOT_FOUND = "not_found"
    UNVERIFIED = "unverified"


@dataclass(frozen=True)
class Mrz:
    """What a zone states, as it states it: names with spaces for its fillers, dates YYMMDD."""

    kind: str  # "TD1", "TD2" or "TD3"
    document_type: str
    issuing_state: str
    primary: str  # the surnames, e.g. "RODRIGUEZ PENA"
    secondary: str  # the given names, e.g. "SOFIA VALENTINA"
    number: str
    nationality: str
    birth: str
    sex: str
    expiry: str


class _Unverified(Exception):
    """A line of the right shape whose check digits fail."""


def check_digit(text: str) -> str:
    """ICAO 9303's check digit: digits as themselves, A-Z as 10-35, the filler as 0, weighted
    7, 3, 1 and summed modulo 10."""
    total = 0
    for index, char in enumerate(text):
        if char.isdigit():
            value = int(char)
        elif "A" <= char <= "Z":
            value = ord(char) - ord("A") + 10
        elif char == FILLER:
            value = 0
        else:
            raise _Unverified(f"{char!r} has no value")
        total += value * _WEIGHTS[index % 3]
    return str(total % 10)


# Letters an OCR reads for the filler, and the Greek and Cyrillic capitals that look like Latin
# ones (Ρ for P): never valid in a zone, so replaced wherever they are.
_EVERYWHERE = str.maketrans(
    {
        "«": "<<",
        "‹": "<",
        "＜": "<",
        "く": "<",
        "〈": "<",
        "|": "I",
        **dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "ABEZHIKMNOPTYX", strict=True)),
        **dict(zip("АВЕКМНОРСТУХ", "ABEKMHOPCTYX", strict=True)),
    }
)
# Look-alikes, fixed only where the field's type says which of the two it must be.
_TO_DIGIT = str.maketrans("OQDILBSZG", "001118526")
_TO_LETTER = str.maketrans("01852", "OIBSZ")
_ZONE_CHARS = re.compile(r"[^A-Z0-9<]")


def normalise(line: str) -> str:
    """An OCR line in the zone's alphabet: capitals, digits and fillers, no spaces."""
    return _ZONE_CHARS.sub("", line.upper().translate(_EVERYWHERE))


def _letters(text: str) -> str:
    return text.translate(_TO_LETTER)


def _digits(text: str) -> str:
    return text.translate(_TO_DIGIT)


def _typed(line: str, mask: str) -> str:
    """`line` with each look-alike fixed by its position's type in `mask`: "a" a letter (or
    the filler), "n" a digit (or the filler), "x" either, left as read."""
    return "".join(
        _letters(char) if kind == "a" else _digits(char) if kind == "n" else char
        for char, kind in zip(line, mask, strict=True)
    )


def _fit(line: str, length: int, fixed_left: int, fixed_right: int) -> str:
    """`line` at `length`, when only its run of fillers between the fixed parts came out too
    short or too long (an OCR miscounts long runs of "<"); else the line as it was, which then
    fails its checks."""
    if len(line) == length:
        return line
    end = len(line) - fixed_right
    middle, right = line[fixed_left:end], line[end:]
    wanted = length - fixed_left - fixed_right
    if len(middle) > wanted:
        if set(middle[wanted:]) - {FILLER}:
            return line
        middle = middle[:wanted]
    else:
        middle = middle.ljust(wanted, FILLER)
    return line[:fixed_left] + middle + right


def _checked(value: str, digit: str) -> None:
    if digit != check_digit(value):
        raise _Unverified


def _date(digits: str) -> str:
    """YYMMDD that is a day of the calendar: check digits can hold on a misread or forged
    date (15-02-31), and such a zone is not verified. The century is unknown here; 20YY has the
    same leap years as 19YY but for 00, where the 29th of February is let through."""
    if not digits.isdigit() or len(digits) != 6:
        raise _Unverified
    try:
        datetime.date(2000 + int(digits[:2]), int(digits[2:4]), int(digits[4:6]))
    except ValueError:
        raise _Unverified from None
    return digits


def _names(field: str) -> tuple[str, str]:
    name = field.rstrip(FILLER)
    primary, _, secondary = name.partition(FILLER * 2)
    if not primary.strip(FILLER) or not name.replace(FILLER, "").isalpha():
        raise _Unverified
    return _spaced(primary), _spaced(secondary)


def _spaced(part: str) -> str:
    return " ".join(part.replace(FILLER, " ").split())


def _number(field: str, digit: str, optional: str) -> tuple[str, str]:
    """The document number and the check digit that covers it. A number longer than 9 goes on
    in the optional data, followed there by its check digit (ICAO 9303 part 5, note j)."""
    if digit != FILLER:
        return field, digit
    rest = optional.split(FILLER, 1)[0]
    if len(rest) < 2:
        raise _Unverified
    return field + rest[:-1], _digits(rest[-1])


def _code(text: str) -> str:
    return text.rstrip(FILLER)


_TD3_MASKS = ("a" * 44, "x" * 9 + "n" + "aaa" + "n" * 7 + "a" + "n" * 7 + "x" * 14 + "nn")
_TD2_MASKS = ("a" * 36, "x" * 9 + "n" + "aaa" + "n" * 7 + "a" + "n" * 7 + "x" * 7 + "n")
_TD1_MASKS = (
    "a" * 5 + "x" * 9 + "n" + "x" * 15,
    "n" * 7 + "a" + "n" * 7 + "aaa" + "x" * 11 + "n",
    "a" * 30,
)


def _zone(
    kind: str,
    first: str,
    number: tuple[str, str],
    dates: str,
    nationality: str,
    composite: tuple[str, str],
    names: str,
) -> Mrz:
    """What the three formats share once each has found its fields: the check digits of the
    number, of the two dates and of the whole, then what the zone states. `dates` is the run
    birth, its digit, sex, expiry, its digit, as every format writes it."""
    birth, expiry = _date(dates[0:6]), _date(dates[8:14])
    _checked(*number)
    _checked(birth, dates[6])
    _checked(expiry, dates[14])
    _checked(*composite)
    primary, secondary = _names(names)
    return Mrz(
        kind=kind,
        document_type=_code(first[0:2]),
        issuing_state=_code(first[2:5]),
        primary=primary,
        secondary=secondary,
        number=_code(number[0]),
        nationality=_code(nationality),
        birth=birth,
        sex=dates[7],
        expiry=expiry,
    )


def _td3(first: str, second: str) -> Mrz:
    first, second = _fit(first, 44, 5, 0), _fit(second, 44, 28, 2)
    if len(first) != 44 or len(second) != 44:
        raise _Unverified
    first, second = _typed(first, _TD3_MASKS[0]), _typed(second, _TD3_MASKS[1])
    if not first.startswith("P"):
        raise _Unverified
    personal, personal_digit = second[28:42], second[42]
    # An empty personal number may have a filler for its check digit.
    if not (personal_digit == FILLER and set(personal) == {FILLER}):
        _checked(personal, personal_digit)
    composite = (second[0:10] + second[13:20] + second[21:43], second[43])
    return _zone(
        "TD3", first, (second[0:9], second[9]), second[13:28], second[10:13], composite, first[5:44]
    )


def _td2(first: str, second: str) -> Mrz:
    first, second = _fit(first, 36, 5, 0), _fit(second, 36, 28, 1)
    if len(first) != 36 or len(second) != 36:
        raise _Unverified
    first, second = _typed(first, _TD2_MASKS[0]), _typed(second, _TD2_MASKS[1])
    if first[0] not in "ACI":
        raise _Unverified
    number = _number(second[0:9], second[9], second[28:35])
    composite = (second[0:10] + second[13:20] + second[21:35], second[35])
    return _zone("TD2", first, number, second[13:28], second[10:13], composite, first[5:36])


def _td1(first: str, second: str, third: str) -> Mrz:
    first, second, third = _fit(first, 30, 15, 0), _fit(second, 30, 18, 1), _fit(third, 30, 1, 0)
    if {len(first), len(second), len(third)} != {30}:
        raise _Unverified
    first, second, third = (
        _typed(line, mask) for line, mask in zip((first, second, third), _TD1_MASKS, strict=True)
    )
    if first[0] not in "ACI":
        raise _Unverified
    number = _number(first[5:14], first[14], first[15:30])
    composite = (first[5:30] + second[0:7] + second[8:15] + second[18:29], second[29])
    return _zone("TD1", first, number, second[0:15], second[15:18], composite, third)


# Each format: how many lines, their nominal length, and its parser.
_FORMATS: tuple[tuple[int, int, Callable[..., Mrz]], ...] = (
    (2, 44, _td3),
    (3, 30, _td1),
    (2, 36, _td2),
)
# How far a line's length may stray from its format's before it is not taken for one of its
# lines: an OCR miscounts runs of fillers, and may drop a line's trailing ones altogether.
_SHORTER, _LONGER = 15, 5


def _looks_like_zone(line: str) -> bool:
    return len(line) >= 30 - _SHORTER and FILLER in line


def read_zone(lines: Sequence[str]) -> Mrz | Refusal:
    """The zone among an OCR's lines (top to bottom), verified; or why there is none.

    Every run of consecutive lines of a format's shape is tried; the first whose check digits
    all hold is the answer. A zone-like line that never verifies makes UNVERIFIED."""
    rows = [normalise(line) for line in lines]
    candidates = [row for row in rows if _looks_like_zone(row)]
    if not candidates:
        return Refusal.NOT_FOUND
    for count, length, parse in _FORMATS:
        for start in range(len(candidates) - count + 1):
            group = candidates[start : start + count]
            if all(length - _SHORTER <= len(row) <= length + _LONGER for row in group):
                try:
                    return parse(*group)
                except _Unverified:
                    continue
    return Refusal.UNVERIFIED
