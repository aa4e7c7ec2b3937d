"""What families see when they type names, birth dates, e-mails and passwords."""

from __future__ import annotations

from datetime import date

import pytest

from bot.registration.results import Choice, Invalid, Suggestion, Valid
from bot.registration.validation import (
    MAX_PASSWORD_LENGTH,
    MAX_TEXT_LENGTH,
    MIN_PASSWORD_LENGTH,
    format_date,
    suggest_email_domain,
    validate_birth_date,
    validate_email,
    validate_email_confirmation,
    validate_name,
    validate_password,
)

TODAY = date(2025, 6, 15)


def shown(result: Invalid | Suggestion) -> str:
    """The message as the family reads it (untranslated), placeholders filled."""
    return result.message.format(**result.params)


def test_max_text_length_is_exported() -> None:
    assert MAX_TEXT_LENGTH == 300


# ---------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("María José", "María José"),
        ("José", "José"),
        ("Ñuñoa", "Ñuñoa"),
        ("Peña", "Peña"),
        ("  Juan   Pablo  ", "Juan Pablo"),
        ("Juan\tPablo", "Juan Pablo"),
        ("D'Angelo", "D'Angelo"),
        ("O’Higgins", "O’Higgins"),
        ("Jean-Baptiste", "Jean-Baptiste"),
        ("Jean‐Baptiste", "Jean-Baptiste"),  # typographic hyphen made plain
        ("Pérez-Rodríguez", "Pérez-Rodríguez"),
        ("MARÍA JOSÉ", "MARÍA JOSÉ"),  # capitals kept as on the document
        ("maría josé", "maría josé"),
        ("McDonald", "McDonald"),
        ("van der Berg", "van der Berg"),
        ("Jean-Pierre Dézil", "Jean-Pierre Dézil"),
        ("Wisly Saint-Fleur", "Wisly Saint-Fleur"),
        ("王小明", "王小明"),
        ("محمد", "محمد"),
        ("Алексей", "Алексей"),
        ("Nguyễn Văn An", "Nguyễn Văn An"),
        ("Zoë", "Zoë"),
        ("Ü", "Ü"),
    ],
)
def test_name_accepted(typed: str, stored: str) -> None:
    assert validate_name(typed) == Valid(stored)


def test_name_is_nfc_normalised() -> None:
    decomposed = "Jose\u0301"  # "e" followed by a combining acute accent
    result = validate_name(decomposed)
    assert isinstance(result, Valid)
    assert result.value == "José"
    assert len(result.value) == 4


@pytest.mark.parametrize(
    "typed",
    [
        "Juan2",
        "123",
        "María 😀",
        "😀",
        "Juan_Pablo",
        "Juan.",
        "Juan, Pablo",
        "juan@gmail.com",
        "Ana/Luis",
        "---",
        "' '",
        "Juan (hijo)",
        "#Pedro",
    ],
)
def test_name_with_digits_or_symbols_refused(typed: str) -> None:
    result = validate_name(typed)
    assert isinstance(result, Invalid)
    assert "solo se aceptan letras" in shown(result)


@pytest.mark.parametrize("typed", ["", "   ", "\n", "\t "])
def test_empty_name_refused(typed: str) -> None:
    result = validate_name(typed)
    assert isinstance(result, Invalid)
    assert "letras" in shown(result)


def test_name_too_long_says_the_maximum() -> None:
    result = validate_name("a" * 51)
    assert isinstance(result, Invalid)
    assert "50" in shown(result)
    assert validate_name("a" * 50) == Valid("a" * 50)


def test_name_max_length_is_configurable() -> None:
    assert isinstance(validate_name("Ana María", max_length=5), Invalid)
    result = validate_name("Ana María", max_length=5)
    assert isinstance(result, Invalid)
    assert result.params == {"max": 5}


def test_name_length_counted_after_collapsing_spaces() -> None:
    assert validate_name("Ana" + " " * 60 + "María") == Valid("Ana María")


# ---------------------------------------------------------------- birth dates


@pytest.mark.parametrize(
    ("typed", "born"),
    [
        ("23-04-2015", date(2015, 4, 23)),
        ("3-4-2015", date(2015, 4, 3)),
        ("03-4-2015", date(2015, 4, 3)),
        ("23/04/2015", date(2015, 4, 23)),
        ("23.04.2015", date(2015, 4, 23)),
        ("  23-04-2015  ", date(2015, 4, 23)),
        ("23 - 04 - 2015", date(2015, 4, 23)),
        ("29-02-2016", date(2016, 2, 29)),  # leap year
        ("29-02-2020", date(2020, 2, 29)),
        ("15-06-2025", TODAY),  # born today
        ("31-12-2010", date(2010, 12, 31)),
        ("١٢-٠٣-٢٠١٥", date(2015, 3, 12)),  # Arabic-Indic digits
    ],
)
def test_birth_date_accepted(typed: str, born: date) -> None:
    result = validate_birth_date(typed, today=TODAY)
    assert isinstance(result, Valid)
    assert result.value == born
    assert result.note is None


