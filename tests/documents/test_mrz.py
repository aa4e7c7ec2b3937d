"""The zone's parser: ICAO 9303's own specimens, and many broken zones, each refused or
repaired only where the field's type makes the repair certain."""

from __future__ import annotations

import pytest

from bot.devtools.specimens import Holder, id_card_zone, passport_zone
from bot.documents.mrz import Mrz, Refusal, check_digit, normalise, read_zone

# ICAO Doc 9303, parts 4 to 6: the specimen passport, visa-sized card and ID card of Utopia.
TD3 = [
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
]
TD2 = ["I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<", "D231458907UTO7408122F1204159<<<<<<<6"]
TD1 = [
    "I<UTOD231458907<<<<<<<<<<<<<<<",
    "7408122F1204159UTO<<<<<<<<<<<6",
    "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
]


def test_check_digits_as_icao_computes_them() -> None:
    assert check_digit("L898902C3") == "6"
    assert check_digit("740812") == "2"
    assert check_digit("120415") == "9"
    assert check_digit("ZE184226B<<<<<") == "1"
    assert check_digit("<<<<<<") == "0"


@pytest.mark.parametrize(("zone", "kind"), [(TD3, "TD3"), (TD2, "TD2"), (TD1, "TD1")])
def test_the_icao_specimens(zone: list[str], kind: str) -> None:
    read = read_zone(zone)
    assert isinstance(read, Mrz)
    assert read.kind == kind
    assert (read.primary, read.secondary) == ("ERIKSSON", "ANNA MARIA")
    assert (read.issuing_state, read.nationality) == ("UTO", "UTO")
    assert (read.birth, read.expiry, read.sex) == ("740812", "120415", "F")
    assert read.number == ("L898902C3" if kind == "TD3" else "D23145890")


def test_the_zone_is_found_among_the_other_lines_of_a_page() -> None:
    lines = ["REPUBLICA BOLIVARIANA DE VENEZUELA", "PASAPORTE", "Apellidos / Surname", *TD3, "x"]
    assert isinstance(read_zone(lines), Mrz)


def _replace(line: str, index: int, char: str) -> str:
    return line[:index] + char + line[index + 1 :]


@pytest.mark.parametrize(
    ("line", "index", "why"),
    [
        (1, 9, "the document number's check digit"),
        (1, 19, "the birth date's check digit"),
        (1, 27, "the expiry date's check digit"),
        (1, 42, "the personal number's check digit"),
        (1, 43, "the composite check digit"),
        (1, 3, "a digit of the document number"),
        (1, 15, "a digit of the birth date"),
        (1, 24, "a digit of the expiry date"),
        (1, 30, "a character of the personal number"),
    ],
)
def test_a_passport_with_one_wrong_character_is_refused(line: int, index: int, why: str) -> None:
    zone = list(TD3)
    original = zone[line][index]
    zone[line] = _replace(zone[line], index, "7" if original != "7" else "3")
    assert read_zone(zone) is Refusal.UNVERIFIED, why


@pytest.mark.parametrize(
    ("line", "index"),
    [(0, 14), (0, 29), (1, 6), (1, 14), (1, 29)],  # number, optional data, dates, composite
)
def test_an_id_card_with_one_wrong_character_is_refused(line: int, index: int) -> None:
    zone = list(TD1)
    zone[line] = _replace(zone[line], index, "7" if zone[line][index] != "7" else "3")
    assert read_zone(zone) is Refusal.UNVERIFIED


def test_the_generated_zones_verify_and_their_spoiled_ones_do_not() -> None:
    holder = Holder()
    assert isinstance(read_zone(passport_zone(holder)), Mrz)
    assert isinstance(read_zone(id_card_zone(holder)), Mrz)
    assert read_zone(passport_zone(holder, spoil=True)) is Refusal.UNVERIFIED
    assert read_zone(id_card_zone(holder, spoil=True)) is Refusal.UNVERIFIED


def test_look_alikes_are_fixed_where_the_field_says_letter_or_digit() -> None:
    # Letters fields: UT0 → UTO, ERIKSS0N → ERIKSSON, 1 for I in the card's type.
    first = TD3[0].replace("UTO", "UT0").replace("ERIKSSON", "ERIKSS0N")
    # Digit fields: the birth date's 0 read as O, its 1 as I, the expiry's 5 as S, 8 as B.
    second = TD3[1].replace("7408122", "74O8I22").replace("1204159", "12O4IS9")
    second = _replace(second, 43, "O")  # the composite check digit, 0, read as O
    read = read_zone([first, second])
    assert isinstance(read, Mrz)
    assert (read.issuing_state, read.primary, read.birth) == ("UTO", "ERIKSSON", "740812")
    card = [_replace(TD1[0], 0, "1"), TD1[1].replace("UTO", "UT0"), TD1[2]]
    assert isinstance(read_zone(card), Mrz)


