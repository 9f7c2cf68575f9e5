"""The host-side ATR reader (ISO/IEC 7816-3 §8.2) that the transport suite and the shell use."""

from __future__ import annotations

import pytest

from mynacard.apdu.atr import AtrError, InterfaceGroup, build_atr, parse_atr
from mynacard.emulator.issuance.profiles import load_profile


def test_today_s_atr_reads_as_t1_with_its_interface_bytes() -> None:
    parsed = parse_atr(bytes.fromhex("3B E0 00 FF 81 31 FE 45 14"))
    assert parsed.groups == (
        InterfaceGroup(None, 0x00, 0xFF, 1),
        InterfaceGroup(None, None, None, 1),
        InterfaceGroup(0xFE, 0x45, None, None),
    )
    assert (parsed.ts, parsed.historical, parsed.tck, parsed.protocols) == (0x3B, b"", 0x14, (1,))


def test_a_t0_only_atr_has_no_tck() -> None:
    parsed = parse_atr(bytes.fromhex("3B 02 14 50"))
    assert (parsed.historical, parsed.tck, parsed.protocols) == (b"\x14\x50", None, (0,))


SHIPPED = ["legacy-2016", "legacy-2016-atr-da", "legacy-2016-atr-c5", "legacy-2016-atr-f5", "nextgen-2026"]
SHIPPED += ["legacy-2016-contactless"]


@pytest.mark.parametrize("profile", SHIPPED)
def test_every_shipped_atr_reads_back_as_its_profile_declares(profile: str) -> None:
    declared = load_profile(profile).atr
    parsed = parse_atr(declared.build())
    assert [(g.ta, g.tb, g.tc, g.next_protocol) for g in parsed.groups] == [
        (g.ta, g.tb, g.tc, g.next_protocol) for g in declared.interface
    ]
    assert parsed.historical == declared.historical


@pytest.mark.parametrize(
    ("atr", "problem"),
    [
        ("", "TS must be 3B or 3F"),
        ("3C 00", "TS must be 3B or 3F"),
        ("3B E0 00 FF 81 31 FE 45", "TCK missing"),
        ("3B E0 00 FF 81 31 FE 45 15", "TCK 15 is wrong"),
        ("3B E0 00 FF 81 31", "the ATR ends at byte 6"),
        ("3B 03 14 50", "T0 announces 3 historical bytes, 2 follow"),
        ("3B 02 14 50 00", "1 bytes after the ATR's end"),
    ],
)
def test_a_broken_atr_is_refused_with_the_reason(atr: str, problem: str) -> None:
    with pytest.raises(AtrError, match=problem):
        parse_atr(bytes.fromhex(atr))


def test_parse_inverts_build() -> None:
    groups = [InterfaceGroup(0x96, None, None, 0), InterfaceGroup(None, None, 0x0A, 1), InterfaceGroup(0x20)]
    atr = build_atr(groups, b"\x80\x31")
    assert parse_atr(atr).groups == tuple(groups)
