"""Personas: loading, validation messages, era conversion and derived credentials."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from mynacard.emulator.issuance.personas import (
    Era,
    PersonaError,
    age_on,
    birth_date_cert_form,
    card_expiry_date,
    era_of,
    era_yymmdd,
    list_personas,
    load_persona,
    months_after,
    my_number_check_digit,
    nth_birthday_after,
)

DEFAULT_TOML = (Path(__file__).parent.parent / "profiles" / "personas" / "default.toml").read_text("utf-8")


def write_variant(tmp_path: Path, **replacements: str) -> Path:
    """The default persona file with some `key = value` lines replaced or added."""
    lines, pending = [], dict(replacements)
    for line in DEFAULT_TOML.splitlines():
        key = line.split("=", 1)[0].strip()
        lines.append(f"{key} = {pending.pop(key)}" if key in pending else line)
    lines += [f"{key} = {value}" for key, value in pending.items()]
    path = tmp_path / "variant.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --- eras -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "era", "year"),
    [
        (date(1868, 10, 23), Era.MEIJI, 1),
        (date(1912, 7, 29), Era.MEIJI, 45),
        (date(1912, 7, 30), Era.TAISHO, 1),
        (date(1926, 12, 24), Era.TAISHO, 15),
        (date(1926, 12, 25), Era.SHOWA, 1),
        (date(1989, 1, 7), Era.SHOWA, 64),
        (date(1989, 1, 8), Era.HEISEI, 1),
        (date(2019, 4, 30), Era.HEISEI, 31),
        (date(2019, 5, 1), Era.REIWA, 1),
    ],
)
def test_era_boundaries(day: date, era: Era, year: int) -> None:
    assert era_of(day) == (era, year)


def test_before_meiji_has_no_era() -> None:
    with pytest.raises(ValueError, match="before 明治"):
        era_of(date(1868, 10, 22))


def test_era_forms() -> None:
    assert era_yymmdd(date(1980, 2, 17)) == "550217"
    assert era_yymmdd(date(2019, 5, 1)) == "010501"
    assert birth_date_cert_form(date(1990, 1, 2)) == "419900102"  # spec §6 example
    assert birth_date_cert_form(date(1926, 12, 25)) == "319261225"


# --- dates ------------------------------------------------------------------------------------


def test_age_and_birthdays() -> None:
    assert age_on(date(1980, 2, 17), date(2025, 2, 16)) == 44
    assert age_on(date(1980, 2, 17), date(2025, 2, 17)) == 45
    assert nth_birthday_after(date(1980, 2, 17), date(2025, 3, 1), 10) == date(2035, 2, 17)
    # A birthday on the issue date itself is not "after" it.
    assert nth_birthday_after(date(1980, 2, 17), date(2025, 2, 17), 1) == date(2026, 2, 17)
    assert nth_birthday_after(date(2000, 2, 29), date(2020, 3, 1), 1) == date(2021, 2, 28)


def test_card_expiry_rule() -> None:
    assert card_expiry_date(date(1980, 2, 17), date(2025, 3, 1)) == date(2035, 2, 17)
    assert card_expiry_date(date(2016, 6, 15), date(2025, 4, 1)) == date(2029, 6, 15)
    assert card_expiry_date(date(2006, 1, 1), date(2025, 4, 1), adult_age=20) == date(2030, 1, 1)


# --- 個人番号 ---------------------------------------------------------------------------------


def test_my_number_check_digit() -> None:
    assert my_number_check_digit("12345678901") == 8
    assert my_number_check_digit("00000000000") == 0
    assert my_number_check_digit("99999999999") == 6


# --- loading ------------------------------------------------------------------------------------


def test_shipped_personas() -> None:
    names = list_personas()
    assert {"default", "long-address", "child-under-15", "multi-part-name"} <= set(names)
    for name in names:
        persona = load_persona(name)
        assert persona.id == name
        assert persona.test_persona is True
        assert "TEST" in persona.label


def test_default_reproduces_spec_verification_code_b() -> None:
    persona = load_persona("default")
    assert persona.verification_code_a == persona.my_number == "123456789018"
    assert persona.card_expiry == date(2035, 2, 17)
    assert persona.verification_code_b == "55021720352285"
    assert persona.birth_date_key == "550217"
    assert persona.birth_date_cert_form == "319800217"
    assert persona.sex_cert_form == "1"
    assert persona.signature_certificate


def test_long_address_persona() -> None:
    persona = load_persona("long-address")
    assert 190 <= len(persona.address) <= 200
    assert "１" in persona.address  # full-width block numbers
    assert "1" in persona.address_alt_chars and "1" in persona.name_alt_chars


def test_child_has_no_signature_certificate() -> None:
    persona = load_persona("child-under-15")
    assert persona.age_at_issuance < 15
    assert not persona.signature_certificate
    assert persona.card_expiry == date(2029, 6, 15)  # 5th birthday after issuance


def test_multi_part_given_name() -> None:
    persona = load_persona("multi-part-name")
    assert persona.name.count("\u3000") == 2
    assert persona.family_name == "検証"
    assert persona.given_name == "アンナ\u3000マリア"
    assert persona.birth_date_key == "010108"  # 平成元年


def test_load_by_path(tmp_path: Path) -> None:
    assert load_persona(write_variant(tmp_path)).id == "default"


def test_repr_hides_secrets() -> None:
    persona = load_persona("default")
    assert "123456789018" not in repr(persona)
    assert "1234" not in str(persona)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("my_number", '"123456789017"', "check digit"),
        ("auth_pin", '"12345"', "auth_pin"),
        ("sign_password", '"abc123"', "sign_password"),
        ("sign_password", '"ABCDEFGH"', "at least one letter and one digit"),
        ("name", '"試験 太郎"', "U+3000"),
        ("name_alt_chars", '"0000"', "4 positions for 5 characters"),
        ("test_persona", "false", "test_persona"),
        ("label", '"demo cardholder"', "TEST"),
        ("municipality_code", '"99101"', "prefecture code"),
        ("city", '"港区"', "prefecture + city"),
    ],
)
def test_validation_names_file_and_field(tmp_path: Path, field: str, value: str, message: str) -> None:
    path = write_variant(tmp_path, **{field: value})
    with pytest.raises(PersonaError) as caught:
        load_persona(path)
    text = str(caught.value)
    assert str(path) in text
    assert field in text or message in text
    assert message in text


def test_child_cannot_have_signature_certificate(tmp_path: Path) -> None:
    path = write_variant(tmp_path, birth_date="2016-06-15", has_signature_certificate="true")
    with pytest.raises(PersonaError, match="under 15"):
        load_persona(path)


def test_unknown_persona() -> None:
    with pytest.raises(PersonaError, match="no such persona"):
        load_persona("nobody")


# --- the next card (nextgen-2026) --------------------------------------------------------------------


def test_every_persona_has_the_next_cards_attributes() -> None:
    for name in list_personas():
        persona = load_persona(name)
        assert re.fullmatch("[ァ-ヺー・]+(\u3000[ァ-ヺー・]+)+", persona.furigana), name
        assert re.fullmatch("[A-Z]+( [A-Z]+)+", persona.romanised_name), name
        assert persona.furigana == persona.name_kana and persona.romanised_name == persona.name_roman
        assert re.fullmatch("[0-9]{11}", persona.resident_code), name
        assert re.fullmatch("[0-9]{6}", persona.verification_number_b6), name
        assert persona.resident_code.startswith("9000000000"), name  # the TEST series of the shipped files


def test_default_next_card_attributes() -> None:
    persona = load_persona("default")
    assert persona.furigana == "シケン\u3000タロウ"
    assert persona.romanised_name == "SHIKEN TARO"
    assert persona.resident_code == "90000000001"
    assert persona.verification_number_b6 == "246810"
    assert persona.nextgen_card_expiry == date(2035, 3, 17)  # one month after 2035-02-17


def test_sixteen_year_old_persona() -> None:
    persona = load_persona("minor-16")
    assert persona.age_at_issuance == 16
    assert persona.signature_certificate  # 15 or older
    assert persona.card_expiry == date(2030, 8, 20)  # today's card: 5th birthday after 2025-09-01
    assert persona.nextgen_card_expiry == date(2030, 9, 20)
    assert "TEST" in persona.label


def test_leap_day_persona() -> None:
    persona = load_persona("leap-day")
    assert (persona.birth_date.month, persona.birth_date.day) == (2, 29)
    assert persona.age_at_issuance == 21
    # 2035 is a common year: the 10th birthday after 2025-06-02 is 28 February.
    assert persona.card_expiry == date(2035, 2, 28)
    assert persona.nextgen_card_expiry == date(2035, 3, 28)
    assert nth_birthday_after(persona.birth_date, persona.issue_date, 5) == date(2030, 2, 28)
    assert persona.birth_date_key == "160229"  # 平成16
    assert "TEST" in persona.label


def test_leap_day_birthday_in_leap_and_common_years() -> None:
    born = date(2004, 2, 29)
    assert nth_birthday_after(born, date(2026, 4, 1), 10) == date(2036, 2, 29)  # 2036 is a leap year
    assert nth_birthday_after(born, date(2025, 2, 28), 1) == date(2026, 2, 28)  # not the issue day itself
    assert age_on(born, date(2025, 2, 28)) == 20 and age_on(born, date(2025, 3, 1)) == 21


def test_months_after() -> None:
    assert months_after(date(2035, 2, 17), 1) == date(2035, 3, 17)
    assert months_after(date(2035, 2, 28), 1) == date(2035, 3, 28)
    assert months_after(date(2034, 1, 31), 1) == date(2034, 2, 28)
    assert months_after(date(2036, 1, 31), 1) == date(2036, 2, 29)
    assert months_after(date(2033, 12, 15), 1) == date(2034, 1, 15)
    assert months_after(date(2033, 8, 31), 1) == date(2033, 9, 30)
    assert months_after(date(2033, 8, 31), 0) == date(2033, 8, 31)
    with pytest.raises(ValueError):
        months_after(date(2033, 8, 31), -1)


def test_next_card_expiry_rule() -> None:
    assert card_expiry_date(date(1980, 2, 17), date(2025, 3, 1), months_after_birthday=1) == date(2035, 3, 17)
    assert card_expiry_date(date(2009, 8, 20), date(2025, 9, 1), months_after_birthday=1) == date(2030, 9, 20)
    assert card_expiry_date(date(2004, 2, 29), date(2026, 4, 1), months_after_birthday=1) == date(2036, 3, 29)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name_kana", '"しけん　たろう"', "katakana"),  # hiragana
        ("name_kana", '"ｼｹﾝ　ﾀﾛｳ"', "katakana"),  # half-width
        ("name_kana", '"シケン　タロウ　イチ"', "same number of parts"),
        ("name_roman", '"Shiken Taro"', "passport spelling"),
        ("name_roman", '"SHIKEN-TARO"', "passport spelling"),
        ("name_roman", '"SHIKEN  TARO"', "passport spelling"),
        ("name_roman", '"SHIKEN TARO ICHI"', "same number of parts"),
        ("resident_code", '"9000000001"', "resident_code"),
        ("resident_code", '"9000000000A"', "resident_code"),
        ("verification_number_b6", '"24681"', "verification_number_b6"),
        ("verification_number_b6", '"2468100"', "verification_number_b6"),
    ],
)
def test_next_card_fields_are_validated(tmp_path: Path, field: str, value: str, message: str) -> None:
    path = write_variant(tmp_path, **{field: value})
    with pytest.raises(PersonaError) as caught:
        load_persona(path)
    text = str(caught.value)
    assert str(path) in text and field in text and message in text


@pytest.mark.parametrize("field", ["resident_code", "verification_number_b6"])
def test_next_card_fields_are_required(tmp_path: Path, field: str) -> None:
    text = "\n".join(line for line in DEFAULT_TOML.splitlines() if not line.startswith(f"{field} ="))
    path = tmp_path / "missing.toml"
    path.write_text(text + "\n", encoding="utf-8")
    with pytest.raises(PersonaError, match=field):
        load_persona(path)