@pytest.mark.parametrize(
    "typed",
    [
        "29-02-2015",  # not a leap year
        "29-02-1900",  # divisible by 100, not by 400: not leap
        "31-02-2015",
        "30-02-2016",
        "31-04-2015",
        "31-06-2015",
        "31-09-2015",
        "31-11-2015",
        "00-04-2015",
        "32-01-2015",
        "15-00-2015",
    ],
)
def test_date_that_does_not_exist_refused(typed: str) -> None:
    result = validate_birth_date(typed, today=TODAY)
    assert isinstance(result, Invalid)
    assert "no existe" in shown(result)
    assert "dd-mm-aaaa" in shown(result)
    assert "23-04-2015" in shown(result)


def test_nonexistent_date_is_repeated_in_the_message() -> None:
    result = validate_birth_date("31-2-2015", today=TODAY)
    assert isinstance(result, Invalid)
    assert "31-02-2015" in shown(result)


@pytest.mark.parametrize("typed", ["04-23-2015", "12-31-2015"])
def test_month_first_gets_a_hint(typed: str) -> None:
    result = validate_birth_date(typed, today=TODAY)
    assert isinstance(result, Invalid)
    assert "día" in shown(result) and "mes" in shown(result)
    assert "23-04-2015" in shown(result)


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "ayer",
        "23 de abril de 2015",
        "2015-04-23",
        "23042015",
        "23-04",
        "23-04-201",
        "23-04-20155",
        "23_04_2015",
        "23-04-2015 y algo",
        "dd-mm-aaaa",
    ],
)
def test_unreadable_date_shows_format_and_example(typed: str) -> None:
    result = validate_birth_date(typed, today=TODAY)
    assert isinstance(result, Invalid)
    assert "dd-mm-aaaa" in shown(result)
    assert "23-04-2015" in shown(result)


@pytest.mark.parametrize("typed", ["23-04-15", "1-1-09", "23/04/99"])
def test_two_digit_year_asks_for_four_digits(typed: str) -> None:
    result = validate_birth_date(typed, today=TODAY)
    assert isinstance(result, Invalid)
    assert "4 cifras" in shown(result)
    assert "23-04-2015" in shown(result)


@pytest.mark.parametrize("typed", ["16-06-2025", "01-01-2026", "23-04-2099"])
def test_future_date_refused(typed: str) -> None:
    result = validate_birth_date(typed, today=TODAY)
    assert isinstance(result, Invalid)
    assert "después de hoy" in shown(result)
    assert "23-04-2015" in shown(result)


@pytest.mark.parametrize("typed", ["31-12-1899", "01-01-1000", "15-06-0015"])
def test_date_before_1900_refused(typed: str) -> None:
    result = validate_birth_date(typed, today=TODAY)
    assert isinstance(result, Invalid)
    assert "1900" in shown(result)


def test_first_of_january_1900_accepted_with_adult_note() -> None:
    result = validate_birth_date("01-01-1900", today=TODAY)
    assert isinstance(result, Valid)
    assert result.value == date(1900, 1, 1)
    assert result.note is not None


@pytest.mark.parametrize(
    ("typed", "age"),
    [
        ("15-06-2007", 18),  # 18th birthday today
        ("14-06-2007", 18),
        ("01-01-1990", 35),
        ("23-04-1965", 60),
        ("29-02-2000", 25),  # divisible by 400: a leap year
    ],
)
def test_adult_accepted_with_note(typed: str, age: int) -> None:
    result = validate_birth_date(typed, today=TODAY)
    assert isinstance(result, Valid)
    assert result.note is not None
    note = result.note.format(**result.note_params)
    assert "Niñez Migrante" in note
    assert "18" in note
    assert "continuar" in note
    assert result.note_params["age"] == age


@pytest.mark.parametrize("typed", ["16-06-2007", "01-01-2020", "15-06-2024"])
def test_minor_has_no_note(typed: str) -> None:
    result = validate_birth_date(typed, today=TODAY)
    assert isinstance(result, Valid)
    assert result.note is None


def test_born_on_29_february_turns_18_on_1_march_in_non_leap_years() -> None:
    born = "29-02-2008"
    on_28 = validate_birth_date(born, today=date(2026, 2, 28))
    on_1 = validate_birth_date(born, today=date(2026, 3, 1))
    assert isinstance(on_28, Valid) and on_28.note is None
    assert isinstance(on_1, Valid) and on_1.note is not None


