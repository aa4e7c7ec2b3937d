"""From a verified zone to what the family is shown: the birth date's century, the country
from the nationality, and the names as written."""

from __future__ import annotations

from datetime import date

import pytest

from bot.devtools.specimens import Holder, passport_zone
from bot.documents import Mrz, Stated, propose, read_zone
from bot.documents.proposal import NATIONALITIES, birth_date

TODAY = date(2026, 12, 1)


@pytest.mark.parametrize(
    ("yymmdd", "born"),
    [
        ("150423", date(2015, 4, 23)),
        ("261130", date(2026, 11, 30)),
        ("261202", date(1926, 12, 2)),  # tomorrow in 2026: born a century ago
        ("740812", date(1974, 8, 12)),
        ("000229", date(2000, 2, 29)),
        ("990101", date(1999, 1, 1)),
    ],
)
def test_a_two_digit_year_is_never_in_the_future(yymmdd: str, born: date) -> None:
    assert birth_date(yymmdd, TODAY) == born


def test_a_birth_date_that_does_not_exist_gives_none() -> None:
    assert birth_date("150231", TODAY) is None
    assert birth_date("010229", TODAY) is None  # 2001 was no leap year


def _zone(holder: Holder) -> Mrz:
    zone = read_zone(passport_zone(holder))
    assert isinstance(zone, Mrz)
    return zone


def test_a_passport_proposes_the_five_answers() -> None:
    proposal = propose(_zone(Holder()), TODAY)
    assert proposal.passport and proposal.accents_added and proposal.country_from_nationality
    assert proposal.stated == {
        "given_names": Stated("Sofía Valentina"),
        "father_surname": Stated("Rodríguez"),
        "mother_surname": Stated("Peña"),
        "birth_date": Stated("23-04-2015"),
        "country": Stated("VE", chosen=True),
    }


def test_one_surname_proposes_the_button_of_no_second_surname() -> None:
    proposal = propose(_zone(Holder(surnames="JOSEPH", nationality="HTI")), TODAY)
    assert proposal.stated["mother_surname"] == Stated("", chosen=True)
    assert proposal.stated["country"] == Stated("HT", chosen=True)


def test_a_nationality_of_no_country_proposes_no_country() -> None:
    for code in ("UTO", "XXA", "UNO"):
        proposal = propose(_zone(Holder(nationality=code)), TODAY)
        assert "country" not in proposal.stated and not proposal.country_from_nationality


def test_icao_codes_of_their_own_are_countries_too() -> None:
    assert NATIONALITIES["D"] == "DE" and NATIONALITIES["GBD"] == "GB"
    assert NATIONALITIES["VEN"] == "VE" and NATIONALITIES["COL"] == "CO"
    assert NATIONALITIES["PER"] == "PE" and NATIONALITIES["HTI"] == "HT"
