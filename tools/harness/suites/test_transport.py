"""Transport conformance for reader vendors: the ATR, every APDU case with every short Lc and Le, extended
lengths up to what the reader carries, ``61xx``/``6Cxx`` and command chaining, on any profile.

ISO/IEC 7816-3 §8.2 (ATR), ISO/IEC 7816-4 §5.1 (cases 1–4, short and extended), §5.3.4 (61xx, 6Cxx),
§5.4.1 (chaining); current-card §4.1, §4.2. The expectations come from the profile under test: the applet is
its first plain applet with a retry-counted credential and a free transparent EF of at least 256 bytes
(legacy-2016: the JPKI-AP and ``000A``; nextgen-2026: the 認証AP and ``000A``); the FCI is what the card
answers to ``00 A4 04 00`` with Le ``00``. Nothing here spends a try: case 1 is the counter query.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import pytest

from mynacard.apdu.atr import parse_atr
from mynacard.apdu.readers.base import Reader
from mynacard.emulator.card import Card
from mynacard.profiles.schema import Profile
from mynacard.tools.harness.suites.helpers import OK, apdu, expect, hx, select_aid, select_ef, send

pytestmark = [
    pytest.mark.raw_transport,
    pytest.mark.capability("transport"),
    pytest.mark.clause("ISO/IEC 7816-4 §5.1, §5.3.4, §5.4.1; ISO/IEC 7816-3 §8.2 (transport)"),
]

NOT_FOUND = 0x6A82
UNKNOWN_NAME = 0xEE
"""A DF-name byte no AID of either profile starts with, so every name of it is unknown (``6A 82``)."""
EXTENDED_LE = [1, 255, 256, 257, 1000]
SHORT_APDU = 261


class Target(NamedTuple):
    """What the suite exchanges with: an applet, its counter-checked credential and a long free EF."""

    aid: bytes
    credential_p2: int
    max_tries: int
    fid: int


def _target(profile: Profile) -> Target:
    for applet in profile.applets:
        if applet.default or applet.requires_secure_messaging:
            continue
        counted = [c for c in applet.credentials if c.max_tries is not None]
        free = [f.fid for f in applet.files if f.kind == "transparent" and f.read == "always"]
        if counted and free:
            tries = int(counted[0].max_tries or 0)
            # the certificate EF a JPKI-style applet keeps free (000A), else its first free EF
            fid = 0x000A if 0x000A in free else free[0]
            return Target(applet.aid, 0x80 | counted[0].fid & 0x1F, tries, fid)
    pytest.skip("not applicable: the profile has no plain applet with a counted credential and a free EF")


@pytest.fixture(scope="module")
def target(profile_under_test: Profile) -> Target:
    return _target(profile_under_test)


@pytest.fixture
def ready(shared_reader: Reader, target: Target) -> Reader:
    select_aid(shared_reader, target.aid)
    return shared_reader


@pytest.fixture
def long_ef(ready: Reader, target: Target) -> bytes:
    """The first 256 bytes of the free EF (Le ``00``), the reference every shorter Le is cut from."""
    select_ef(ready, target.fid)
    head = expect(ready, "00 B0 00 00 00", OK).data
    if len(head) < 256:
        pytest.skip(f"not applicable: EF {target.fid:04X} holds {len(head)} bytes, fewer than 256")
    return head


# --- the ATR ----------------------------------------------------------------------------------------------


@pytest.mark.clause("ISO/IEC 7816-3 §8.2 (ATR: TS, T0, interface bytes, historical bytes, TCK)")
def test_the_atr_parses_and_is_the_profile_s(
    reader_for: Callable[[Card], Reader], shared_card: Card, profile_under_test: Profile
) -> None:
    reader = reader_for(shared_card)
    parsed = parse_atr(reader.atr)  # raises on a bad TS, a short ATR or a wrong TCK
    declared = profile_under_test.atr
    assert parsed.ts == declared.ts
    assert [(g.ta, g.tb, g.tc, g.next_protocol) for g in parsed.groups] == [
        (g.ta, g.tb, g.tc, g.next_protocol) for g in declared.interface
    ]
    assert parsed.historical == declared.historical
    assert reader.atr == declared.build()


# --- case 1 -----------------------------------------------------------------------------------------------


@pytest.mark.clause("ISO/IEC 7816-4 §5.1 case 1; §11.5.6 (VERIFY with no data: the counter)")
def test_case_1_is_the_counter_query(ready: Reader, target: Target) -> None:
    expect(ready, bytes((0x00, 0x20, 0x00, target.credential_p2)), 0x63C0 | target.max_tries, b"")


# --- case 2 -----------------------------------------------------------------------------------------------


@pytest.mark.clause("ISO/IEC 7816-4 §5.1 case 2S; current-card §4.2 (Le 1–256)")
def test_case_2_every_short_le_returns_exactly_le_bytes(ready: Reader, long_ef: bytes) -> None:
    for le in range(1, 256):
        expect(ready, bytes((0x00, 0xB0, 0x00, 0x00, le)), OK, long_ef[:le])


@pytest.mark.clause("ISO/IEC 7816-4 §5.1 case 2S at every offset; current-card §4.2 (15-bit offset)")
def test_case_2_offsets_across_the_first_256_bytes(ready: Reader, long_ef: bytes) -> None:
    for offset in range(0, 240, 17):
        expect(ready, bytes((0x00, 0xB0, 0x00, offset, 16)), OK, long_ef[offset : offset + 16])


# --- case 3 -----------------------------------------------------------------------------------------------


@pytest.mark.clause("ISO/IEC 7816-4 §5.1 case 3S; current-card §4.1 (unknown DF name → 6A 82)")
def test_case_3_every_short_lc_reaches_the_card(ready: Reader, target: Target) -> None:
    for lc in range(1, 256):
        expect(ready, apdu("00 A4 04 0C", bytes((UNKNOWN_NAME,)) * lc), NOT_FOUND, b"")
    select_aid(ready, target.aid)  # and the card still selects


# --- case 4 -----------------------------------------------------------------------------------------------


def _fci(reader: Reader, aid: bytes) -> bytes:
    fci = expect(reader, apdu("00 A4 04 00", aid, "00"), OK).data
    assert fci[:1] == b"\x6f" and bytes((0x84, len(aid))) + aid in fci, f"FCI {fci.hex(' ')}"
    return fci


@pytest.mark.clause("ISO/IEC 7816-4 §5.1 case 4S; current-card §2.1 (SELECT with FCI)")
def test_case_4_every_short_lc_reaches_the_card(ready: Reader, target: Target) -> None:
    fci = _fci(ready, target.aid)
    for lc in range(1, 256):
        expect(ready, apdu("00 A4 04 00", bytes((UNKNOWN_NAME,)) * lc, "00"), NOT_FOUND, b"")
    expect(ready, apdu("00 A4 04 00", target.aid, "00"), OK, fci)


@pytest.mark.clause("ISO/IEC 7816-4 §5.1 case 4S, §5.3.4 (Le shorter than the answer: 6C xx)")
def test_case_4_every_short_le(ready: Reader, target: Target, profile_under_test: Profile) -> None:
    fci = _fci(ready, target.aid)
    six_c = profile_under_test.behaviour.le_too_short == "6Cxx"
    for le in range(1, 256):
        command = apdu("00 A4 04 00", target.aid, f"{le:02X}")
        if le >= len(fci):
            expect(ready, command, OK, fci)
        elif six_c:
            expect(ready, command, 0x6C00 | len(fci), b"")
        else:
            expect(ready, command, OK, fci[:le])


# --- 61xx and 6Cxx ------------------------------------------------------------------------------------------


@pytest.mark.clause("ISO/IEC 7816-4 §5.3.4 (61 xx, GET RESPONSE)")
def test_61xx_then_get_response_in_pieces(ready: Reader, target: Target) -> None:
    fci = _fci(ready, target.aid)
    expect(ready, apdu("00 A4 04 00", target.aid), 0x6100 | len(fci), b"")
    expect(ready, bytes((0x00, 0xC0, 0x00, 0x00, 2)), 0x6100 | (len(fci) - 2), fci[:2])
    expect(ready, bytes((0x00, 0xC0, 0x00, 0x00, len(fci) - 2)), OK, fci[2:])
    expect(ready, "00 C0 00 00 00", 0x6985, b"")  # nothing left


@pytest.mark.clause("ISO/IEC 7816-4 §5.3.4 (6C xx: resend with the exact Le)")
def test_6cxx_then_the_resent_command(ready: Reader, target: Target, profile_under_test: Profile) -> None:
    if profile_under_test.behaviour.le_too_short != "6Cxx":
        pytest.skip("not applicable: the profile truncates instead of answering 6C xx")
    fci = _fci(ready, target.aid)
    answer = expect(ready, apdu("00 A4 04 00", target.aid, "01"), 0x6C00 | len(fci), b"")
    expect(ready, apdu("00 A4 04 00", target.aid, f"{answer.sw & 0xFF:02X}"), OK, fci)


# --- extended lengths --------------------------------------------------------------------------------------


@pytest.mark.clause("ISO/IEC 7816-4 §5.1 case 2E; current-card §4.2 (extended Le, JSAPDU and MBE)")
def test_case_2_extended_le_up_to_the_reader_s_limit(
    ready: Reader, target: Target, long_ef: bytes, max_apdu_length: int
) -> None:
    if max_apdu_length <= SHORT_APDU:
        pytest.skip("not applicable: the reader carries short APDUs only (--max-apdu-length)")
    select_ef(ready, target.fid)
    whole = expect(ready, hx("00 B0 00 00 00 00 00"), OK).data  # Le 0000 = 65536: up to the end
    assert whole[:256] == long_ef and len(whole) + 2 <= max_apdu_length
    for ne in [n for n in EXTENDED_LE if n + 2 <= max_apdu_length]:
        expect(ready, hx("00 B0 00 00 00") + ne.to_bytes(2, "big"), OK, whole[:ne])


@pytest.mark.clause("ISO/IEC 7816-4 §5.1 case 3E (extended Lc)")
def test_case_3_extended_lc_up_to_the_reader_s_limit(
    ready: Reader, target: Target, max_apdu_length: int
) -> None:
    if max_apdu_length <= SHORT_APDU:
        pytest.skip("not applicable: the reader carries short APDUs only (--max-apdu-length)")
    longest = max_apdu_length - 7  # 4 header bytes and a 3-byte Lc
    for lc in [n for n in (1, 255, 256, 1000, 4096, longest) if n <= longest]:
        command = hx("00 A4 04 0C 00") + lc.to_bytes(2, "big") + bytes((UNKNOWN_NAME,)) * lc
        expect(ready, command, NOT_FOUND, b"")
    expect(ready, hx("00 A4 04 0C 00") + len(target.aid).to_bytes(2, "big") + target.aid, OK, b"")


# --- chaining ----------------------------------------------------------------------------------------------


@pytest.mark.clause("ISO/IEC 7816-4 §5.4.1 (command chaining, CLA bit 5)")
def test_a_chained_select_is_joined(ready: Reader, target: Target, profile_under_test: Profile) -> None:
    first, last = target.aid[:3], target.aid[3:]
    if not profile_under_test.behaviour.command_chaining:
        expect(ready, apdu("10 A4 04 0C", first), 0x6884, b"")
        return
    expect(ready, apdu("10 A4 04 0C", first), OK, b"")
    expect(ready, apdu("00 A4 04 0C", last), OK, b"")
    assert send(ready, bytes((0x00, 0x20, 0x00, target.credential_p2))).sw == 0x63C0 | target.max_tries