@pytest.mark.parametrize(
    ("d", "text"),
    [
        (date(2015, 4, 23), "23-04-2015"),
        (date(2015, 4, 3), "03-04-2015"),
        (date(1900, 1, 1), "01-01-1900"),
    ],
)
def test_format_date(d: date, text: str) -> None:
    assert format_date(d) == text
    result = validate_birth_date(text, today=TODAY)
    assert isinstance(result, Valid) and result.value == d


# ---------------------------------------------------------------- e-mail


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("nombre@gmail.com", "nombre@gmail.com"),
        ("  nombre@gmail.com  ", "nombre@gmail.com"),
        ("Juan.Perez@Gmail.COM", "juan.perez@gmail.com"),
        ("MARIA@HOTMAIL.COM", "maria@hotmail.com"),
        ("ana+bot@outlook.com", "ana+bot@outlook.com"),
        ("ana@outlook.es", "ana@outlook.es"),
        ("ana@yahoo.com.ar", "ana@yahoo.com.ar"),
        ("ana@live.cl", "ana@live.cl"),
        ("ana@icloud.com", "ana@icloud.com"),
        ("ana@empresa.cl", "ana@empresa.cl"),
        ("ana@uc.cl", "ana@uc.cl"),
        ("ana@mineduc.cl", "ana@mineduc.cl"),
        ("ana@mail.com", "ana@mail.com"),  # a real provider, one letter from gmail.com
        ("ana@email.com", "ana@email.com"),
        ("ana@ymail.com", "ana@ymail.com"),
        ("ana@hotmail.fr", "ana@hotmail.fr"),
        ("ana@municipalidad.gob.cl", "ana@municipalidad.gob.cl"),
    ],
)
def test_email_accepted_and_lowercased(typed: str, stored: str) -> None:
    assert validate_email(typed) == Valid(stored)


@pytest.mark.parametrize(
    ("typed", "suggested"),
    [
        ("ana@gmial.com", "ana@gmail.com"),
        ("ana@gamil.com", "ana@gmail.com"),
        ("ana@gmai.com", "ana@gmail.com"),
        ("ana@gmaill.com", "ana@gmail.com"),
        ("ana@gnail.com", "ana@gmail.com"),
        ("ana@gmail.con", "ana@gmail.com"),
        ("ana@gmail.co", "ana@gmail.com"),
        ("ana@gmail.cl", "ana@gmail.com"),
        ("ana@gmail.comm", "ana@gmail.com"),
        ("ana@hotmial.com", "ana@hotmail.com"),
        ("ana@hotmal.com", "ana@hotmail.com"),
        ("ana@hormail.com", "ana@hotmail.com"),
        ("ana@hotmail.co", "ana@hotmail.com"),
        ("ana@hotmail.om", "ana@hotmail.com"),
        ("ana@hotnail.es", "ana@hotmail.es"),
        ("ana@outlok.com", "ana@outlook.com"),
        ("ana@yaho.com", "ana@yahoo.com"),
        ("ana@yaho.com.ar", "ana@yahoo.com.ar"),
        ("ana@icloud.cm", "ana@icloud.com"),
        ("Ana.Perez@Gmial.com", "ana.perez@gmail.com"),
    ],
)
def test_email_domain_typo_offers_both_addresses(typed: str, suggested: str) -> None:
    result = validate_email(typed)
    typed_normalised = typed.strip().lower()
    assert result == Suggestion(
        message="¿Quiso decir {suggested}?",
        params={"suggested": suggested},
        choices=(
            Choice(label=suggested, value=suggested),
            Choice(label=typed_normalised, value=typed_normalised),
        ),
    )
    assert suggest_email_domain(typed) == suggested


@pytest.mark.parametrize(
    ("typed", "suggested"),
    [
        ("ana@gmailcom", "ana@gmail.com"),
        ("ana@gmail", "ana@gmail.com"),
        ("ana@hotmail", "ana@hotmail.com"),
        ("ana@gmail..com", "ana@gmail.com"),
        ("ana@gmail,com", "ana@gmail.com"),
    ],
)
def test_unusable_address_with_obvious_fix_offers_only_the_fix(typed: str, suggested: str) -> None:
    result = validate_email(typed)
    assert isinstance(result, Suggestion)
    assert result.choices == (Choice(label=suggested, value=suggested),)
    assert suggested in shown(result)


@pytest.mark.parametrize(
    "typed", ["ana@gmial.com", "ana@gmail.co", "ana@hotmial.com", "ana@gmail.cl"]
)
def test_chosen_typed_address_is_accepted_without_asking_again(typed: str) -> None:
    first = validate_email(typed)
    assert isinstance(first, Suggestion)
    for choice in first.choices:
        assert validate_email(choice.value, accept_as_typed=True) == Valid(choice.value)


