"""The ATR built from profile fields, with a computed TCK (ISO/IEC 7816-3 §8.2; spec §1.1)."""

from __future__ import annotations

from functools import reduce

import pytest

from mynacard.apdu.atr import InterfaceGroup, build_atr, checksum
from mynacard.apdu.readers.virtual import VirtualReader
from mynacard.emulator.card import Card
from mynacard.emulator.issuance.profiles import load_profile

# OpenSC's only JPKI ATR-table entry; matched by exact hex and length (spec §1.1).
JPKI_ATR = bytes.fromhex("3B E0 00 FF 81 31 FE 45 14")


def test_legacy_profile_builds_the_opensc_atr_byte_for_byte() -> None:
    assert load_profile("legacy-2016").atr.build() == JPKI_ATR


def test_legacy_card_answers_reset_with_that_atr(card: Card) -> None:
    assert card.atr == JPKI_ATR
    assert card.power_on() == JPKI_ATR
    assert card.reset() == JPKI_ATR
    reader = VirtualReader(card)
    assert reader.power_on() == JPKI_ATR
    assert reader.atr == JPKI_ATR
    assert reader.reset() == JPKI_ATR


def test_tck_is_the_xor_of_t0_to_the_last_byte_before_it() -> None:
    assert checksum(JPKI_ATR[1:-1]) == 0x14
    assert reduce(lambda a, b: a ^ b, JPKI_ATR[1:]) == 0  # with TCK the XOR over T0..TCK is zero
    assert checksum(b"") == 0


def test_decoded_legacy_atr_fields() -> None:
    groups = [
        InterfaceGroup(tb=0x00, tc=0xFF, next_protocol=1),
        InterfaceGroup(next_protocol=1),
        InterfaceGroup(ta=0xFE, tb=0x45),
    ]
    atr = build_atr(groups)
    assert atr[0] == 0x3B  # TS: direct convention
    assert atr[1] == 0xE0  # T0: TB1 TC1 TD1 present, K = 0 historical bytes
    assert atr[4] == 0x81  # TD1: TD2 follows, T=1
    assert atr[5] == 0x31  # TD2: TA3 TB3 follow, T=1
    assert atr == JPKI_ATR


def test_historical_bytes_are_counted_in_t0_and_covered_by_tck() -> None:
    historical = bytes.fromhex("80 73 C6 01 00")
    atr = build_atr([InterfaceGroup(tc=0xFF, next_protocol=1), InterfaceGroup(ta=0xFE)], historical)
    assert atr[1] & 0x0F == len(historical)
    assert atr[-1 - len(historical) : -1] == historical
    assert reduce(lambda a, b: a ^ b, atr[1:]) == 0


def test_atr_without_interface_bytes() -> None:
    assert build_atr([], b"") == bytes.fromhex("3B 00")
    assert build_atr([], b"\x01\x02") == bytes.fromhex("3B 02 01 02")


def test_t0_only_atr_has_no_tck() -> None:
    assert build_atr([InterfaceGroup(ta=0x11)], b"\x01\x02") == bytes.fromhex("3B 12 11 01 02")
    assert build_atr([InterfaceGroup(ta=0x11, next_protocol=0), InterfaceGroup(tc=0x05)]) == bytes.fromhex(
        "3B 90 11 40 05"
    )


def test_inverse_convention_ts() -> None:
    assert build_atr([InterfaceGroup(tc=0xFF)], ts=0x3F) == bytes.fromhex("3F 40 FF")


def test_more_than_15_historical_bytes_is_refused() -> None:
    with pytest.raises(ValueError, match="15 historical bytes"):
        build_atr([], bytes(16))


@pytest.mark.parametrize(
    "groups",
    [
        [InterfaceGroup(ta=0x11, next_protocol=1)],  # announces a group that is not there
        [InterfaceGroup(ta=0x11), InterfaceGroup(tb=0x00)],  # a group follows without TD
    ],
)
def test_interface_groups_must_chain_through_td(groups: list[InterfaceGroup]) -> None:
    with pytest.raises(ValueError, match="interface group"):
        build_atr(groups)
