"""Recognising the country a family types, however they write it."""

from __future__ import annotations

import pytest

from bot.registration.countries import COMMON_COUNTRIES, COUNTRY_CODES, country_name, find_country
from bot.registration.results import Choice, Invalid, Suggestion, Valid


def codes(result: Suggestion) -> list[str]:
    return [choice.value for choice in result.choices]


def test_common_countries_in_order() -> None:
    assert COMMON_COUNTRIES == ("VE", "PE", "HT", "CO", "BO", "AR", "EC", "DO", "CN", "CU")
    assert set(COMMON_COUNTRIES) <= COUNTRY_CODES


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("HT", "Haití"),
        ("DO", "República Dominicana"),
        ("VE", "Venezuela"),
        ("PE", "Perú"),
        ("CL", "Chile"),
        ("XK", "Kosovo"),
        ("US", "Estados Unidos"),
    ],
)
def test_country_name(code: str, name: str) -> None:
    assert country_name(code) == name
    assert country_name(code, "es") == name


@pytest.mark.parametrize(
    "code", ["001", "419", "150", "EU", "EZ", "UN", "QO", "ZZ", "XA", "XB", "IC", "EA", "pe", ""]
)
def test_regions_and_pseudo_codes_are_not_countries(code: str) -> None:
    assert code not in COUNTRY_CODES
    with pytest.raises(KeyError):
        country_name(code)


def test_country_list_is_iso_sized() -> None:
    # 249 ISO 3166-1 countries and territories, plus Kosovo.
    assert len(COUNTRY_CODES) == 250
    assert all(len(code) == 2 and code.isalpha() and code.isupper() for code in COUNTRY_CODES)


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("Venezuela", "VE"),
        ("venezuela", "VE"),
        ("VENEZUELA", "VE"),
        ("  Venezuela  ", "VE"),
        ("Venezuela.", "VE"),
        ("Perú", "PE"),
        ("Peru", "PE"),
        ("PERU", "PE"),
        ("el Perú", "PE"),
        ("Haití", "HT"),
        ("Haiti", "HT"),
        ("haïti", "HT"),
        ("Ayiti", "HT"),
        ("Colombia", "CO"),
        ("Bolivia", "BO"),
        ("Argentina", "AR"),
        ("la Argentina", "AR"),
        ("Ecuador", "EC"),
        ("República Dominicana", "DO"),
        ("republica dominicana", "DO"),
        ("REPUBLICA   DOMINICANA", "DO"),
        ("Rep. Dominicana", "DO"),
        ("Rep Dominicana", "DO"),
        ("RD", "DO"),
        ("Dominicana", "DO"),
        ("China", "CN"),
        ("Cuba", "CU"),
        ("Chile", "CL"),
        ("EEUU", "US"),
        ("EE.UU.", "US"),
        ("EE. UU.", "US"),
        ("USA", "US"),
        ("Estados Unidos", "US"),
        ("UK", "GB"),
        ("Inglaterra", "GB"),
        ("Reino Unido", "GB"),
        ("España", "ES"),
        ("espana", "ES"),
        ("México", "MX"),
        ("Mexico", "MX"),
        ("Brasil", "BR"),
        ("Brazil", "BR"),
        ("Paraguay", "PY"),
        ("Uruguay", "UY"),
        ("Holanda", "NL"),
        ("Países Bajos", "NL"),
        ("Côte d’Ivoire", "CI"),
        ("Cote d'Ivoire", "CI"),
        ("Costa de Marfil", "CI"),
        ("Guinea-Bisáu", "GW"),
        ("Guinea Bissau", "GW"),
        ("Myanmar", "MM"),
        ("Birmania", "MM"),
        ("Palestina", "PS"),
        ("Arabia Saudita", "SA"),
        ("Arabia Saudí", "SA"),
        ("El Salvador", "SV"),
        ("Chad", "TD"),
        ("Níger", "NE"),
        ("Nigeria", "NG"),
        ("Kosovo", "XK"),
        ("venezolana", "VE"),
        ("Peruano", "PE"),
        ("haitiana", "HT"),
        ("colombiano", "CO"),
    ],
)
def test_exact_names_and_aliases(typed: str, code: str) -> None:
    assert find_country(typed) == Valid(code)


