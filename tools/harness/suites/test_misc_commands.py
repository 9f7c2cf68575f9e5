"""GET CHALLENGE, GET DATA, and the class/instruction/channel checks every command passes, on any reader.

Spec current-card §1.1, §4.7, §4.8, §7.1; issue 2 items 1 and 3.
"""

from __future__ import annotations

import pytest

from mynacard.apdu.readers.base import Reader
from mynacard.tools.harness.suites.helpers import (
    OK,
    expect,
    select_ef,
    select_jpki,
    send,
)

pytestmark = [
    pytest.mark.applies_to("legacy-2016"),
    pytest.mark.capability("transport"),
    pytest.mark.clause("current-card §1.1, §4.7, §4.8, §7.1 (class, instruction, channel)"),
]

# --- GET CHALLENGE ------------------------------------------------------------------------------------


@pytest.mark.parametrize("le", [1, 2, 8, 16, 127, 128, 255])
def test_get_challenge_returns_exactly_le_bytes(shared_reader: Reader, le: int) -> None:
    r = expect(shared_reader, bytes((0x00, 0x84, 0x00, 0x00, le)), OK)
    assert len(r.data) == le
    select_jpki(shared_reader)  # in an AP as at MF level
    assert len(expect(shared_reader, bytes((0x00, 0x84, 0x00, 0x00, le)), OK).data) == le


def test_get_challenge_le_00_is_256_bytes(shared_reader: Reader) -> None:
    first = expect(shared_reader, "00 84 00 00 00", OK).data
    second = expect(shared_reader, "00 84 00 00 00", OK).data
    assert len(first) == len(second) == 256
    assert first != second  # fresh randomness each time
    assert len(set(first)) > 100  # not a constant or a short cycle


@pytest.mark.parametrize("command", ["00 84 00 00 00 00 08", "00 84 00 00 00 01 00", "00 84 00 00 00 01 01"])
def test_extended_get_challenge_is_69_85(shared_reader: Reader, command: str) -> None:
    expect(shared_reader, command, 0x6985, b"")


@pytest.mark.parametrize("command", ["00 84 00 01 08", "00 84 01 00 08", "00 84 FF FF 08"])
def test_get_challenge_with_p1_p2_is_6a86(shared_reader: Reader, command: str) -> None:
    expect(shared_reader, command, 0x6A86, b"")


def test_get_challenge_without_le_is_67_00(shared_reader: Reader) -> None:
    expect(shared_reader, "00 84 00 00", 0x6700, b"")


# --- GET DATA -----------------------------------------------------------------------------------------


def test_get_data_of_the_contact_atr(shared_reader: Reader) -> None:
    """``5F51`` is the ATR without TS; its last byte is TCK (spec §1.1, §4.7)."""
    expect(shared_reader, "00 CA 5F 51 00", OK, bytes.fromhex("E0 00 FF 81 31 FE 45 14"))


@pytest.mark.parametrize("tag", ["01 01", "00 00", "5F 52", "7F 7F"])
def test_get_data_of_a_missing_object_is_6a88(shared_reader: Reader, tag: str) -> None:
    expect(shared_reader, f"00 CA {tag} 00", 0x6A88, b"")


def test_mf_level_objects_are_not_answered_inside_an_ap(shared_reader: Reader) -> None:
    identification = expect(shared_reader, "00 CA 00 45 00", OK).data
    assert identification
    select_jpki(shared_reader)
    expect(shared_reader, "00 CA 00 45 00", 0x6A88, b"")


# --- class, instruction and logical-channel checks ---------------------------------------------------


@pytest.mark.parametrize(
    "command",
    [
        "FF A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01",  # CLA FF is invalid
        "20 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01",  # 001x xxxx: reserved for future use
        "3F B0 00 00 04",
        "2C 20 00 98",
        "A0 A4 00 00",
        "80 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01",  # SELECT is no proprietary-class command
        "80 B0 00 00 04",
        "80 20 00 98",
        "80 84 00 00 08",
        "00 2A 00 97 02 AA BB 00",  # and the signature is no interindustry one
    ],
)
def test_class_not_supported_is_6e_00(shared_reader: Reader, command: str) -> None:
    expect(shared_reader, command, 0x6E00, b"")