def test_look_alikes_are_not_guessed_in_a_field_of_letters_and_digits() -> None:
    # The document number takes both: an O read for its 0 stays, and its check digit fails.
    zone = [TD3[0], TD3[1].replace("L898", "LB98", 1)]
    assert read_zone(zone) is Refusal.UNVERIFIED
    number_with_zero = Holder(number="AB0123456")
    misread = passport_zone(number_with_zero)
    misread[1] = misread[1].replace("AB0123456", "ABO123456")
    assert read_zone(misread) is Refusal.UNVERIFIED


def test_greek_and_cyrillic_look_alikes_are_latin_letters() -> None:
    zone = ["Ρ<UTOERIKSSON<<ΑΝΝΑ<MARIA<<<<<<<<<<<<<<<<<<<", TD3[1].replace("C", "С")]
    read = read_zone(zone)
    assert isinstance(read, Mrz) and read.secondary == "ANNA MARIA"


def test_miscounted_runs_of_fillers_are_evened_out() -> None:
    short_names = TD3[0][:-6]
    long_names = TD3[0] + "<<<"
    fewer_fillers = TD3[1].replace("B<<<<<1", "B<<<1")
    more_fillers = TD3[1].replace("B<<<<<1", "B<<<<<<<1")
    for zone in ([short_names, fewer_fillers], [long_names, more_fillers]):
        read = read_zone(zone)
        assert isinstance(read, Mrz), zone
        assert read.secondary == "ANNA MARIA"
    card = [TD1[0][:-4], TD1[1].replace("<<<<<<<<<<<6", "<<<<<<<<6"), TD1[2][:-5]]
    assert isinstance(read_zone(card), Mrz)


def test_a_line_that_is_too_long_with_more_than_fillers_is_refused() -> None:
    assert read_zone([TD3[0], TD3[1][:28] + "X" + TD3[1][28:]]) is Refusal.UNVERIFIED


def test_spaces_angle_quotes_and_lowercase_from_an_ocr_are_read() -> None:
    assert normalise("p<uto eriksson«anna") == "P<UTOERIKSSON<<ANNA"
    spaced = [" ".join(TD3[0]), TD3[1][:20] + " " + TD3[1][20:]]
    assert isinstance(read_zone(spaced), Mrz)


def test_a_date_that_does_not_exist_is_refused_even_with_its_check_digit() -> None:
    zone = passport_zone(Holder(birth="151323"))  # month 13
    assert read_zone(zone) is Refusal.UNVERIFIED


def test_a_zone_without_names_is_refused() -> None:
    zone = passport_zone(Holder(surnames="", given_names=""))
    assert read_zone(zone) is Refusal.UNVERIFIED


@pytest.mark.parametrize(
    "lines",
    [
        [],
        ["Hola mamá, feliz cumpleaños"],
        ["REPUBLICA DE HAITI", "PASSEPORT", "Nom / Surname"],
        ["1234567890"],
    ],
)
def test_no_zone_at_all(lines: list[str]) -> None:
    assert read_zone(lines) is Refusal.NOT_FOUND


@pytest.mark.parametrize(
    "lines",
    [
        TD3[:1],  # half a passport's zone
        [TD3[1], TD3[0]],  # its lines in the wrong order
        TD1[:2],
        [TD3[0], TD3[1][:30]],
        ["<" * 44, "<" * 44],
        [TD3[0], "0" * 44],
    ],
)
def test_part_of_a_zone_is_not_a_zone(lines: list[str]) -> None:
    assert read_zone(lines) is Refusal.UNVERIFIED


def test_a_long_document_number_goes_on_in_the_optional_data() -> None:
    # ICAO 9303 part 5: a 12-character number, its first 9 in the field, "<" for its check
    # digit, then the other 3 and the check digit in the optional data.
    number = "D23145890734"
    digit = check_digit(number)
    first = f"I<UTO{number[:9]}<{number[9:]}{digit}".ljust(30, "<")
    second = "7408122F1204159UTO<<<<<<<<<<<"
    composite = first[5:30] + second[0:7] + second[8:15] + second[18:29]
    read = read_zone([first, second + check_digit(composite), TD1[2]])
    assert isinstance(read, Mrz) and read.number == number


@pytest.mark.parametrize("birth", ["150231", "150230", "190229", "151301", "150100"])
def test_a_birth_date_not_in_the_calendar_is_refused_though_its_digit_holds(birth: str) -> None:
    zone = passport_zone(
        Holder(surnames="PEREZ", given_names="ANA", nationality="VEN", birth=birth)
    )
    assert read_zone(zone) is Refusal.UNVERIFIED


def test_the_29th_of_february_of_a_leap_year_is_a_birth_date() -> None:
    zone = passport_zone(
        Holder(surnames="PEREZ", given_names="ANA", nationality="VEN", birth="160229")
    )
    read = read_zone(zone)
    assert isinstance(read, Mrz) and read.birth == "160229"
