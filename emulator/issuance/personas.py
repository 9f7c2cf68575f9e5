"""Test cardholders (テスト用券面事項): the fictitious people a personalised card is made for.

A persona is loaded from ``profiles/personas/<id>.toml`` and validated on load, so a card is never
personalised from data that no real card could hold (a bad 個人番号 check digit, a 5-digit PIN, a
signature certificate for a child under 15).

Every persona is a TEST persona: the file must say ``test_persona = true`` and carry a label that
says so. Nothing here is, or may be, real personal data.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from datetime import date
from enum import IntEnum
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from mynacard.profiles.validation import describe_validation_error

__all__ = [
    "ADULT_AGE_FOR_TEN_YEAR_CARD",
    "ERAS",
    "NEXTGEN_MONTHS_AFTER_BIRTHDAY",
    "Era",
    "Persona",
    "PersonaError",
    "ResidenceHolder",
    "Sex",
    "age_on",
    "birth_date_cert_form",
    "card_expiry_date",
    "era_of",
    "era_yymmdd",
    "list_personas",
    "load_persona",
    "months_after",
    "my_number_check_digit",
    "nth_birthday_after",
]

IDEOGRAPHIC_SPACE = "\u3000"
"""全角スペース: the separator between family and given name on the card."""

ADULT_AGE_FOR_TEN_YEAR_CARD = 18
"""Age at issuance from which the card is valid until the 10th birthday (5th below it).

