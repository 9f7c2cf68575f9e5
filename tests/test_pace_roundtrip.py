"""PACE terminal ↔ chip for every curve and cipher suite, then secure messaging under the new keys.

ICAO Doc 9303-11 §4.4 with fresh random nonces and keys (``secrets``); the APDUs cross as bytes, so the
exact framing (CLA 10/00, Le 00) is exercised too. A wrong password fails at the tokens (step 4).
"""

from __future__ import annotations

import pytest

from mynacard.apdu.command import CommandApdu
from mynacard.apdu.response import ResponseApdu
from mynacard.apdu.sm import (
    ID_PACE_ECDH_GM_AES_CBC_CMAC_256,
    NIST_P384,
    PACE_PROTOCOLS,
    STANDARDIZED_DOMAIN_PARAMETERS,
    DomainParameters,
    MseSetAt,
    PaceAuthenticationError,
    PaceChip,
    PaceInfo,
    PacePassword,
    PaceProtocol,
    PaceRefusedError,
    PaceStateError,
    PaceTerminal,
    PasswordReference,
    encode_card_access,
)
from mynacard.apdu.status import SW

CURVES = [pytest.param(d, id=d.name) for d in STANDARDIZED_DOMAIN_PARAMETERS.values()]
PROTOCOLS = [pytest.param(p, id=p.suite.name) for p in PACE_PROTOCOLS]
CAN = PacePassword.digits(PasswordReference.CAN, "123456")  # TEST 照合番号B
READ_256 = CommandApdu.from_bytes(bytes.fromhex("00B0000000"))


def run(terminal: PaceTerminal, chip: PaceChip) -> list[bytes]:
    """Four GENERAL AUTHENTICATE exchanges as raw APDUs; returns the commands sent."""
    sent = []
    for _ in range(4):
        wire = terminal.command().to_bytes()
        sent.append(wire)
        command = CommandApdu.from_bytes(wire)
        assert command.cla == (0x00 if chip.final_step_due else 0x10)
        terminal.process(ResponseApdu(chip.respond(command.data), SW.OK))
    return sent


def read_binary_under_sm(terminal: PaceTerminal, chip: PaceChip) -> None:
    pcd, picc = terminal.secure_messaging(), chip.secure_messaging()
    content = bytes(range(256))
    command = picc.unwrap_command(CommandApdu.from_bytes(pcd.wrap_command(READ_256).to_bytes()))
    assert command == READ_256
    answer = pcd.unwrap_response(ResponseApdu.from_bytes(picc.wrap_response(content, SW.OK).to_bytes()))
    assert answer == ResponseApdu(content, SW.OK)


@pytest.mark.parametrize("parameters", CURVES)
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_pace_then_secure_messaging(parameters: DomainParameters, protocol: PaceProtocol) -> None:
    terminal = PaceTerminal(protocol, parameters, CAN)
    chip = PaceChip(protocol, parameters, CAN)
    sent = run(terminal, chip)
    point = 1 + 2 * parameters.field_size
    assert [len(c) for c in sent] == [8, 10 + point, 10 + point, 18]  # header, Lc, 7C L, 8x L, point, Le
    assert terminal.established and chip.established
    assert repr(terminal.session_keys()) == repr(chip.session_keys())
    read_binary_under_sm(terminal, chip)


@pytest.mark.parametrize(
    ("reference", "digits"),
    [
        (PasswordReference.CAN, "123456"),
        (PasswordReference.PIN, "1234"),
        (PasswordReference.VERIFICATION_CODE_A, "123456789012"),
        (PasswordReference.PUK, "87654321"),
    ],
)
def test_every_password_kind(reference: PasswordReference, digits: str) -> None:
    password = PacePassword.digits(reference, digits)
    terminal = PaceTerminal(ID_PACE_ECDH_GM_AES_CBC_CMAC_256, NIST_P384, password)
    chip = PaceChip(ID_PACE_ECDH_GM_AES_CBC_CMAC_256, NIST_P384, password)
    run(terminal, chip)
    assert chip.password_reference is reference
    read_binary_under_sm(terminal, chip)


