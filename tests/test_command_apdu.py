"""CommandApdu: strict parsing and encoding of cases 1–4, short and extended (ISO/IEC 7816-3, 7816-4).

Every malformed length form is rejected with ``67 00``, never padded or guessed; reserved class bytes carry
``6E 00``. Round trips are checked for every case and form with exact bytes.
"""

from __future__ import annotations

import pytest

from mynacard.apdu.command import ApduFormatError, Case, ClassByte, CommandApdu, SecureMessaging
from mynacard.apdu.status import SW


def h(text: str) -> bytes:
    return bytes.fromhex(text)


# --- well-formed commands: every case, short and extended ------------------------------------------------

WELL_FORMED = [
    # (bytes, case, data, ne, extended)
    ("00 A4 00 00", Case.ONE, "", 0, False),
    ("00 20 00 98", Case.ONE, "", 0, False),
    ("00 B0 00 00 04", Case.TWO, "", 4, False),
    ("00 B0 00 00 FF", Case.TWO, "", 255, False),
    ("00 B0 00 00 00", Case.TWO, "", 256, False),
    ("00 B0 8A 04 00 04 12", Case.TWO, "", 0x0412, True),  # MBE: offset 4, extended Le = DER length
    ("00 B0 8A 00 00 00 00", Case.TWO, "", 65536, True),  # JSAPDU readEfBinaryFull
    ("00 B0 00 00 00 00 01", Case.TWO, "", 1, True),
    ("00 A4 02 0C 02 00 0A", Case.THREE, "00 0A", 0, False),
    ("00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01", Case.THREE, "D3 92 F0 00 26 01 00 00 00 01", 0, False),
    ("00 20 00 98 04 31 32 33 34", Case.THREE, "31 32 33 34", 0, False),
    ("00 20 00 98 00 00 04 31 32 33 34", Case.THREE, "31 32 33 34", 0, True),
    ("00 A4 04 00 05 D3 92 F0 00 26 00", Case.FOUR, "D3 92 F0 00 26", 256, False),
    ("00 88 00 97 02 AA BB 10", Case.FOUR, "AA BB", 16, False),
    ("80 2A 00 80 00 00 01 55 00 00", Case.FOUR, "55", 65536, True),
    ("80 2A 00 80 00 00 02 55 66 01 00", Case.FOUR, "55 66", 256, True),
]


@pytest.mark.parametrize(("raw", "case", "data", "ne", "extended"), WELL_FORMED)
def test_parse_every_case_and_form(raw: str, case: Case, data: str, ne: int, extended: bool) -> None:
    cmd = CommandApdu.from_bytes(h(raw))
    assert (cmd.cla, cmd.ins, cmd.p1, cmd.p2) == tuple(h(raw)[:4])
    assert cmd.case is case
    assert cmd.data == h(data)
    assert cmd.ne == ne
    assert cmd.extended is extended
    assert cmd.header == h(raw)[:4]
    assert cmd.le_present is (ne != 0)


@pytest.mark.parametrize(("raw", "case", "data", "ne", "extended"), WELL_FORMED)
def test_encode_gives_back_the_exact_bytes(raw: str, case: Case, data: str, ne: int, extended: bool) -> None:
    cmd = CommandApdu.from_bytes(h(raw))
    assert cmd.to_bytes() == h(raw)
    assert bytes(cmd) == h(raw)
    built = CommandApdu(*h(raw)[:4], data=h(data), ne=ne, extended=extended)
    assert built.to_bytes() == h(raw)
    assert built == cmd
    assert hash(built) == hash(cmd)


def test_extended_case_3_with_a_long_body() -> None:
    body = bytes(range(256)) + bytes(44)  # 300 bytes need extended Lc
    raw = h("80 A2 00 C1 00 01 2C") + body
    cmd = CommandApdu.from_bytes(raw)
    assert (cmd.case, cmd.extended, cmd.data, cmd.ne) == (Case.THREE, True, body, 0)
    assert CommandApdu(0x80, 0xA2, 0x00, 0xC1, body).to_bytes() == raw


