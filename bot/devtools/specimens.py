"""Specimen photos of identity documents, drawn with Pillow: a passport's data page (TD3) or an
ID card's back (TD1), with a machine-readable zone whose check digits are computed, optionally
tilted and blurred like a phone's photo. For the tests, the benchmark and a demonstration:

    python -m bot.devtools.specimens pasaporte.jpg
    # then, in the terminal chat (make run): /foto pasaporte.jpg

The font is Pillow's own (bundled in its wheel), so nothing depends on the machine's fonts.
"""

from __future__ import annotations

import argparse
import io
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from bot.documents.mrz import check_digit

FILLER = "<"
_PAPER = (236, 232, 219)
_INK = (20, 20, 24)


@dataclass(frozen=True)
class Holder:
    """Whose document: as a zone writes it (capitals, no accents), dates YYMMDD."""

    surnames: str = "RODRIGUEZ PENA"
    given_names: str = "SOFIA VALENTINA"
    nationality: str = "VEN"
    birth: str = "150423"
    sex: str = "F"
    expiry: str = "250101"  # expired: SERMIG accepts expired Venezuelan passports
    number: str = "A12345678"
    state: str | None = None  # the issuing state; the nationality's when None


def _name_field(holder: Holder, length: int) -> str:
    name = (
        holder.surnames.replace(" ", FILLER) + FILLER * 2 + holder.given_names.replace(" ", FILLER)
    )
    return name.ljust(length, FILLER)[:length]


def passport_zone(holder: Holder = Holder(), *, spoil: bool = False) -> list[str]:
    """A TD3 zone (2 lines of 44); `spoil`: the birth date's check digit is wrong."""
    state = holder.state or holder.nationality
    first = ("P<" + state.ljust(3, FILLER) + _name_field(holder, 39))[:44]
    number = holder.number.ljust(9, FILLER)[:9]
    personal = FILLER * 14
    birth_digit = check_digit(holder.birth)
    if spoil:
        birth_digit = str((int(birth_digit) + 1) % 10)
    second = (
        number
        + check_digit(number)
        + holder.nationality.ljust(3, FILLER)
        + holder.birth
        + birth_digit
        + holder.sex
        + holder.expiry
        + check_digit(holder.expiry)
        + personal
        + check_digit(personal)
    )
    composite = second[0:10] + second[13:20] + second[21:43]
    return [first, second + check_digit(composite)]


def id_card_zone(holder: Holder = Holder(), *, spoil: bool = False) -> list[str]:
    """A TD1 zone (3 lines of 30); `spoil`: the document number's check digit is wrong."""
    state = holder.state or holder.nationality
    number = holder.number.ljust(9, FILLER)[:9]
    number_digit = check_digit(number)
    if spoil:
        number_digit = str((int(number_digit) + 1) % 10)
    first = ("I<" + state.ljust(3, FILLER) + number + number_digit).ljust(30, FILLER)
    second = (
        holder.birth
        + check_digit(holder.birth)
        + holder.sex
        + holder.expiry
        + check_digit(holder.expiry)
        + holder.nationality.ljust(3, FILLER)
    ).ljust(29, FILLER)
    composite = first[5:30] + second[0:7] + second[8:15] + second[18:29]
    return [first, second + check_digit(composite), _name_field(holder, 30)]


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _finish(image: Image.Image, angle: float, blur: float) -> bytes:
    if angle:
        image = image.rotate(
            angle, expand=True, fillcolor=(70, 70, 70), resample=Image.Resampling.BICUBIC
        )
    if blur:
        image = image.filter(ImageFilter.GaussianBlur(blur))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def document_photo(
    zone: list[str], *, width: int = 1280, angle: float = 0, blur: float = 0
) -> bytes:
    """A JPEG of a data page (2 zone lines) or a card's back (3), the zone along its bottom."""
    card = len(zone) == 3
    height = int(width / 1.58) if card else int(width * 0.7)
    image = Image.new("RGB", (width, height), _PAPER)
    draw = ImageDraw.Draw(image)
    margin = width // 25
    title = "CÉDULA DE IDENTIDAD" if card else "PASAPORTE / PASSPORT"
    draw.text((margin, margin), title, fill=(40, 40, 110), font=_font(width // 30))
    if not card:
        draw.rectangle(
            (margin, margin * 3, margin + width // 4, height // 2 + margin),
            outline=(120, 120, 120),
            width=3,
        )
    # The zone's font is sized so that its lines take the page's width, as on a document.
    size = width // 24 if card else width // 32
    font = _font(size)
    while font.getlength(max(zone, key=len)) > width - 2 * margin and size > 8:
        size -= 1
        font = _font(size)
    line_height = int(size * 1.25)
    top = height - margin - line_height * len(zone)
    for index, line in enumerate(zone):
        draw.text((margin, top + index * line_height), line, fill=_INK, font=font)
    return _finish(image, angle, blur)


def no_document_photo(width: int = 1280) -> bytes:
    """A photo with no document in it: shapes and a line of ordinary text."""
    image = Image.new("RGB", (width, int(width * 0.75)), (198, 180, 160))
    draw = ImageDraw.Draw(image)
    draw.ellipse((width // 4, width // 8, width * 3 // 4, width * 5 // 8), fill=(90, 140, 60))
    draw.text((40, 40), "Feliz cumpleaños, Sofía", fill=_INK, font=_font(width // 24))
    return _finish(image, 0, 0)


def main() -> None:
    parser = argparse.ArgumentParser(description="Writes a specimen photo of a document.")
    parser.add_argument("path", help="where to write the JPEG")
    parser.add_argument("--id-card", action="store_true", help="an ID card's back (TD1)")
    args = parser.parse_args()
    zone = id_card_zone() if args.id_card else passport_zone()
    with open(args.path, "wb") as out:
        out.write(document_photo(zone, angle=4, blur=1.0))
    print(args.path)


if __name__ == "__main__":
    main()