ASSUMED for today's card: general knowledge of the rule since the 2022 age-of-majority change (20
before), which municipal pages state ("18歳以上…10回目の誕生日まで"); the next card's spec (nextgen §1)
gives the same 18 for its certificates ("5 if under 18 at issuance"). Pass ``adult_age`` to
:func:`card_expiry_date` to change it.
"""

NEXTGEN_MONTHS_AFTER_BIRTHDAY = 1
"""The next card expires one month after the birthday that ends today's card (nextgen §1, SOURCED:
"1 month after that birthday"), as a driving licence does (道路交通法 第92条の2: "誕生日から起算して
一月を経過する日")."""

SIGNATURE_CERTIFICATE_MIN_AGE = 15
"""署名用電子証明書 is not issued to a holder under 15 at issuance (spec §3.1, EF 0008)."""


# ---------------------------------------------------------------------------------------------
# Japanese eras (和暦)
# ---------------------------------------------------------------------------------------------


class Era(IntEnum):
    """元号, numbered as the certificate attribute 5.5.4 numbers them (``E`` of ``EYYYYMMDD``)."""

    MEIJI = 1
    TAISHO = 2
    SHOWA = 3
    HEISEI = 4
    REIWA = 5


@dataclass(frozen=True)
class _EraStart:
    era: Era
    name: str
    first_day: date


ERAS: tuple[_EraStart, ...] = (
    _EraStart(Era.REIWA, "令和", date(2019, 5, 1)),
    _EraStart(Era.HEISEI, "平成", date(1989, 1, 8)),
    _EraStart(Era.SHOWA, "昭和", date(1926, 12, 25)),
    _EraStart(Era.TAISHO, "大正", date(1912, 7, 30)),
    # 明治 formally began 1868-10-23 (明治元年9月8日, the proclamation); the year is counted from
    # 1868 as a whole, but a date before the proclamation has no 明治 form here.
    _EraStart(Era.MEIJI, "明治", date(1868, 10, 23)),
)
"""Official first days of each era, newest first."""


def era_of(day: date) -> tuple[Era, int]:
    """The era (元号) and era year (和暦の年, 元年 = 1) of a Gregorian date."""
    for start in ERAS:
        if day >= start.first_day:
            return start.era, day.year - start.first_day.year + 1
    raise ValueError(f"{day.isoformat()} is before 明治 (1868-10-23); it has no era form")


def era_yymmdd(day: date) -> str:
    """``YYMMDD`` with the era year, e.g. 1980-02-17 (昭和55) → ``550217`` (生年月日 key)."""
    _era, year = era_of(day)
    if year > 99:
        raise ValueError(f"era year {year} of {day.isoformat()} does not fit in two digits")
    return f"{year:02d}{day.month:02d}{day.day:02d}"


def birth_date_cert_form(day: date) -> str:
    """生年月日 as certificate attribute 5.5.4 writes it: ``EYYYYMMDD`` (E = era number)."""
    era, _year = era_of(day)
    return f"{int(era)}{day:%Y%m%d}"


# ---------------------------------------------------------------------------------------------
# Dates: age, birthdays, card expiry
# ---------------------------------------------------------------------------------------------


def _birthday_in(birth: date, year: int) -> date:
    """The birthday in ``year``; a 29 February birthday falls on **28 February** in common years.

    Why 28 February: 年齢計算ニ関スル法律 counts age from the day of birth and applies 民法 第143条, whose
    proviso ends a period that has no corresponding day in its last month on that month's last day; so a
    holder born on 29 February completes each year of age at the end of 28 February, in every year
    (参議院法制局, 「うるう年をめぐる法令」). The law fixes when the age changes, not a calendar birthday;
    for dates that run *to* a birthday, 道路交通法 第92条の2 (備考五) says outright that a 29 February
    birthday is 28 February in a common year, and the next card's expiry has the licence's form
    (birthday + one month). Today's card model has always used 28 February (``tests/test_persona.py``);
    no source says what J-LIS prints on a real card for such a holder (UNKNOWN).
    """
    try:
        return birth.replace(year=year)
    except ValueError:
        return date(year, 2, 28)


def age_on(birth: date, on: date) -> int:
    """Completed years of age on ``on`` (満年齢).

    Agrees with 年齢計算ニ関スル法律: a year of age ends at the end of the day before the birthday, so the
    new age holds from the birthday on; a holder born on 29 February is one year older from 1 March in a
    common year (the year ended with 28 February).
    """
    had_birthday = (on.month, on.day) >= (birth.month, birth.day)
    return on.year - birth.year - (0 if had_birthday else 1)


def nth_birthday_after(birth: date, after: date, n: int) -> date:
    """The ``n``-th birthday strictly after ``after`` (``n`` ≥ 1)."""
    first = _birthday_in(birth, after.year)
    if first <= after:
        first = _birthday_in(birth, after.year + 1)
    return _birthday_in(birth, first.year + n - 1)


def months_after(day: date, months: int) -> date:
    """The day ``months`` calendar months after ``day``: the same day of the month, or that month's last
    day when it has none (31 January + 1 month = 28/29 February).

    This is 民法 第140条/第143条 for a period of months that starts the day after ``day`` (初日不算入): it
    ends on the day before the corresponding day of the last month, i.e. on ``day``'s day of the month,
    and on the month's last day when that day does not exist (第143条第2項ただし書). ``months = 0`` is
    ``day`` itself.
    """
    if months < 0:
        raise ValueError("months must not be negative")
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, _days_in_month(year, month)))