@pytest.mark.parametrize(
    "address",
    [
        "ana@gmail.com",
        "ana@hotmail.com",
        "ana@outlook.com",
        "ana@yahoo.es",
        "ana@live.com",
        "ana@empresa.cl",
        "ana@mail.com",
        "ana@me.cl",
        "ana@gob.cl",
        "ana@duocuc.cl",
        "sin-arroba",
        "",
    ],
)
def test_no_suggestion_for_common_or_unrelated_domains(address: str) -> None:
    assert suggest_email_domain(address) is None


@pytest.mark.parametrize(
    ("typed", "hint"),
    [
        ("", "nombre@gmail.com"),
        ("   ", "nombre@gmail.com"),
        ("nombre.gmail.com", "falta la @"),
        ("nombre", "falta la @"),
        ("nombre @gmail.com", "espacios"),
        ("nom bre@empresa.cl", "espacios"),
        ("josé@empresa.cl", "tildes"),
        ("peña@empresa.cl", "ñ"),
        ("@gmail.com", "nombre@gmail.com"),
        ("nombre@", "nombre@gmail.com"),
        ("nombre@@empresa.cl", "nombre@gmail.com"),
        ("nombre@empresa", "nombre@gmail.com"),
        ("nombre@empresa.cl.", "nombre@gmail.com"),
        (".nombre@empresa.cl", "nombre@gmail.com"),
    ],
)
def test_invalid_email_refused_with_example(typed: str, hint: str) -> None:
    result = validate_email(typed)
    assert isinstance(result, Invalid)
    assert hint in shown(result)
    assert "nombre@gmail.com" in shown(result)


@pytest.mark.parametrize(
    ("again", "email"),
    [
        ("ana@gmail.com", "ana@gmail.com"),
        ("ANA@GMAIL.COM", "ana@gmail.com"),
        ("  Ana@Gmail.com ", "ana@gmail.com"),
        ("ana@gmial.com", "ana@gmial.com"),  # kept as typed after the suggestion
    ],
)
def test_confirmation_matches_case_insensitively(again: str, email: str) -> None:
    assert validate_email_confirmation(again, email=email) == Valid(email)


@pytest.mark.parametrize(
    "again", ["ana@gmail.co", "ana@hotmail.com", "ana2@gmail.com", "", "ana", "a na@gmail.com"]
)
def test_confirmation_mismatch_refused(again: str) -> None:
    result = validate_email_confirmation(again, email="ana@gmail.com")
    assert isinstance(result, Invalid)
    assert "no coinciden" in shown(result)
    assert "ana@gmail.com" not in shown(result)


# ---------------------------------------------------------------- passwords


@pytest.mark.parametrize(
    "password",
    [
        "abcd1234",
        "12345678",
        "mi clave secreta",
        " espacio ",  # spaces at the ends are part of the password
        "contraseña",
        "ñandú123",
        "密码密码密码密码",  # 8 characters, 24 bytes
        "a" * MAX_PASSWORD_LENGTH,
    ],
)
def test_password_accepted_unchanged(password: str) -> None:
    assert validate_password(password) == Valid(password)


@pytest.mark.parametrize(
    "password",
    [
        "",
        "abc1234",  # 7
        "ñandú12",  # 7 characters, 9 bytes
        "密码密码密码密",  # 7 characters, 21 bytes
        "   abc ",
        "😀😀😀😀😀😀😀",
    ],
)
def test_short_password_refused_with_tip(password: str) -> None:
    result = validate_password(password)
    assert isinstance(result, Invalid)
    assert "debe tener 8 caracteres como mínimo" in shown(result)
    assert "letras y números" in shown(result)


def test_password_too_long_refused() -> None:
    result = validate_password("a" * (MAX_PASSWORD_LENGTH + 1))
    assert isinstance(result, Invalid)
    assert str(MAX_PASSWORD_LENGTH) in shown(result)


@pytest.mark.parametrize("password", ["/Secreto2024", "//////////"])
def test_password_starting_with_a_slash_refused(password: str) -> None:
    # Telegram would take it for a command: it could never reach the bot as an answer.
    result = validate_password(password)
    assert isinstance(result, Invalid)
    assert "no puede empezar con «/»" in shown(result)


def test_a_slash_inside_a_password_is_fine() -> None:
    assert validate_password("Clave/2024") == Valid("Clave/2024")


def test_password_limits() -> None:
    assert (MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH) == (8, 128)


# Distinctive enough that finding one inside a message can only mean it was echoed.
@pytest.mark.parametrize(
    "password",
    ["Zq7", "Xw9#Kp2", "Zq7 Xw9 Kp2", "Qz" * 65, "Kp2 clave Xw9"],
)
def test_password_never_appears_in_messages(password: str) -> None:
    result = validate_password(password)
    if isinstance(result, Valid):
        assert result.value == password
        return
    texts = [result.message, shown(result), *map(str, result.params.values())]
    assert all(password not in text for text in texts)
    assert all(part not in text for part in password.split() for text in texts)