@pytest.mark.parametrize(
    "command",
    [
        "00 D6 00 00 01 00",  # UPDATE BINARY
        "00 DC 01 04 01 00",  # UPDATE RECORD
        "00 0E 00 00",  # ERASE BINARY
        "00 82 00 00 08 00 00 00 00 00 00 00 00",  # EXTERNAL AUTHENTICATE
        "00 2C 00 98",  # RESET RETRY COUNTER
        "00 70 00 00 01",  # MANAGE CHANNEL: only the basic channel exists
        "00 44 00 00",  # ACTIVATE FILE
        "00 E4 00 00",  # DELETE FILE
        "00 00 00 00",
        "80 50 00 00",  # LOCK DF
        "80 FE 00 00",
    ],
)
def test_instruction_not_supported_is_6d_00(shared_reader: Reader, command: str) -> None:
    expect(shared_reader, command, 0x6D00, b"")
    select_jpki(shared_reader)
    expect(shared_reader, command, 0x6D00, b"")


@pytest.mark.parametrize("cla", [0x01, 0x02, 0x03, 0x40, 0x41, 0x4F, 0x81, 0x83, 0xC1])
def test_logical_channels_other_than_0_are_68_81(shared_reader: Reader, cla: int) -> None:
    """Only the basic channel works (spec §1.1, MC ``cla::with_channel``)."""
    select = bytes((cla,)) + bytes.fromhex("A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01")
    expect(shared_reader, select, 0x6881, b"")
    expect(shared_reader, bytes((cla, 0x84, 0x00, 0x00, 0x08)), 0x6881, b"")
    expect(shared_reader, bytes((cla, 0x20, 0x00, 0x98)), 0x6881, b"")


def test_channel_errors_leave_the_basic_channel_alone(shared_reader: Reader) -> None:
    select_jpki(shared_reader)
    expect(shared_reader, "01 A4 04 0C 07 A0 00 00 01 51 00 00", 0x6881)
    expect(shared_reader, "00 A4 02 0C 02 00 0A", OK)  # still in the JPKI-AP


@pytest.mark.parametrize("cla", ["04", "08", "0C", "84", "8C"])
def test_secure_messaging_is_68_82(shared_reader: Reader, cla: str) -> None:
    expect(shared_reader, f"{cla} A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01", 0x6882, b"")


def test_chained_parts_are_joined_into_one_command(shared_reader: Reader) -> None:
    """ISO 7816-4 §5.3.3: each part but the last answers ``90 00``; the last gets the joined data."""
    expect(shared_reader, "10 A4 04 0C 05 D3 92 F0 00 26", OK, b"")
    expect(shared_reader, "00 A4 04 0C 05 01 00 00 00 01", OK, b"")  # the JPKI-AP, selected whole
    select_ef(shared_reader, 0x0018)  # exists only in the JPKI-AP


def test_a_chain_broken_by_another_command_is_68_83(shared_reader: Reader) -> None:
    expect(shared_reader, "10 A4 04 0C 05 D3 92 F0 00 26", OK, b"")
    expect(shared_reader, "00 B0 00 00 00", 0x6883, b"")  # the chain's last part was expected
    expect(shared_reader, "00 A4 04 0C 05 01 00 00 00 01", 0x6A82, b"")  # the chain is gone


@pytest.mark.parametrize(
    "command",
    [
        "00 A4 04 0C 0B D3 92 F0 00 26 01 00 00 00 01",  # Lc 11, 10 bytes
        "00 A4 04 0C 08 D3 92 F0 00 26 01 00 00 00 01",  # Lc 8, then 10 bytes: neither Lc nor Lc + Le
        "00 B0 00 00 00 10",  # a 6-byte APDU whose body starts with 00
        "00 A4 02 0C 00 00 03 00 0A",  # extended Lc 3, 2 bytes
        "00 A4 02 0C 00 00 00 00 0A",  # extended Lc 00 00
        "00 20 00 98 00 00 04 31 32 33",  # extended Lc 4, 3 bytes
    ],
)
def test_wrong_length_is_67_00(shared_reader: Reader, command: str) -> None:
    expect(shared_reader, command, 0x6700, b"")


def test_the_card_keeps_serving_after_errors(shared_reader: Reader) -> None:
    for command in ("FF FF FF FF", "00 A4 04 0C 0B 00", "01 B0 00 00 01", "00 FF 00 00"):
        assert send(shared_reader, command).sw != OK
    select_jpki(shared_reader)
    expect(shared_reader, "00 20 00 98", 0x63C3)