def _days_in_month(year: int, month: int) -> int:
    following = date(year + month // 12, month % 12 + 1, 1)
    return (following - date(year, month, 1)).days


def card_expiry_date(
    birth: date,
    issued: date,
    *,
    adult_age: int = ADULT_AGE_FOR_TEN_YEAR_CARD,
    adult_years: int = 10,
    minor_years: int = 5,
    months_after_birthday: int = 0,
) -> date:
    """有効期限 of the card: the 10th birthday after issuance, or the 5th below ``adult_age``, then
    ``months_after_birthday`` months later (0 for today's card; the next card's
    :data:`NEXTGEN_MONTHS_AFTER_BIRTHDAY`)."""
    years = adult_years if age_on(birth, issued) >= adult_age else minor_years
    return months_after(nth_birthday_after(birth, issued, years), months_after_birthday)


# ---------------------------------------------------------------------------------------------
# 個人番号 check digit
# ---------------------------------------------------------------------------------------------


def my_number_check_digit(first_eleven: str) -> int:
    """検査用数字 of a 個人番号 (総務省令第85号 第5条).

    With Pn the n-th digit counted from the right of the first 11 digits and Qn = n + 1 for
    n ≤ 6, n − 5 for n ≥ 7: r = Σ Pn·Qn mod 11; the check digit is 0 when r ≤ 1, else 11 − r.
    """
    if len(first_eleven) != 11 or not first_eleven.isascii() or not first_eleven.isdigit():
        raise ValueError("expected the first 11 digits of a 個人番号")
    digits = [int(c) for c in reversed(first_eleven)]
    total = sum(p * (n + 1 if n <= 6 else n - 5) for n, p in enumerate(digits, start=1))
    remainder = total % 11
    return 0 if remainder <= 1 else 11 - remainder


# ---------------------------------------------------------------------------------------------
# The persona model
# ---------------------------------------------------------------------------------------------


class Sex(IntEnum):
    """性別 as JIS X 0303 codes it (the 券面 APs store this digit)."""

    UNKNOWN = 0
    MALE = 1
    FEMALE = 2
    NOT_APPLICABLE = 9


_CERT_SEX = {Sex.MALE: "1", Sex.FEMALE: "2", Sex.UNKNOWN: "3", Sex.NOT_APPLICABLE: "3"}
"""Certificate attribute 5.5.3 uses 1 male, 2 female, 3 unknown (spec §6)."""

_SIGN_PASSWORD = re.compile(r"(?=.*[A-Z])(?=.*[0-9])[A-Z0-9]{6,16}")
_KATAKANA = re.compile("[\u30a1-\u30fa\u30fb\u30fc]+")
"""Full-width katakana (ァ–ヺ), the middle dot ・ and the long-vowel mark ー: one part of フリガナ."""
_PASSPORT_NAME = re.compile(r"[A-Z]+(?: [A-Z]+)+")
"""旅券 (passport) spelling: A–Z only, family name first, the parts separated by one ASCII space."""

Digits4 = Annotated[str, Field(pattern=r"^[0-9]{4}$")]


class PersonaError(ValueError):
    """A persona file is missing, unreadable or invalid; the message names file and field."""


class ResidenceHolder(BaseModel):
    """What a TEST holder's 在留カード / 特別永住者証明書 carries (residence-card.md §3.2, §3.3): the
    persona's ``[residence]`` table. Codes are TEST values; the nationality is ICAO's fictitious test
    state ``UTO``."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=False)

    kind: Literal["residence_card", "special_permanent_resident"] = Field(
        description="在留カード (card type '1' / \"05\") or 特別永住者証明書 ('2' / \"06\")"
    )
    card_number: str = Field(
        pattern=r"^[A-Z]{2}[0-9]{8}[A-Z]{2}$", description="在留カード等番号, the authentication's secret"
    )
    nationality: str = Field(default="UTO", pattern=r"^[A-Z]{3}$", description="国籍・地域 (alpha-3)")
    card_expiry: date = Field(description="カードの有効期間満了日 (C5)")
    status_of_residence: str = Field(
        default="0000000000", pattern=r"^[0-9A-Z]{10}$", description="在留資格 code (C9), TEST"
    )
    period_of_stay: str = Field(
        default="0000", pattern=r"^[0-9]{4}$", description="在留期間 (CE), 0000 = 無期限"
    )
    stay_expiry: date | None = Field(default=None, description="在留期間の満了日 (CD); None: indefinite")
    permission_type: str = Field(default="00", pattern=r"^[0-9]{2}$", description="許可の種類 (CA)")
    permission_date: date = Field(description="許可年月日 (CB)")
    work_restriction: Literal["1", "2", "4", "9"] = Field(default="1", description="就労制限の有無 (CC)")
    activity_permission: Literal["0", "1", "2"] = Field(default="0", description="資格外活動許可 (D5)")
    activity_permission_expiry: date | None = Field(default=None, description="包括許可の期限 (D6)")
    activity_permission_text: str = Field(default="", description="gen1 裏面資格外活動包括許可欄 (D5)")
    individual_permission_text: str = Field(default="", description="gen1 裏面資格外活動個別許可欄 (D6)")
    renewal_pending: bool = Field(
        default=False, description="在留期間更新等許可申請 申請中 (gen1 D7, gen2 D8)"
    )
    commissioner_note: bool = Field(default=False, description="出入国在留管理庁長官記載 (D9)")
    address_date: date = Field(description="住居地の届出日 (gen1 D2)")
    municipality_code: str = Field(pattern=r"^[0-9]{6}$", description="市区町村コード with check digit (D3)")
    has_photo: bool = Field(default=True, description="顔画像: none for holders under 16 (§3.3.5)")

    @property
    def special_permanent_resident(self) -> bool:
        return self.kind == "special_permanent_resident"


class Persona(BaseModel):
    """A fictitious TEST cardholder (テスト用の架空の券面事項) and the secrets of their card."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=False)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    test_persona: Literal[True] = Field(description="mandatory marker: this is not a real person")
    label: str = Field(description="human-readable, must say this is a fictitious TEST cardholder")

    name: str = Field(min_length=3, description="氏名, family and given name separated by U+3000")
    name_kana: str = Field(description="氏名のフリガナ (full-width katakana, parts as in 氏名): furigana")
    name_roman: str = Field(description="ローマ字氏名 (passport Hepburn, ``FAMILY GIVEN``): romanised_name")
    name_alt_chars: str = Field(pattern=r"^[01]+$", description="氏名代替文字の使用位置情報")
    address: str = Field(min_length=1, max_length=200, description="住所 (≤ 200 characters)")
    address_alt_chars: str = Field(pattern=r"^[01]+$", description="住所代替文字の使用位置情報")
    prefecture: str = Field(pattern=r"^.+[都道府県]$", description="都道府県, the start of 住所")
    city: str = Field(min_length=1, description="市区町村, follows the prefecture in 住所")
    birth_date: date = Field(description="生年月日")
    sex: Sex = Field(description="性別, JIS X 0303 code")

    my_number: str = Field(pattern=r"^[0-9]{12}$", description="個人番号 (also 照合番号A)")
    auth_pin: Digits4 = Field(description="利用者証明用電子証明書 暗証番号")
    sign_password: str = Field(description="署名用電子証明書 暗証番号: 6-16 of [A-Z0-9]")
    text_pin: Digits4 = Field(description="券面事項入力補助用 暗証番号")
    juki_pin: Digits4 = Field(description="住民基本台帳用 暗証番号")
    common_pin: Digits4 = Field(description="共通カードAP 暗証番号 (本人確認業務用)")
    security_code: Digits4 = Field(description="セキュリティコード printed on the card")
    # 住民票コード ends in a check digit in law (住民基本台帳法施行規則); no source at hand gives its formula,
    # so only the form is checked. Personas carry TEST values only.
    resident_code: str = Field(
        pattern=r"^[0-9]{11}$", description="住民票コード (11 digits; the next card's 認証AP EF 0007)"
    )
    verification_number_b6: str = Field(
        pattern=r"^[0-9]{6}$", description="照合番号B of the next card: 6 digits printed on it (nextgen §1)"
    )

    issue_date: date = Field(description="カード発行日")
    expiry_date: date | None = Field(default=None, description="有効期限; None = the statutory rule")
    municipality_code: str = Field(pattern=r"^[0-9]{5}$", description="全国地方公共団体コード")
    card_serial: str = Field(pattern=r"^[0-9]{15}$", description="カード製造番号 (共通AP)")
    photo_seed: int = Field(ge=0, description="seed of the synthetic 顔写真")
    has_signature_certificate: bool | None = Field(
        default=None, description="署名用電子証明書 issued; None = from age at issuance (≥ 15)"
    )
    residence: ResidenceHolder | None = Field(
        default=None, description="在留カード等: the residence card this holder has, if any"
    )

    @field_validator("label")
    @classmethod
    def _label_says_test(cls, value: str) -> str:
        if "TEST" not in value.upper():
            raise ValueError("must state that this is a fictitious TEST cardholder (contain 'TEST')")
        return value

    @field_validator("name", "name_kana")
    @classmethod
    def _has_family_given_split(cls, value: str) -> str:
        parts = value.split(IDEOGRAPHIC_SPACE)
        if len(parts) < 2 or any(not part for part in parts):
            raise ValueError("family and given name must be separated by one U+3000 (全角スペース)")
        if " " in value:
            raise ValueError("use U+3000 (全角スペース), not an ASCII space")
        return value

    @field_validator("name_kana")
    @classmethod
    def _furigana_is_katakana(cls, value: str) -> str:
        if not all(_KATAKANA.fullmatch(part) for part in value.split(IDEOGRAPHIC_SPACE)):
            raise ValueError("must be full-width katakana (ァ-ヺ, ー, ・), parts separated by U+3000")
        return value

    @field_validator("name_roman")
    @classmethod
    def _passport_spelling(cls, value: str) -> str:
        if not _PASSPORT_NAME.fullmatch(value):
            raise ValueError("ローマ字氏名 is passport spelling: A-Z, 'FAMILY GIVEN' separated by one space")
        return value

    @field_validator("my_number")
    @classmethod
    def _my_number_check_digit(cls, value: str) -> str:
        expected = my_number_check_digit(value[:11])
        if int(value[11]) != expected:
            raise ValueError(f"check digit is {value[11]}, the 個人番号 algorithm gives {expected}")
        return value

    @field_validator("sign_password")
    @classmethod
    def _sign_password_format(cls, value: str) -> str:
        if not _SIGN_PASSWORD.fullmatch(value):
            raise ValueError("must be 6-16 characters of [A-Z0-9] with at least one letter and one digit")
        return value

    @field_validator("municipality_code")
    @classmethod
    def _prefecture_part(cls, value: str) -> str:
        if not 1 <= int(value[:2]) <= 47:
            raise ValueError("the first two digits are a prefecture code, 01-47")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Persona:
        self._check_alt_chars()
        self._check_name_parts()
        if not self.address.startswith(self.prefecture + self.city):
            raise ValueError("address must start with prefecture + city (they form the sign-cert subject)")
        if self.issue_date < self.birth_date:
            raise ValueError("issue_date is before birth_date")
        era_of(self.birth_date)  # 照合番号B and the birth key need an era form
        if self.expiry_date is not None and self.expiry_date <= self.issue_date:
            raise ValueError("expiry_date must be after issue_date")
        if self.has_signature_certificate and self.age_at_issuance < SIGNATURE_CERTIFICATE_MIN_AGE:
            raise ValueError("has_signature_certificate: holders under 15 at issuance get none")
        return self

    def _check_name_parts(self) -> None:
        kana_parts = len(self.name_kana.split(IDEOGRAPHIC_SPACE))
        roman_parts = len(self.name_roman.split(" "))
        if not len(self.name.split(IDEOGRAPHIC_SPACE)) == kana_parts == roman_parts:
            raise ValueError("name, name_kana and name_roman must have the same number of parts")

    def _check_alt_chars(self) -> None:
        for field, text in (("name_alt_chars", self.name), ("address_alt_chars", self.address)):
            positions = getattr(self, field)
            if len(positions) != len(text):
                raise ValueError(f"{field}: {len(positions)} positions for {len(text)} characters")

    # -- derived values -------------------------------------------------------------------

    @property
    def family_name(self) -> str:
        """氏 (the part before the first U+3000)."""
        return self.name.split(IDEOGRAPHIC_SPACE, 1)[0]

    @property
    def given_name(self) -> str:
        """名 (everything after the first U+3000; may itself contain U+3000)."""
        return self.name.split(IDEOGRAPHIC_SPACE, 1)[1]

    @property
    def sex_cert_form(self) -> str:
        """性別 as certificate attribute 5.5.3: ``1``, ``2`` or ``3`` (unknown)."""
        return _CERT_SEX[self.sex]

    @property
    def furigana(self) -> str:
        """フリガナ of 氏名 (the ``name_kana`` field): full-width katakana, parts separated by U+3000."""
        return self.name_kana

    @property
    def romanised_name(self) -> str:
        """ローマ字氏名 (the ``name_roman`` field): ASCII passport (Hepburn) spelling, ``FAMILY GIVEN``."""
        return self.name_roman

    @property
    def card_expiry(self) -> date:
        """有効期限 of today's card: explicit, or by :func:`card_expiry_date`."""
        return self.expiry_date or card_expiry_date(self.birth_date, self.issue_date)

    @property
    def nextgen_card_expiry(self) -> date:
        """有効期限 of the next card: explicit, or one month after today's rule (nextgen §1)."""
        return self.expiry_date or card_expiry_date(
            self.birth_date, self.issue_date, months_after_birthday=NEXTGEN_MONTHS_AFTER_BIRTHDAY
        )

    @property
    def age_at_issuance(self) -> int:
        """満年齢 on the issue date."""
        return age_on(self.birth_date, self.issue_date)

    @property
    def signature_certificate(self) -> bool:
        """Whether the card carries a 署名用電子証明書."""
        if self.has_signature_certificate is not None:
            return self.has_signature_certificate
        return self.age_at_issuance >= SIGNATURE_CERTIFICATE_MIN_AGE

    @property
    def residence_card_number(self) -> str | None:
        """在留カード等番号 (the residence card's credential), None without a residence card."""
        return self.residence.card_number if self.residence is not None else None

    @property
    def verification_code_a(self) -> str:
        """照合番号A: the 12-digit 個人番号."""
        return self.my_number

    @property
    def birth_date_key(self) -> str:
        """生年月日 key of 券面事項確認AP EF 0011: era ``YYMMDD``."""
        return era_yymmdd(self.birth_date)

    @property
    def verification_code_b(self) -> str:
        """照合番号B: era ``YYMMDD`` of birth + expiry year ``YYYY`` + security code (14 digits)."""
        return f"{self.birth_date_key}{self.card_expiry.year:04d}{self.security_code}"

    @property
    def birth_date_cert_form(self) -> str:
        """生年月日 as certificate attribute 5.5.4, ``EYYYYMMDD``."""
        return birth_date_cert_form(self.birth_date)

    def age_at(self, on: date) -> int:
        """満年齢 on a given date."""
        return age_on(self.birth_date, on)

    def __repr__(self) -> str:
        # Secrets stay out of logs even for test personas (architecture rule 6).
        return f"Persona(id={self.id!r}, TEST)"

    __str__ = __repr__


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


def _personas_dir() -> Traversable:
    return resources.files("mynacard.profiles").joinpath("personas")


def list_personas() -> list[str]:
    """Ids of the personas shipped in ``profiles/personas/``."""
    return sorted(
        entry.name.removesuffix(".toml")
        for entry in _personas_dir().iterdir()
        if entry.name.endswith(".toml")
    )


def _read(name_or_path: str | Path) -> tuple[str, bytes]:
    text = str(name_or_path)
    if isinstance(name_or_path, Path) or text.endswith(".toml") or "/" in text:
        path = Path(name_or_path)
        try:
            return str(path), path.read_bytes()
        except OSError as error:
            raise PersonaError(f"{path}: cannot read persona file ({error.strerror})") from error
    entry = _personas_dir().joinpath(f"{text}.toml")
    if not entry.is_file():
        raise PersonaError(f"personas/{text}.toml: no such persona; known: {', '.join(list_personas())}")
    return f"personas/{text}.toml", entry.read_bytes()


def load_persona(name_or_path: str | Path) -> Persona:
    """Load and validate a persona by id (``"default"``) or by path to a TOML file."""
    source, raw = _read(name_or_path)
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise PersonaError(f"{source}: not valid UTF-8 TOML: {error}") from error
    try:
        return Persona.model_validate(data)
    except ValidationError as error:
        raise PersonaError(describe_validation_error(source, "persona", error)) from error
