"""Variants of today's card (issue 12 item 1): each loads, overrides only what it says, answers its ATR."""

from __future__ import annotations

from typing import Any

import pytest

from mynacard.emulator.issuance.personas import load_persona
from mynacard.emulator.issuance.records.legacy import text_attributes
from mynacard.profiles.schema import Profile, parse_profile, profile_text

ATRS = {
    # Debian pcsc-tools smartcard_list.txt and current-card.md §1.1 (OpenSC PR #3744)
    "legacy-2016": "3B E0 00 FF 81 31 FE 45 14",
    "legacy-2016-atr-da": "3B DA 13 FF 81 31 FB 46 80 12 39 2F 31 C1 73 C6 01 C0 3B",
    "legacy-2016-atr-c5": "3B C5 FF 81 31 FB 45 80 73 C6 01 00 00",
    "legacy-2016-atr-f5": "3B F5 91 00 FF 91 81 71 FE 40 00 42 00 01 00 D1 D6",
    # current-card.md §1.1 (OpenSC PR #3744): contactless, built by the reader from ATQB (Type B)
    "legacy-2016-contactless": "3B 88 80 01 00 00 05 E0 B3 81 A1 00 7F",
}


def load_profile(name: str) -> Profile:
    return parse_profile(*profile_text(name))


VARIANTS = [*ATRS, "legacy-2016-long-length", "legacy-2016-reselect-keeps"]


def _dump(name: str) -> dict[str, Any]:
    data: dict[str, Any] = load_profile(name).model_dump()
    data.pop("profile", None)
    return data


@pytest.mark.parametrize("name", list(ATRS))
def test_atr_is_the_source_bytes(name: str) -> None:
    assert load_profile(name).atr.build() == bytes.fromhex(ATRS[name])


@pytest.mark.parametrize("name", VARIANTS[1:])
def test_variant_overrides_only_what_it_declares(name: str) -> None:
    base, variant = _dump("legacy-2016"), _dump(name)
    changed = {key for key in base if base[key] != variant[key]}
    expected = {"atr"} if name in ATRS else {"personalisation"} if "length" in name else {"applets"}
    if name == "legacy-2016-contactless":
        expected = {"atr", "data_objects"}  # 5F51 stays the contact ATR
    assert changed == expected


def test_reselect_keeps_only_changes_select_clears_security() -> None:
    base, variant = load_profile("legacy-2016"), load_profile("legacy-2016-reselect-keeps")
    for old, new in zip(base.applets, variant.applets, strict=True):
        assert old.model_dump() | {"select_clears_security": False} == new.model_dump() | {
            "select_clears_security": False
        }
        if old.id in ("jpki", "text", "visual"):
            assert old.select_clears_security and not new.select_clears_security


def test_the_contactless_card_still_names_its_contact_atr_in_5f51() -> None:
    contactless, contact = load_profile("legacy-2016-contactless"), load_profile("legacy-2016")
    objects = {o.tag: o for o in contactless.data_objects}
    assert objects[b"\x5f\x51"].content.hex == contact.atr.build()[1:]
    assert contactless.atr.build()[1:] != contact.atr.build()[1:]


def test_ef_0002_both_forms() -> None:
    persona = load_persona("default")
    short = text_attributes(persona, load_profile("legacy-2016").personalisation.attributes_length_form)
    long = text_attributes(
        persona, load_profile("legacy-2016-long-length").personalisation.attributes_length_form
    )
    assert short[:2] == long[:2] == b"\xff\x20"
    assert long[2] == 0x82 and int.from_bytes(long[3:5], "big") == len(long) - 5
    assert short[2] == len(short) - 3 < 0x80  # FF 20 LL (the DF 21 offsets follow the header's length)
