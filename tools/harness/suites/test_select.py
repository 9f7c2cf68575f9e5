"""SELECT (``00 A4``) through any shared_reader: DF names, prefixes, next occurrence, EFs, the absent MF.

Spec current-card §1.2, §2.1, §4.1, §7.1; issue 2 item 3.
"""

from __future__ import annotations

import pytest

from mynacard.apdu.readers.base import Reader
from mynacard.tools.harness.suites.helpers import (
    COMMON_AID,
    ISD_AID,
    JPKI_AID,
    JUKI_AID,
    OK,
    TEXT_AID,
    VISUAL_AID,
    apdu,
    expect,
    hx,
    select_ef,
    select_jpki,
    send,
)

pytestmark = [
    pytest.mark.applies_to("legacy-2016"),
    pytest.mark.capability("selection"),
    pytest.mark.clause("current-card §1.2, §2.1, §4.1, §7.1 (SELECT)"),
]

ALL_APS = [JPKI_AID, TEXT_AID, VISUAL_AID, JUKI_AID, COMMON_AID]


def fci(aid: bytes) -> bytes:
    """``6F { 84 DF-name }``: the FCI content is ASSUMED minimal (spec §2.1: real content UNKNOWN)."""
    return bytes((0x6F, len(aid) + 2, 0x84, len(aid))) + aid


def test_select_jpki_by_df_name_without_fci(shared_reader: Reader) -> None:
    # the form every client sends: case 3, P2 = 0C, no Le → 90 00 with no data
    expect(shared_reader, "00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01", OK, b"")


@pytest.mark.parametrize("aid", ALL_APS, ids=lambda a: a.hex())
def test_every_application_is_selectable_by_its_full_df_name(shared_reader: Reader, aid: bytes) -> None:
    expect(shared_reader, apdu("00 A4 04 0C", aid), OK, b"")


def test_select_with_fci(shared_reader: Reader) -> None:
    response = expect(shared_reader, "00 A4 04 00 0A D3 92 F0 00 26 01 00 00 00 01 00", OK)
    assert response.data == hx("6F 0C 84 0A D3 92 F0 00 26 01 00 00 00 01")


@pytest.mark.parametrize("aid", ALL_APS, ids=lambda a: a.hex())
def test_fci_names_the_selected_application(shared_reader: Reader, aid: bytes) -> None:
    expect(shared_reader, apdu("00 A4 04 00", aid, "00"), OK, fci(aid))


def test_select_by_a_prefix_of_the_df_name(shared_reader: Reader) -> None:
    expect(shared_reader, "00 A4 04 00 05 D3 92 F0 00 26 00", OK, fci(JPKI_AID))
    # the selected AP is really the JPKI-AP: its EF 000A is there
    select_ef(shared_reader, 0x000A)


def test_next_occurrence_walks_every_match_of_a_prefix_once(shared_reader: Reader) -> None:
    prefix = hx("D3 92 10 00 31 00 01 01 04")  # text, visual and 住基 APs share it
    first = expect(shared_reader, apdu("00 A4 04 00", prefix, "00"), OK)
    seen = [first.data]
    for _ in range(2):
        seen.append(expect(shared_reader, apdu("00 A4 04 02", prefix, "00"), OK).data)
    assert sorted(seen) == sorted(fci(a) for a in (TEXT_AID, VISUAL_AID, JUKI_AID))
    expect(shared_reader, apdu("00 A4 04 02", prefix, "00"), 0x6A82, b"")


def test_next_occurrence_with_p2_0e_gives_no_data(shared_reader: Reader) -> None:
    prefix = hx("D3 92 10 00 31 00 01 01 04")
    expect(shared_reader, apdu("00 A4 04 0C", prefix), OK, b"")
    expect(shared_reader, apdu("00 A4 04 0E", prefix), OK, b"")


@pytest.mark.parametrize(
    "aid",
    [
        "D3 92 F0 00 26 01 00 00 00 02",  # one byte off the JPKI-AP
        "D3 92 F0 00 26 01 00 00 00 01 00",  # longer than any DF name
        "A0 00 00 00 03 10 10",  # a payment application
        # the probes OpenSC's drivers send before jpki's (spec §7.1): each must be refused
        "62 76 01 FF 00 00 00",
        "A0 00 00 00 01 01",
        "E8 2B 06 01 04 01 81 C3 1F 02 01",
        "D2 33 00 00 00 45 73 74 45 49 44 20 76 33 35",
        "A0 00 00 03 08 00 00 10 00 01 00",
        "A0 00 00 00 79 01 00",
        "F2 76 A2 88 BC FB A6 9D 34 F3 10 01",
        "A0 00 00 03 97 42 54 46 59",
        "D2 76 00 01 24 01",
    ],
)
def test_unknown_df_name_is_6a82(shared_reader: Reader, aid: str) -> None:
    expect(shared_reader, apdu("00 A4 04 0C", hx(aid)), 0x6A82, b"")
    expect(shared_reader, apdu("00 A4 04 00", hx(aid), "00"), 0x6A82, b"")


def test_a_failed_select_keeps_the_current_application(shared_reader: Reader) -> None:
    select_jpki(shared_reader)
    expect(shared_reader, "00 A4 04 0C 06 A0 00 00 00 01 01", 0x6A82)
    select_ef(shared_reader, 0x000A)  # still in the JPKI-AP
    expect(shared_reader, "00 B0 00 00 02", OK, hx("30 82"))


