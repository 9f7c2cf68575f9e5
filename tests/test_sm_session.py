"""SM sessions terminal ↔ card: round trips for every suite and APDU case, and every kind of tampering.

ISO/IEC 7816-4 §10 and ICAO Doc 9303-11 §9.8: a wrong MAC or ill-formed SM objects → ``69 88``, missing SM
objects → ``69 87``; either ends the session on the side that saw it.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mynacard.apdu.command import CommandApdu
from mynacard.apdu.response import ResponseApdu
from mynacard.apdu.sm import (
    AES_128,
    AES_192,
    AES_256,
    TDES,
    CipherSuite,
    PacePassword,
    PasswordReference,
    SecureMessagingError,
    SessionKeys,
    SmObjectsIncorrectError,
    SmObjectsMissingError,
    SmSession,
    SmSessionClosedError,
    is_protected,
)
from mynacard.apdu.sm.padding import pad
from mynacard.apdu.status import SW
from mynacard.apdu.tlv import ber_encode

SUITES = [pytest.param(s, id=s.name) for s in (TDES, AES_128, AES_192, AES_256)]


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


def keys(suite: CipherSuite) -> tuple[bytes, bytes]:
    return bytes(range(1, suite.key_length + 1)), bytes(range(101, 101 + suite.key_length))


def pair(suite: CipherSuite, ssc: int = 0) -> tuple[SmSession, SmSession]:
    """(terminal, card) under the same TEST keys."""
    return SmSession(*keys(suite), suite, ssc), SmSession(*keys(suite), suite, ssc)


def send(terminal: SmSession, card: SmSession, command: CommandApdu) -> CommandApdu:
    """Wrap on the terminal, cross the wire as bytes, unwrap on the card."""
    return card.unwrap_command(CommandApdu.from_bytes(terminal.wrap_command(command).to_bytes()))


COMMANDS = [
    pytest.param("00 44 00 00", id="case1"),
    pytest.param("00 B0 00 00 00", id="case2-256"),
    pytest.param("00 B0 81 00 10", id="case2-sfi"),
    pytest.param("00 A4 02 0C 02 00 0A", id="case3"),
    pytest.param("00 88 00 00 08 0102030405060708 00", id="case4"),
    pytest.param("00 B1 00 00 04 54 02 01 00 00", id="odd-ins"),
    pytest.param("10 86 00 00 02 7C 00 00", id="chained"),
    pytest.param("80 2A 00 80 03 010203 00", id="proprietary-class"),
    pytest.param("01 B0 00 00 00", id="channel-1"),
    pytest.param("00 B0 00 00 00 10 00", id="extended-le-4096"),
    pytest.param("00 D6 00 00 00 01 2C" + "5A" * 300, id="extended-lc-300"),
    pytest.param("00 2A 9E 9A 00 01 00" + "33" * 256 + "0000", id="extended-case4"),
]


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize("raw", COMMANDS)
def test_command_round_trip(suite: CipherSuite, raw: str) -> None:
    terminal, card = pair(suite)
    plain = CommandApdu.from_bytes(h(raw))
    wire = terminal.wrap_command(plain).to_bytes()
    assert wire[0] == plain.cla | 0x0C
    assert card.unwrap_command(CommandApdu.from_bytes(wire)) == plain
    assert terminal.ssc == card.ssc == 1


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize("length", [0, 1, 15, 16, 17, 255, 256, 1000])
@pytest.mark.parametrize("sw", [0x9000, 0x6282, 0x63C2, 0x6A82])
def test_response_round_trip(suite: CipherSuite, length: int, sw: int) -> None:
    terminal, card = pair(suite)
    send(terminal, card, CommandApdu(0, 0xB0, 0, 0, ne=256))
    data = bytes(i & 0xFF for i in range(length))
    wire = card.wrap_response(data, sw).to_bytes()
    assert terminal.unwrap_response(ResponseApdu.from_bytes(wire)) == ResponseApdu(data, sw)
    assert terminal.ssc == card.ssc == 2


@pytest.mark.parametrize("suite", SUITES)
def test_a_long_conversation_keeps_both_counters_in_step(suite: CipherSuite) -> None:
    terminal, card = pair(suite)
    for i in range(50):
        command = CommandApdu(0x00, 0xB0, 0, i, ne=i + 1)
        assert (
            card.unwrap_command(CommandApdu.from_bytes(terminal.wrap_command(command).to_bytes())) == command
        )
        wire = card.wrap_response(bytes(i + 1), 0x9000).to_bytes()
        assert terminal.unwrap_response(ResponseApdu.from_bytes(wire)).data == bytes(i + 1)
    assert terminal.ssc == card.ssc == 100


@pytest.mark.parametrize(
    ("ne", "extended", "do97"),
    [(1, False, "970101"), (256, False, "970100"), (256, True, "97020100"), (65536, True, "97020000")],
)
def test_le_object(ne: int, extended: bool, do97: str) -> None:
    terminal, _ = pair(AES_128)
    wrapped = terminal.wrap_command(CommandApdu(0x00, 0xB0, 0, 0, ne=ne, extended=extended))
    assert wrapped.data.startswith(h(do97))
    assert wrapped.extended is extended
    assert wrapped.ne == (65536 if extended else 256)


def test_odd_ins_data_goes_in_85_without_indicator() -> None:
    terminal, _ = pair(AES_128)
    wrapped = terminal.wrap_command(CommandApdu.from_bytes(h("00 B1 00 00 04 54 02 01 00 00")))
    assert wrapped.data[:2] == h("85 10")
    assert wrapped.data[18:21] == h("97 01 00")


@pytest.mark.parametrize("suite", [TDES, AES_256], ids=["3DES", "AES-256"])
def test_ssc_wraps_around(suite: CipherSuite) -> None:
    top = (1 << 8 * suite.ssc_length) - 1
    terminal, card = pair(suite, top)
    command = CommandApdu(0x00, 0xB0, 0, 0, ne=256)
    card.unwrap_command(CommandApdu.from_bytes(terminal.wrap_command(command).to_bytes()))
    assert terminal.ssc == card.ssc == 0


# -- tampering -------------------------------------------------------------------------------------------


def flips(data: bytes, start: int, end: int) -> list[tuple[int, int, bytes]]:
    """Every single-bit flip of ``data[start:end]`` as (offset, bit, flipped bytes)."""
    out = []
    for offset in range(start, end):
        for bit in range(8):
            flipped = bytearray(data)
            flipped[offset] ^= 1 << bit
            out.append((offset, bit, bytes(flipped)))
    return out


def expected_sw_for_cla(cla: int) -> SW:
    """A CLA that announces no SM → objects missing; any other change → incorrect (wrong MAC or class)."""
    return (
        SW.SM_DATA_OBJECTS_INCORRECT
        if is_protected(cla) or 0x20 <= cla & 0x7F < 0x40
        else SW.SM_DATA_OBJECTS_MISSING
    )


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize("raw", ["00 A4 02 0C 02 00 0A", "00 B0 00 00 00", "00 B1 00 00 04 54 02 01 00 00"])
def test_every_flipped_bit_of_a_protected_command_is_refused(suite: CipherSuite, raw: str) -> None:
    wire = pair(suite)[0].wrap_command(CommandApdu.from_bytes(h(raw))).to_bytes()
    header, body_end = range(4), len(wire) - 1  # Lc and the outer Le are not protected: skip them
    targets = flips(wire, 0, 4) + flips(wire, 5, body_end)
    assert len(targets) == 8 * (len(wire) - 2)
    for offset, bit, tampered in targets:
        _, card = pair(suite)
        with pytest.raises(SecureMessagingError) as raised:
            card.unwrap_command(CommandApdu.from_bytes(tampered))
        expected = expected_sw_for_cla(tampered[0]) if offset in header else SW.SM_DATA_OBJECTS_INCORRECT
        assert raised.value.sw == expected, f"byte {offset} bit {bit}"
        assert card.closed


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize("data", ["", "60145F01", "00" * 40])
def test_every_flipped_bit_of_a_protected_response_is_refused(suite: CipherSuite, data: str) -> None:
    terminal, card = pair(suite)
    command = CommandApdu(0x00, 0xB0, 0, 0, ne=256)
    card.unwrap_command(CommandApdu.from_bytes(terminal.wrap_command(command).to_bytes()))
    wire = card.wrap_response(h(data), 0x9000).to_bytes()
    for offset, bit, tampered in flips(wire, 0, len(wire)):
        receiver = SmSession(*keys(suite), suite, 1)
        with pytest.raises(SmObjectsIncorrectError) as raised:
            receiver.unwrap_response(ResponseApdu.from_bytes(tampered))
        assert raised.value.sw == SW.SM_DATA_OBJECTS_INCORRECT, f"byte {offset} bit {bit}"
        assert receiver.closed


@pytest.mark.parametrize("suite", SUITES)
def test_a_replayed_command_is_refused(suite: CipherSuite) -> None:
    terminal, card = pair(suite)
    wire = terminal.wrap_command(CommandApdu.from_bytes(h("00 A4 02 0C 02 00 0A"))).to_bytes()
    card.unwrap_command(CommandApdu.from_bytes(wire))
    card.wrap_response(b"", 0x9000)
    with pytest.raises(SmObjectsIncorrectError) as raised:
        card.unwrap_command(CommandApdu.from_bytes(wire))
    assert raised.value.sw == SW.SM_DATA_OBJECTS_INCORRECT
    assert card.closed


@pytest.mark.parametrize("suite", SUITES)
def test_a_replayed_response_is_refused(suite: CipherSuite) -> None:
    terminal, card = pair(suite)
    command = CommandApdu(0x00, 0xB0, 0, 0, ne=4)
    card.unwrap_command(CommandApdu.from_bytes(terminal.wrap_command(command).to_bytes()))
    old = card.wrap_response(h("60145F01"), 0x9000)
    terminal.unwrap_response(old)
    card.unwrap_command(CommandApdu.from_bytes(terminal.wrap_command(command).to_bytes()))
    card.wrap_response(h("04303130"), 0x9000)  # the real answer is lost; the old one is replayed
    with pytest.raises(SmObjectsIncorrectError):
        terminal.unwrap_response(old)
    assert terminal.closed


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize("offset", [1, -1, 2])
def test_a_wrong_ssc_is_refused(suite: CipherSuite, offset: int) -> None:
    terminal = SmSession(*keys(suite), suite, 10)
    card = SmSession(*keys(suite), suite, 10 + offset)
    wire = terminal.wrap_command(CommandApdu(0x00, 0xB0, 0, 0, ne=256)).to_bytes()
    with pytest.raises(SmObjectsIncorrectError) as raised:
        card.unwrap_command(CommandApdu.from_bytes(wire))
    assert raised.value.sw == SW.SM_DATA_OBJECTS_INCORRECT


@pytest.mark.parametrize("suite", SUITES)
def test_a_dropped_response_desynchronises_and_is_refused(suite: CipherSuite) -> None:
    terminal, card = pair(suite)
    first = terminal.wrap_command(CommandApdu(0x00, 0xB0, 0, 0, ne=256)).to_bytes()
    card.unwrap_command(CommandApdu.from_bytes(first))
    card.wrap_response(bytes(16), 0x9000)  # never reaches the terminal
    second = terminal.wrap_command(CommandApdu(0x00, 0xB0, 0, 16, ne=256)).to_bytes()
    with pytest.raises(SmObjectsIncorrectError) as raised:
        card.unwrap_command(CommandApdu.from_bytes(second))
    assert raised.value.sw == SW.SM_DATA_OBJECTS_INCORRECT
    assert card.closed


# -- missing and ill-formed objects ------------------------------------------------------------------------


def forged_command(suite: CipherSuite, header: bytes, objects: bytes, ssc: int = 1) -> CommandApdu:
    """A command whose MAC is right for ``objects`` (to reach the checks that follow the MAC)."""
    _, k_mac = keys(suite)
    n = pad(ssc.to_bytes(suite.ssc_length, "big") + pad(header, suite.block_size) + objects, suite.block_size)
    body = objects + ber_encode(0x8E, suite.mac(k_mac, n))
    return CommandApdu(header[0], header[1], header[2], header[3], body, 256)


@pytest.mark.parametrize("suite", SUITES)
def test_plain_cla_means_missing_sm_objects(suite: CipherSuite) -> None:
    _, card = pair(suite)
    with pytest.raises(SmObjectsMissingError) as raised:
        card.unwrap_command(CommandApdu.from_bytes(h("00 B0 00 00 00")))
    assert raised.value.sw == SW.SM_DATA_OBJECTS_MISSING
    assert card.closed


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("0C B0 00 00", id="no-data"),
        pytest.param("0C B0 00 00 03 97 01 00 00", id="no-mac"),
    ],
)
def test_missing_objects_in_a_protected_command(raw: str) -> None:
    _, card = pair(AES_128)
    with pytest.raises(SmObjectsMissingError) as raised:
        card.unwrap_command(CommandApdu.from_bytes(h(raw)))
    assert raised.value.sw == SW.SM_DATA_OBJECTS_MISSING


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize(
    ("header", "objects_of"),
    [
        pytest.param("0CB00000", lambda c: ber_encode(0x85, c), id="85-for-even-ins"),
        pytest.param("0CB10000", lambda c: ber_encode(0x87, b"\x01" + c), id="87-for-odd-ins"),
        pytest.param("0CD60000", lambda c: ber_encode(0x87, b"\x02" + c), id="wrong-padding-indicator"),
        pytest.param("0CD60000", lambda c: ber_encode(0x87, b"\x01" + c[:-1]), id="partial-block"),
        pytest.param("0CD60000", lambda c: ber_encode(0x87, b"\x01"), id="empty-cryptogram"),
        pytest.param("0CB00000", lambda c: h("9703000100"), id="le-of-3-bytes"),
        pytest.param("0CB00000", lambda c: h("970100 970100"), id="le-twice"),
        pytest.param("0CB00000", lambda c: h("970100") + ber_encode(0x87, b"\x01" + c), id="out-of-order"),
        pytest.param("0CB00000", lambda c: h("990290 00"), id="status-in-a-command"),
    ],
)
def test_ill_formed_objects_under_a_valid_mac(suite: CipherSuite, header: str, objects_of: object) -> None:
    k_enc, _ = keys(suite)
    cryptogram = suite.encrypt(
        k_enc, (1).to_bytes(suite.ssc_length, "big"), pad(b"\x01\x02", suite.block_size)
    )
    assert callable(objects_of)
    _, card = pair(suite)
    with pytest.raises(SmObjectsIncorrectError) as raised:
        card.unwrap_command(forged_command(suite, h(header), objects_of(cryptogram)))
    assert raised.value.sw == SW.SM_DATA_OBJECTS_INCORRECT


@pytest.mark.parametrize("suite", SUITES)
def test_bad_padding_under_a_valid_mac(suite: CipherSuite) -> None:
    k_enc, _ = keys(suite)
    unpadded = bytes(suite.block_size)  # decrypts to zeros: no 80 marker
    cryptogram = suite.encrypt(k_enc, (1).to_bytes(suite.ssc_length, "big"), unpadded)
    _, card = pair(suite)
    with pytest.raises(SmObjectsIncorrectError, match="padding"):
        card.unwrap_command(forged_command(suite, h("0CD60000"), ber_encode(0x87, b"\x01" + cryptogram)))


def test_a_reserved_or_unauthenticated_class_is_incorrect() -> None:
    for cla in (0x08, 0x04, 0x2C):
        _, card = pair(AES_128)
        with pytest.raises(SmObjectsIncorrectError):
            card.unwrap_command(CommandApdu(cla, 0xB0, 0, 0, h("8E080000000000000000")))


@pytest.mark.parametrize(
    ("raw", "card_sw"),
    [("6988", 0x6988), ("6A82", 0x6A82), ("9000", 0x9000)],
)
def test_a_plain_response_means_missing_objects(raw: str, card_sw: int) -> None:
    terminal, _ = pair(AES_128)
    terminal.wrap_command(CommandApdu(0x00, 0xB0, 0, 0, ne=256))
    with pytest.raises(SmObjectsMissingError) as raised:
        terminal.unwrap_response(ResponseApdu.from_bytes(h(raw)))
    assert raised.value.card_sw == card_sw
    assert raised.value.sw == SW.SM_DATA_OBJECTS_MISSING
    assert terminal.closed


def test_a_response_without_status_object_means_missing_objects() -> None:
    terminal, card = pair(AES_128)
    send(terminal, card, CommandApdu(0, 0xB0, 0, 4, ne=4))
    k_enc, k_mac = keys(AES_128)
    ssc = (2).to_bytes(16, "big")
    objects = ber_encode(0x87, b"\x01" + AES_128.encrypt(k_enc, ssc, pad(h("01020304"), 16)))
    body = objects + ber_encode(0x8E, AES_128.mac(k_mac, pad(ssc + objects, 16)))
    with pytest.raises(SmObjectsMissingError) as raised:
        terminal.unwrap_response(ResponseApdu(body, 0x9000))
    assert raised.value.sw == SW.SM_DATA_OBJECTS_MISSING


def test_removing_the_status_object_breaks_the_mac() -> None:
    terminal, card = pair(AES_128)
    send(terminal, card, CommandApdu(0, 0xB0, 0, 4, ne=4))
    wire = card.wrap_response(h("01020304"), 0x9000)
    without_99 = wire.data[:18] + wire.data[22:]  # 87 11 01 … (18 bytes), 99 02 90 00, 8E 08 …
    with pytest.raises(SmObjectsIncorrectError):
        terminal.unwrap_response(ResponseApdu(without_99, 0x9000))


# -- the session ends ------------------------------------------------------------------------------------


def test_after_an_error_the_session_is_closed_on_either_side() -> None:
    terminal, card = pair(AES_256)
    with pytest.raises(SmObjectsMissingError):
        card.unwrap_command(CommandApdu.from_bytes(h("00 B0 00 00 00")))
    good = terminal.wrap_command(CommandApdu(0x00, 0xB0, 0, 0, ne=256))
    with pytest.raises(SmSessionClosedError) as raised:
        card.unwrap_command(good)
    assert raised.value.sw == SW.SM_DATA_OBJECTS_INCORRECT
    with pytest.raises(SmSessionClosedError):
        card.wrap_response(b"", 0x9000)
    with pytest.raises(SmObjectsIncorrectError):
        terminal.unwrap_response(ResponseApdu.from_bytes(h("990290008E080000000000000000 9000")))
    with pytest.raises(SmSessionClosedError):
        terminal.wrap_command(CommandApdu(0x00, 0xB0, 0, 0, ne=256))


def test_close_forgets_the_keys() -> None:
    session = SmSession(*keys(AES_128), AES_128)
    session.close()
    assert session.closed
    assert "closed" in repr(session)


# -- secrets ---------------------------------------------------------------------------------------------


def test_keys_and_passwords_stay_out_of_reprs_and_messages() -> None:
    k_enc, k_mac = keys(AES_256)
    session = SmSession(k_enc, k_mac, AES_256)
    texts = [repr(session), str(session), repr(SessionKeys(k_enc, k_mac, AES_256))]
    try:
        session.unwrap_command(CommandApdu.from_bytes(h("0CB0000003970100 00")))
    except SecureMessagingError as error:
        texts.append(str(error))
    password = PacePassword.digits(PasswordReference.CAN, "123456")
    texts += [repr(password), str(password)]
    for text in texts:
        for secret in (k_enc.hex(), k_enc.hex().upper(), k_mac.hex(), k_mac.hex().upper(), "123456"):
            assert secret not in text


def test_key_lengths_and_ssc_are_checked() -> None:
    with pytest.raises(ValueError):
        SmSession(bytes(16), bytes(16), AES_256)
    with pytest.raises(ValueError):
        SmSession(bytes(16), bytes(16), AES_128, bytes(8))
    with pytest.raises(ValueError):
        SmSession(bytes(16), bytes(16), TDES, 1 << 64)


# -- properties ----------------------------------------------------------------------------------------------

first_interindustry_cla = st.sampled_from([0x00, 0x01, 0x02, 0x03, 0x10, 0x13, 0x80, 0x83, 0x90])
commands = st.builds(
    lambda cla, ins, p1, p2, data, ne: CommandApdu(cla, ins, p1, p2, data, ne),
    first_interindustry_cla,
    st.integers(0, 255).filter(lambda ins: ins >> 4 not in (6, 9)),
    st.integers(0, 255),
    st.integers(0, 255),
    st.binary(max_size=400),
    st.one_of(st.just(0), st.integers(1, 256), st.integers(257, 65536)),
)


@settings(max_examples=150, deadline=None)
@given(suite=st.sampled_from([TDES, AES_128, AES_256]), command=commands, data=st.binary(max_size=600))
def test_any_exchange_round_trips(suite: CipherSuite, command: CommandApdu, data: bytes) -> None:
    terminal, card = pair(suite)
    assert send(terminal, card, command) == command
    wire = card.wrap_response(data, 0x9000).to_bytes()
    assert terminal.unwrap_response(ResponseApdu.from_bytes(wire)) == ResponseApdu(data, 0x9000)


@settings(max_examples=150, deadline=None)
@given(body=st.binary(max_size=80), cla=st.sampled_from([0x0C, 0x1C, 0x8C]))
def test_arbitrary_protected_bodies_never_escape_as_other_errors(body: bytes, cla: int) -> None:
    _, card = pair(AES_128)
    with pytest.raises(SecureMessagingError) as raised:
        card.unwrap_command(CommandApdu(cla, 0xB0, 0, 0, body, 256 if body else 0))
    assert raised.value.sw in (SW.SM_DATA_OBJECTS_MISSING, SW.SM_DATA_OBJECTS_INCORRECT)
    assert card.closed
