"""nextgen-2026: PACE and secure messaging (spec nextgen-2026 §4, ASSUMED protocol; ICAO Doc 9303-11 §4.4
and §9.8; BSI TR-03110-3), through ``transmit`` only, on the virtual reader and through pcscd/vpcd.

EF.CardAccess offers PACE-ECDH-GM-AES-CBC-CMAC-256 on P-384 (id 15). The 券面等AP requires secure
messaging: after SELECT every plain command answers ``69 82``; PACE with 照合番号B (the CAN, ``02``) opens
what B opens, with 照合番号A (``81``) what A opens, with the PIN (``03``) in the 認証AP what the PIN opens.
An SM error answers ``69 87`` (objects missing) or ``69 88`` (objects wrong) in plain and ends the session
and the rights it carried.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mynacard.apdu.applets import nextgen
from mynacard.apdu.command import CommandApdu
from mynacard.apdu.readers.base import Reader
from mynacard.apdu.readers.processors import ProcessedReader
from mynacard.apdu.readers.secure import SecureMessagingProcessor, establish_pace
from mynacard.apdu.response import ResponseApdu
from mynacard.apdu.sm import PacePassword, PaceRefusedError, PasswordReference, SmSession
from mynacard.emulator.card import Card
from mynacard.emulator.issuance.personas import load_persona
from mynacard.emulator.store.loading import load_card
from mynacard.emulator.store.state import StateStore
from mynacard.tools.harness.suites.helpers import (
    OK,
    SECURITY_NOT_SATISFIED,
    apdu,
    expect,
    hx,
    read_current_ef,
    select_aid,
    select_ef,
    stored_file,
    with_pace,
)

pytestmark = [
    pytest.mark.applies_to("nextgen-2026"),
    pytest.mark.capability("secure-messaging"),
    pytest.mark.clause("nextgen-2026 §4; ICAO 9303-11 §4.4, §9.8 (PACE, SM)"),
]

PERSONA = load_persona("default")
B = (PasswordReference.CAN, PERSONA.verification_number_b6)
A = (PasswordReference.VERIFICATION_CODE_A, PERSONA.my_number)
PIN = (PasswordReference.PIN, PERSONA.auth_pin)

CARD_ACCESS = hx("31 14 30 12 06 0A 04 00 7F 00 07 02 02 04 02 04 02 01 02 02 01 0F")
"""SET { PACEInfo { id-PACE-ECDH-GM-AES-CBC-CMAC-256 (0.4.0.127.0.7.2.2.4.2.4), version 2, id 15 } }."""

SM_MISSING = 0x6987
SM_INCORRECT = 0x6988
CONDITIONS = 0x6985
WRONG_DATA = 0x6A80


@pytest.fixture
def state(card_state_factory: Callable[..., Path]) -> Path:
    return card_state_factory()


@pytest.fixture
def plain(state: Path, reader_for: Callable[[Card], Reader]) -> Reader:
    """A fresh card at MF level, no session."""
    return reader_for(load_card(StateStore(state)))


def face(reader: Reader, password: tuple[PasswordReference, str]) -> ProcessedReader:
    return with_pace(reader, nextgen.FACE_AID, *password)


def session_of(protected: ProcessedReader) -> SmSession:
    processor = protected.processors[0]
    assert isinstance(processor, SecureMessagingProcessor) and processor.session is not None
    return processor.session


def wire(protected: ProcessedReader, raw: bytes) -> tuple[bytes, int]:
    """Send ``raw`` below the SM processor: what the card answers on the wire."""
    response = protected.reader.transmit(raw)
    return response.data, response.sw


def test_ef_card_access_is_free_to_read_at_mf_level(plain: Reader) -> None:
    select_ef(plain, 0x011C)
    assert read_current_ef(plain) == CARD_ACCESS


def test_the_face_ap_refuses_every_plain_command_after_select(plain: Reader) -> None:
    select_aid(plain, nextgen.FACE_AID)
    reference = nextgen.reference(nextgen.VERIFICATION_NUMBER_B)
    for command in (
        apdu("00 A4 02 0C", hx("00 01")),
        "00 B0 81 00 00",
        apdu(f"00 20 00 {reference:02X}", PERSONA.verification_number_b6.encode()),
        f"00 20 00 {reference:02X}",
    ):
        expect(plain, command, SECURITY_NOT_SATISFIED, b"")


@pytest.mark.parametrize(
    ("password", "opened"),
    [(B, {0x0001, 0x0003}), (A, {0x0001, 0x0002, 0x0003, 0x0004})],
    ids=["B", "A"],
)
def test_pace_opens_what_its_password_opens(
    plain: Reader, state: Path, password: tuple[PasswordReference, str], opened: set[int]
) -> None:
    protected = face(plain, password)
    for fid in (0x0001, 0x0002, 0x0003, 0x0004, 0x0005):
        select_ef(protected, fid)
        if fid in opened or fid == 0x0005:
            assert read_current_ef(protected) == stored_file(state, "face", fid)
        else:
            expect(protected, "00 B0 00 00 01", SECURITY_NOT_SATISFIED, b"")


def test_pace_with_the_pin_in_the_auth_ap_opens_what_the_pin_opens(plain: Reader, state: Path) -> None:
    protected = with_pace(plain, nextgen.AUTH_AID, *PIN)
    select_ef(protected, nextgen.MY_NUMBER)
    assert read_current_ef(protected) == stored_file(state, "auth", nextgen.MY_NUMBER)
    select_ef(protected, nextgen.SIGN_CERTIFICATE)  # the signature password's, not the PIN's
    expect(protected, "00 B0 00 00 01", SECURITY_NOT_SATISFIED, b"")


def test_the_auth_ap_also_answers_plain(plain: Reader, state: Path) -> None:
    select_aid(plain, nextgen.AUTH_AID)
    select_ef(plain, nextgen.SIGN_CA_CERTIFICATE)
    assert read_current_ef(plain) == stored_file(state, "auth", nextgen.SIGN_CA_CERTIFICATE)


def test_a_protected_answer_is_87_99_8e_with_ne_applied_before_the_wrap(plain: Reader) -> None:
    protected = face(plain, B)
    select_ef(protected, 0x0005)
    command = session_of(protected).wrap_command(CommandApdu(0x00, 0xB0, 0x00, 0x00, ne=16))
    data, sw = wire(protected, command.to_bytes())
    assert sw == OK
    # 16 plain bytes + padding = 2 AES blocks: 87 21 01 <32>, 99 02 90 00, 8E 08 <8>
    assert (data[:3], data[35:39], data[39:41], len(data)) == (
        hx("87 21 01"),
        hx("99 02 90 00"),
        hx("8E 08"),
        49,
    )
    assert session_of(protected).unwrap_response(ResponseApdu(data, sw)).data == read_prefix(protected, 16)


def test_a_256_byte_read_under_sm(plain: Reader, state: Path) -> None:
    protected = face(plain, A)
    select_ef(protected, 0x0001)
    answer = expect(protected, "00 B0 00 00 00", OK)
    assert answer.data == stored_file(state, "face", 0x0001)[:256]


def test_a_chained_verify_under_sm_is_joined(plain: Reader) -> None:
    protected = face(plain, A)
    reference = nextgen.reference(nextgen.VERIFICATION_NUMBER_B)
    value = PERSONA.verification_number_b6.encode()
    expect(protected, apdu(f"10 20 00 {reference:02X}", value[:3]), OK, b"")
    expect(protected, apdu(f"00 20 00 {reference:02X}", value[3:]), OK, b"")


@pytest.mark.destructive
def test_a_wrong_verification_number_costs_a_try_and_a_right_one_restores_them(plain: Reader) -> None:
    select_ef(plain, 0x011C)
    select_aid(plain, nextgen.FACE_AID)
    processor = SecureMessagingProcessor()
    protected = ProcessedReader(plain, [processor])
    for tries_left in (9, 8):
        with pytest.raises(PaceRefusedError) as refused:
            establish_pace(
                protected, processor, CARD_ACCESS, PacePassword.digits(PasswordReference.CAN, "000000")
            )
        assert refused.value.sw == 0x63C0 | tries_left
        assert not processor.active
    establish_pace(protected, processor, CARD_ACCESS, PacePassword.digits(*B))
    with pytest.raises(PaceRefusedError) as refused:
        establish_pace(
            protected, processor, CARD_ACCESS, PacePassword.digits(PasswordReference.CAN, "000000")
        )
    assert refused.value.sw == 0x63C9  # the right password gave every try back


def test_a_flipped_mac_bit_is_69_88_and_ends_the_session(plain: Reader) -> None:
    protected = face(plain, B)
    session = session_of(protected)
    command = bytearray(session.wrap_command(CommandApdu(0x00, 0xA4, 0x02, 0x0C, hx("00 01"))).to_bytes())
    command[-2] ^= 0x01  # the last MAC byte (the outer Le follows)
    assert wire(protected, bytes(command)) == (b"", SM_INCORRECT)
    # the card forgot the session: a correctly wrapped command (the next SSC) finds none, and no right stays
    again = session.wrap_command(CommandApdu(0x00, 0xA4, 0x02, 0x0C, hx("00 01")))
    assert wire(protected, again.to_bytes()) == (b"", SM_INCORRECT)
    assert wire(protected, hx("00 A4 02 0C 02 00 01")) == (b"", SECURITY_NOT_SATISFIED)


@pytest.mark.parametrize(
    "field", ["cryptogram", "le", "mac-object-tag"], ids=["flip-cryptogram", "flip-le", "no-mac"]
)
def test_a_damaged_sm_field_ends_the_session(plain: Reader, field: str) -> None:
    protected = face(plain, B)
    session = session_of(protected)
    command = session.wrap_command(CommandApdu(0x00, 0xB0, 0x00, 0x00, hx("01 02 03"), ne=16))
    body = bytearray(command.data)  # 87 11 01 <16> 97 01 10 8E 08 <8>
    expected = SM_INCORRECT
    if field == "cryptogram":
        body[5] ^= 0x80
    elif field == "le":
        body[21] ^= 0x01
    else:
        body = body[:22]  # without 8E
        expected = SM_MISSING
    raw = bytes(command.to_bytes()[:4]) + bytes((len(body),)) + bytes(body) + b"\x00"
    assert wire(protected, raw) == (b"", expected)
    assert wire(protected, hx("00 A4 02 0C 02 00 01")) == (b"", SECURITY_NOT_SATISFIED)


def test_a_replayed_command_is_69_88(plain: Reader) -> None:
    protected = face(plain, B)
    command = session_of(protected).wrap_command(CommandApdu(0x00, 0xA4, 0x02, 0x0C, hx("00 01"))).to_bytes()
    assert wire(protected, command)[1] == OK
    assert wire(protected, command) == (b"", SM_INCORRECT)


def test_a_dropped_response_puts_the_sscs_apart_and_ends_the_session(plain: Reader) -> None:
    protected = face(plain, B)
    session = session_of(protected)
    first = session.wrap_command(CommandApdu(0x00, 0xA4, 0x02, 0x0C, hx("00 01")))
    assert wire(protected, first.to_bytes())[1] == OK  # the terminal never unwraps this answer
    second = session.wrap_command(CommandApdu(0x00, 0xA4, 0x02, 0x0C, hx("00 03")))
    assert wire(protected, second.to_bytes()) == (b"", SM_INCORRECT)


def test_a_plain_command_ends_the_session(plain: Reader) -> None:
    protected = face(plain, B)
    session = session_of(protected)
    assert wire(protected, hx("00 A4 02 0C 02 00 01")) == (b"", SECURITY_NOT_SATISFIED)
    command = session.wrap_command(CommandApdu(0x00, 0xA4, 0x02, 0x0C, hx("00 01")))
    assert wire(protected, command.to_bytes()) == (b"", SM_INCORRECT)


def test_a_protected_command_without_a_session_is_69_88(plain: Reader) -> None:
    select_aid(plain, nextgen.FACE_AID)
    expect(plain, "0C B0 00 00 0D 97 01 10 8E 08 00 00 00 00 00 00 00 00 00", SM_INCORRECT, b"")


def test_pace_steps_out_of_order_are_69_85_and_leave_nothing_behind(plain: Reader) -> None:
    select_aid(plain, nextgen.FACE_AID)
    expect(plain, "10 86 00 00 02 7C 00 00", CONDITIONS, b"")  # no MSE:Set AT
    mse = "00 22 C1 A4 0F 80 0A 04 00 7F 00 07 02 02 04 02 04 83 01 02"
    expect(plain, mse, OK, b"")
    expect(plain, "00 86 00 00 02 7C 00 00", CONDITIONS, b"")  # step 1 must be chained
    expect(plain, "10 86 00 00 02 7C 00 00", CONDITIONS, b"")  # the failed run is gone
    expect(plain, mse, OK, b"")
    expect(plain, "10 86 00 00 02 7C 00 00", OK)
    expect(plain, "10 86 00 00 02 7C 00 00", CONDITIONS, b"")  # step 1 repeated
    processor = SecureMessagingProcessor()
    protected = ProcessedReader(plain, [processor])
    establish_pace(protected, processor, CARD_ACCESS, PacePassword.digits(*B))
    select_ef(protected, 0x0001)


@pytest.mark.parametrize(
    "mapping",
    [
        "04" + "00" * 96,  # not on the curve
        "",  # zero-length object
        "04" + "11" * 300,  # oversized
    ],
    ids=["off-curve", "zero-length", "oversized"],
)
def test_bad_mapping_data_is_6a_80(plain: Reader, mapping: str) -> None:
    select_aid(plain, nextgen.FACE_AID)
    expect(plain, "00 22 C1 A4 0F 80 0A 04 00 7F 00 07 02 02 04 02 04 83 01 02", OK, b"")
    expect(plain, "10 86 00 00 02 7C 00 00", OK)
    point = hx(mapping)
    inner = bytes((0x81,)) + _length(len(point)) + point
    data = bytes((0x7C,)) + _length(len(inner)) + inner
    command = CommandApdu(0x10, 0x86, 0x00, 0x00, data, 256).to_bytes()
    expect(plain, command, WRONG_DATA, b"")
    expect(plain, "10 86 00 00 02 7C 00 00", CONDITIONS, b"")  # the run was aborted


def _length(n: int) -> bytes:
    return bytes((n,)) if n < 0x80 else bytes((0x81, n)) if n < 0x100 else bytes((0x82, n >> 8, n & 0xFF))


def read_prefix(protected: Reader, n: int) -> bytes:
    return expect(protected, f"00 B0 00 00 {n:02X}", OK).data