def test_extended_case_4_with_the_largest_body_and_le() -> None:
    body = bytes(65535)
    raw = h("00 CA 00 F8 00 FF FF") + body + h("00 00")
    cmd = CommandApdu.from_bytes(raw)
    assert (cmd.case, cmd.extended, len(cmd.data), cmd.ne) == (Case.FOUR, True, 65535, 65536)
    assert cmd.to_bytes() == raw


def test_constructor_chooses_the_extended_form_only_when_needed() -> None:
    assert CommandApdu(0x00, 0xB0, 0, 0, ne=256).to_bytes() == h("00 B0 00 00 00")
    assert CommandApdu(0x00, 0xB0, 0, 0, ne=257).to_bytes() == h("00 B0 00 00 00 01 01")
    assert CommandApdu(0x00, 0xB0, 0, 0, ne=65536).to_bytes() == h("00 B0 00 00 00 00 00")
    assert CommandApdu(0x00, 0x20, 0, 0x98, b"1234").to_bytes() == h("00 20 00 98 04 31 32 33 34")
    assert CommandApdu(0x00, 0x20, 0, 0x98, b"1234").case is Case.THREE
    assert CommandApdu(0x00, 0x20, 0, 0x98).case is Case.ONE


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"cla": 0x100}, "CLA"),
        ({"ins": -1}, "INS"),
        ({"p1": 256}, "P1"),
        ({"p2": 300}, "P2"),
        ({"data": bytes(65536)}, "Nc"),
        ({"ne": 65537}, "Ne"),
        ({"ne": -1}, "Ne"),
        ({"ne": 257, "extended": False}, "extended"),
        ({"data": bytes(256), "extended": False}, "extended"),
    ],
)
def test_constructor_rejects_values_no_apdu_can_carry(kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"cla": 0, "ins": 0xB0, "p1": 0, "p2": 0} | kwargs
    with pytest.raises(ValueError, match=message):
        CommandApdu(**args)  # type: ignore[arg-type]


def test_with_ne_resends_the_same_command_with_another_le() -> None:
    cmd = CommandApdu.from_bytes(h("80 2A 00 80 02 AA BB 80"))
    assert cmd.with_ne(256).to_bytes() == h("80 2A 00 80 02 AA BB 00")
    assert cmd.with_ne(0x20).to_bytes() == h("80 2A 00 80 02 AA BB 20")
    assert CommandApdu.from_bytes(h("00 B0 00 00 10")).with_ne(4).to_bytes() == h("00 B0 00 00 04")


def test_repr_shows_the_bytes() -> None:
    assert repr(CommandApdu.from_bytes(h("00 b0 00 00 04"))) == "CommandApdu(00 B0 00 00 04)"


def test_commands_compare_by_their_encoding() -> None:
    assert CommandApdu.from_bytes(h("00 B0 00 00 04")) != CommandApdu.from_bytes(h("00 B0 00 00 05"))
    assert CommandApdu.from_bytes(h("00 B0 00 00 04")) != h("00 B0 00 00 04")


# --- malformed lengths: 67 00, never guessed -------------------------------------------------------------

MALFORMED = [
    ("", "empty"),
    ("00", "1 byte"),
    ("00 A4", "2 bytes"),
    ("00 A4 04", "3 bytes"),
    ("00 A4 02 0C 03 00 0A", "short Lc 3 with 2 data bytes"),
    ("00 A4 02 0C 01 00 0A 00 00", "short Lc 1 with 4 following bytes"),
    ("00 20 00 98 04 31 32 33", "short Lc 4 with 3 data bytes"),
    ("00 20 00 98 02 31 32 33 34", "short Lc 2 with 4 following bytes"),
    ("00 B0 00 00 00 10", "6-byte APDU whose body starts with 00"),
    ("00 A4 02 0C 00 00 02 00", "extended Lc 2 with 1 data byte"),
    ("00 A4 02 0C 00 00 02 00 0A 00", "extended Lc 2 with a 1-byte Le"),
    ("00 A4 02 0C 00 00 02 00 0A 00 00 00", "extended Lc 2 with a 3-byte Le"),
    ("00 A4 02 0C 00 00 01 00 0A", "extended Lc 1 with 2 data bytes"),
    ("00 A4 02 0C 00 00 00 00", "extended Lc 00 00 with 1 byte"),
    ("00 A4 02 0C 00 00 00 00 00", "extended Lc 00 00 with an Le-like tail"),
    ("00 B0 00 00 00 00 00 00 00", "6-byte body starting 00 00 00"),
    ("00 B0 00 00 00 00 02 AA BB CC", "6-byte body starting 00, Lc 2 and 3 more bytes"),
    ("80 2A 00 80 01 55 00 00 00", "short Lc mixed with an extended Le"),
    ("80 2A 00 80 00 00 01 55 00", "extended Lc mixed with a short Le"),
]