def test_ef_by_fid_before_any_application_is_6a82(shared_reader: Reader) -> None:
    for fid in ("00 18", "00 0A", "00 01", "00 1B"):
        expect(shared_reader, f"00 A4 02 0C 02 {fid}", 0x6A82, b"")


def test_fid_sweep_after_power_on_finds_only_001e(shared_reader: Reader) -> None:
    # spec §1.2: selecting 0001–001E after a cold reset finds nothing but the internal EF 001E,
    # which is selectable and answers READ BINARY and READ RECORD with 69 81
    for fid in range(0x0001, 0x001E):
        expect(shared_reader, apdu("00 A4 02 0C", fid.to_bytes(2, "big")), 0x6A82)
    for other in ("2F 10", "2F 11", "2F 00"):
        expect(shared_reader, f"00 A4 02 0C 02 {other}", 0x6A82)
    select_ef(shared_reader, 0x001E)
    expect(shared_reader, "00 B0 00 00 01", 0x6981)
    expect(shared_reader, "00 B2 01 04 00", 0x6981)


def test_select_mf_without_data_after_power_on_is_6a86(shared_reader: Reader) -> None:
    expect(shared_reader, "00 A4 00 00", 0x6A86, b"")


def test_select_mf_without_data_in_an_application_is_90_00_and_changes_nothing(shared_reader: Reader) -> None:
    select_jpki(shared_reader)
    select_ef(shared_reader, 0x000A)
    expect(shared_reader, "00 A4 00 00", OK, b"")
    # the current DF and EF are where they were
    expect(shared_reader, "00 B0 00 00 02", OK, hx("30 82"))
    select_ef(shared_reader, 0x000B)


def test_select_isd_returns_to_mf_level(shared_reader: Reader) -> None:
    select_jpki(shared_reader)
    expect(shared_reader, "00 A4 00 00", OK)
    expect(shared_reader, apdu("00 A4 04 0C", ISD_AID), OK, b"")
    expect(shared_reader, "00 A4 00 00", 0x6A86)
    expect(shared_reader, "00 A4 02 0C 02 00 0A", 0x6A82)


@pytest.mark.parametrize("select", ["00 A4 00 0C 02 3F 00", "00 A4 00 00 02 3F 00", "00 A4 02 0C 02 3F 00"])
def test_mf_3f00_is_6a82(shared_reader: Reader, select: str) -> None:
    expect(shared_reader, select, 0x6A82, b"")
    select_jpki(shared_reader)
    expect(shared_reader, select, 0x6A82, b"")


@pytest.mark.parametrize("fid", ["00 00", "00 03", "00 04", "00 1F", "2F 00", "3F FF", "FF FF"])
def test_unknown_fid_in_the_jpki_ap_is_6a82(shared_reader: Reader, fid: str) -> None:
    select_jpki(shared_reader)
    expect(shared_reader, f"00 A4 02 0C 02 {fid}", 0x6A82, b"")


@pytest.mark.parametrize(
    "fid", [0x0001, 0x0002, 0x0006, 0x0008, 0x000A, 0x000B, 0x0017, 0x0018, 0x001A, 0x001B]
)
def test_every_jpki_ef_of_issue_2_is_selectable(shared_reader: Reader, fid: int) -> None:
    select_jpki(shared_reader)
    select_ef(shared_reader, fid)
    expect(shared_reader, apdu("00 A4 00 0C", fid.to_bytes(2, "big")), OK, b"")  # P1 = 00 selects the EF too


def test_select_ef_with_fcp_returns_the_file_identifier(shared_reader: Reader) -> None:
    select_jpki(shared_reader)
    r = expect(shared_reader, "00 A4 02 00 02 00 0A 00", OK)
    assert r.data[0] == 0x62 and r.data[1] == len(r.data) - 2
    assert hx("83 02 00 0A") in r.data  # FCP content beyond the FID is ASSUMED


@pytest.mark.parametrize("data", ["00", "00 0A 00"])
def test_file_identifier_of_the_wrong_size_is_67_00(shared_reader: Reader, data: str) -> None:
    select_jpki(shared_reader)
    n = len(hx(data))
    expect(shared_reader, f"00 A4 02 0C {n:02X} {data}", 0x6700)


@pytest.mark.parametrize("p1", ["01", "03", "08", "09", "FF"])
def test_unsupported_selection_method_is_6a86(shared_reader: Reader, p1: str) -> None:
    select_jpki(shared_reader)
    expect(shared_reader, f"00 A4 {p1} 0C 02 00 0A", 0x6A86)


def test_select_answers_stay_exact_on_the_response_path(shared_reader: Reader) -> None:
    """The whole OpenSC match sequence (spec §7.1 step 3 and §7.2 bind), byte for byte."""
    r = send(shared_reader, "00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01")
    assert (r.data, r.sw) == (b"", OK)
    r = send(shared_reader, "00 A4 02 0C 02 00 18")
    assert (r.data, r.sw) == (b"", OK)
    r = send(shared_reader, "00 20 00 80")
    assert (r.data, r.sw) == (b"", 0x63C3)
    r = send(shared_reader, "00 A4 02 0C 02 00 1B")
    assert (r.data, r.sw) == (b"", OK)
    r = send(shared_reader, "00 20 00 80")
    assert (r.data, r.sw) == (b"", 0x63C5)