def test_the_nextgen_terminal_starts_from_ef_card_access() -> None:
    card_access = encode_card_access([PaceInfo(ID_PACE_ECDH_GM_AES_CBC_CMAC_256, 15)])
    assert card_access == bytes.fromhex("31143012060A04007F00070202040204020102 02010F".replace(" ", ""))
    terminal = PaceTerminal.from_card_access(card_access, CAN)
    assert terminal.mse_set_at().to_bytes() == bytes.fromhex("0022C1A412800A04007F0007020204020483010284010F")
    mse = MseSetAt.from_data(terminal.mse_set_at().data)
    chip = PaceChip(mse.protocol, NIST_P384, CAN)
    run(terminal, chip)
    read_binary_under_sm(terminal, chip)


def test_a_wrong_password_fails_at_the_terminal_token() -> None:
    terminal = PaceTerminal(ID_PACE_ECDH_GM_AES_CBC_CMAC_256, NIST_P384, CAN)
    chip = PaceChip(
        ID_PACE_ECDH_GM_AES_CBC_CMAC_256, NIST_P384, PacePassword.digits(PasswordReference.CAN, "654321")
    )
    for _ in range(3):
        terminal.process_response(chip.respond(terminal.command_data()))
    with pytest.raises(PaceAuthenticationError) as raised:
        chip.respond(terminal.command_data())
    assert raised.value.sw == SW.NO_RETRY_LIMIT
    assert chip.failed and not chip.established
    with pytest.raises(PaceStateError):
        chip.session_keys()
    with pytest.raises(PaceRefusedError) as refused:
        terminal.process(ResponseApdu(b"", 0x63C2))
    assert refused.value.sw == 0x63C2
    assert terminal.failed


def test_a_wrong_chip_token_fails_at_the_terminal() -> None:
    terminal = PaceTerminal(ID_PACE_ECDH_GM_AES_CBC_CMAC_256, NIST_P384, CAN)
    chip = PaceChip(ID_PACE_ECDH_GM_AES_CBC_CMAC_256, NIST_P384, CAN)
    for _ in range(3):
        terminal.process_response(chip.respond(terminal.command_data()))
    answer = bytearray(chip.respond(terminal.command_data()))
    answer[-1] ^= 0x01
    with pytest.raises(PaceAuthenticationError):
        terminal.process_response(bytes(answer))
    assert terminal.failed
    with pytest.raises(PaceStateError):
        terminal.secure_messaging()


def test_no_state_leaks_from_a_failed_run_into_the_next() -> None:
    wrong = PacePassword.digits(PasswordReference.CAN, "000000")
    failed = PaceChip(ID_PACE_ECDH_GM_AES_CBC_CMAC_256, NIST_P384, CAN)
    terminal = PaceTerminal(ID_PACE_ECDH_GM_AES_CBC_CMAC_256, NIST_P384, wrong)
    for _ in range(3):
        terminal.process_response(failed.respond(terminal.command_data()))
    with pytest.raises(PaceAuthenticationError):
        failed.respond(terminal.command_data())
    with pytest.raises(PaceStateError):
        failed.respond(bytes.fromhex("7C00"))
    terminal = PaceTerminal(ID_PACE_ECDH_GM_AES_CBC_CMAC_256, NIST_P384, CAN)
    chip = PaceChip(ID_PACE_ECDH_GM_AES_CBC_CMAC_256, NIST_P384, CAN)
    run(terminal, chip)
    read_binary_under_sm(terminal, chip)


def test_pace_reprs_hide_the_password() -> None:
    terminal = PaceTerminal(ID_PACE_ECDH_GM_AES_CBC_CMAC_256, NIST_P384, CAN)
    chip = PaceChip(ID_PACE_ECDH_GM_AES_CBC_CMAC_256, NIST_P384, CAN)
    run(terminal, chip)
    for text in (repr(terminal), repr(chip), repr(CAN), repr(terminal.session_keys())):
        assert "123456" not in text
        assert "313233343536" not in text.replace(" ", "")
    assert repr(chip) == "PaceChip(id-PACE-ECDH-GM-AES-CBC-CMAC-256, NIST P-384, CAN, established)"