@pytest.mark.parametrize(
    ("typed", "options"),
    [
        ("Corea", {"KR", "KP"}),
        ("Congo", {"CG", "CD"}),
        ("Dominica", {"DO", "DM"}),
    ],
)
def test_ambiguous_names_offer_each_country(typed: str, options: set[str]) -> None:
    result = find_country(typed)
    assert isinstance(result, Suggestion)
    assert set(codes(result)) == options
    assert result.message == "¿Quiso decir alguno de estos países?"
    for choice in result.choices:
        assert choice.label == country_name(choice.value)


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("Hiati", "HT"),
        ("Haity", "HT"),
        ("Venesuela", "VE"),
        ("Venezula", "VE"),
        ("venezuel", "VE"),
        ("Colonbia", "CO"),
        ("Columbia", "CO"),
        ("Boliva", "BO"),
        ("Bolibia", "BO"),
        ("Domincana", "DO"),
        ("Republica Domincana", "DO"),
        ("Dominicana República", "DO"),
        ("Ecuado", "EC"),
        ("Argentian", "AR"),
        ("Kuba", "CU"),
        ("Frncia", "FR"),
        ("Chle", "CL"),
        ("Venesolana", "VE"),
    ],
)
def test_misspelling_offers_the_right_country(typed: str, code: str) -> None:
    result = find_country(typed)
    assert isinstance(result, Suggestion)
    assert result.choices[0] == Choice(label=country_name(code), value=code)
    assert len(result.choices) <= 4


def test_one_candidate_is_named_in_the_question() -> None:
    result = find_country("Hiati")
    assert result == Suggestion(
        message="¿Quiso decir {name}?",
        choices=(Choice(label="Haití", value="HT"),),
        params={"name": "Haití"},
    )


def test_near_equal_candidates_are_offered_together() -> None:
    result = find_country("Irah")
    assert isinstance(result, Suggestion)
    assert set(codes(result)) == {"IR", "IQ"}
    assert result.message == "¿Quiso decir alguno de estos países?"


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "123",
        "12 34",
        "...",
        "😀",
        "asdf",
        "xyzzy",
        "Hola",
        "no sé",
        "Santiago",
        "Islas",
        "sur",
        "PE",  # ISO codes are too ambiguous to accept
        "CO",
        "VE",
        "a",
    ],
)
def test_garbage_refused_with_example(typed: str) -> None:
    result = find_country(typed)
    assert isinstance(result, Invalid)
    assert "Venezuela" in result.message
    assert "botones" in result.message


def test_every_country_is_found_by_its_own_name() -> None:
    for code in COUNTRY_CODES:
        result = find_country(country_name(code))
        if code in {"CG", "DM"}:  # the bare names are ambiguous on purpose
            assert isinstance(result, Suggestion) and code in codes(result)
        else:
            assert result == Valid(code), code


@pytest.mark.parametrize("typed", ["Narnia", "Wakanda", "Atlantis", "Gondor", "Mordor"])
def test_a_country_that_does_not_exist_is_told_so(typed: str) -> None:
    result = find_country(typed)
    assert isinstance(result, Invalid)
    assert result.message.startswith("No encontré ese país")


@pytest.mark.parametrize(
    ("typed", "code"),
    [("Hiati", "HT"), ("Kolombia", "CO"), ("Benezuela", "VE"), ("Peruu", "PE"), ("Bolibia", "BO")],
)
def test_a_slip_of_the_fingers_is_still_suggested(typed: str, code: str) -> None:
    result = find_country(typed)
    assert isinstance(result, Suggestion) and code in codes(result)


@pytest.mark.parametrize(
    ("typed", "code"),
    [("Equador", "EC"), ("Paraguai", "PY"), ("Pérou", "PE"), ("Colombie", "CO"), ("Kolonbi", "CO")],
)
def test_a_name_in_another_of_the_bots_languages_is_the_country_itself(
    typed: str, code: str
) -> None:
    # Portuguese, French and Kreyòl names are names, not misspellings of Spanish ones.
    assert find_country(typed) == Valid(code)