@pytest.mark.parametrize(("raw", "what"), MALFORMED, ids=[m[1] for m in MALFORMED])
def test_malformed_length_is_67_00(raw: str, what: str) -> None:
    with pytest.raises(ApduFormatError) as info:
        CommandApdu.from_bytes(h(raw))
    assert info.value.sw == SW.WRONG_LENGTH
    assert info.value.sw.bytes == h("67 00")


def test_format_error_is_a_value_error_with_a_reason() -> None:
    with pytest.raises(ValueError, match="4-byte header"):
        CommandApdu.from_bytes(h("00 A4 04"))


# --- the class byte ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cla", "channel", "sm", "chaining", "proprietary"),
    [
        (0x00, 0, SecureMessaging.NONE, False, False),
        (0x01, 1, SecureMessaging.NONE, False, False),
        (0x02, 2, SecureMessaging.NONE, False, False),
        (0x03, 3, SecureMessaging.NONE, False, False),
        (0x04, 0, SecureMessaging.PROPRIETARY, False, False),
        (0x08, 0, SecureMessaging.HEADER_NOT_AUTHENTICATED, False, False),
        (0x0C, 0, SecureMessaging.HEADER_AUTHENTICATED, False, False),
        (0x0F, 3, SecureMessaging.HEADER_AUTHENTICATED, False, False),
        (0x10, 0, SecureMessaging.NONE, True, False),
        (0x40, 4, SecureMessaging.NONE, False, False),
        (0x4F, 19, SecureMessaging.NONE, False, False),
        (0x50, 4, SecureMessaging.NONE, True, False),
        (0x60, 4, SecureMessaging.HEADER_NOT_AUTHENTICATED, False, False),
        (0x6F, 19, SecureMessaging.HEADER_NOT_AUTHENTICATED, False, False),
        (0x80, 0, SecureMessaging.NONE, False, True),
        (0x81, 1, SecureMessaging.NONE, False, True),
        (0x84, 0, SecureMessaging.PROPRIETARY, False, True),
        (0x8C, 0, SecureMessaging.HEADER_AUTHENTICATED, False, True),
        (0x90, 0, SecureMessaging.NONE, True, True),
        (0xC0, 4, SecureMessaging.NONE, False, True),
        (0xE3, 7, SecureMessaging.HEADER_NOT_AUTHENTICATED, False, True),
    ],
)
def test_class_byte_decoding(
    cla: int, channel: int, sm: SecureMessaging, chaining: bool, proprietary: bool
) -> None:
    decoded = CommandApdu(cla, 0xA4, 0, 0).class_byte()
    assert decoded.value == cla
    assert decoded.channel == channel
    assert decoded.secure_messaging is sm
    assert decoded.chaining is chaining
    assert decoded.proprietary is proprietary
    assert f"{cla:02X}" in repr(decoded)


@pytest.mark.parametrize("cla", [0xFF, *range(0x20, 0x40), 0xA0, 0xBF])
def test_reserved_class_bytes_are_6e_00(cla: int) -> None:
    with pytest.raises(ApduFormatError) as info:
        ClassByte(cla)
    assert info.value.sw == SW.CLA_NOT_SUPPORTED
    # parsing the whole command still works: CLA is decoded on demand
    cmd = CommandApdu.from_bytes(bytes((cla, 0xA4, 0x00, 0x00)))
    with pytest.raises(ApduFormatError) as info2:
        cmd.class_byte()
    assert info2.value.sw.bytes == h("6E 00")
