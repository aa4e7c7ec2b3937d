"""Names from a zone as the family writes them: title case, accents put back only where a
common Spanish name has one usual spelling, and the surnames split."""

from __future__ import annotations

import pytest

from bot.documents.names import ACCENTS, Written, surnames, written


@pytest.mark.parametrize(
    ("zone", "shown", "accented"),
    [
        ("PEREZ", "Pérez", True),
        ("RODRIGUEZ", "Rodríguez", True),
        ("SOFIA", "Sofía", True),
        ("PENA", "Peña", True),
        ("MUNOZ", "Muñoz", True),
        ("JOSE ANGEL", "José Ángel", True),
        ("MARIA DE LOS ANGELES", "María de los Ángeles", True),
        ("VALENTINA", "Valentina", False),
        ("JEAN PIERRE", "Jean Pierre", False),
        ("OSCAR", "Oscar", False),  # Óscar and Oscar are both usual: left as it is
        ("WOOD", "Wood", False),
    ],
)
def test_title_case_with_the_accents_of_common_names(zone: str, shown: str, accented: bool) -> None:
    assert written(zone) == Written(shown, accented)


def test_the_list_keeps_only_words_that_need_something_put_back() -> None:
    assert "VALENTINA" not in ACCENTS and "GONZALEZ" in ACCENTS
    assert all(key.isascii() and key.isupper() for key in ACCENTS)


def test_two_surnames_are_the_paternal_then_the_maternal() -> None:
    found = surnames("RODRIGUEZ PENA")
    assert (found.paternal.text, found.maternal.text, found.unsure) == ("Rodríguez", "Peña", False)


def test_one_surname_means_no_maternal_one() -> None:
    found = surnames("PEREZ")
    assert (found.paternal.text, found.maternal.text, found.unsure) == ("Pérez", "", False)


@pytest.mark.parametrize(
    ("zone", "paternal", "maternal"),
    [
        ("DE LA CRUZ PEREZ", "De la Cruz", "Pérez"),
        ("GARCIA LOPEZ MARTINEZ", "García", "López Martínez"),  # or García-López: the family says
        ("JEAN BAPTISTE PIERRE", "Jean", "Baptiste Pierre"),
        ("SAN MARTIN", "San Martín", ""),
    ],
)
def test_compound_surnames_are_a_guess_the_family_confirms(
    zone: str, paternal: str, maternal: str
) -> None:
    found = surnames(zone)
    assert (found.paternal.text, found.maternal.text) == (paternal, maternal)
    assert found.unsure
