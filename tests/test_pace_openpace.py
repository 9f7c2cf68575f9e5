"""Interoperability with OpenPACE (libeac, the PACE of OpenSC and vsmartcard), both directions, and
an OpenPACE terminal against the emulated nextgen-2026 card itself.

``tools/dev/openpace/pace_peer.c`` is built here with gcc against Debian's ``libeac-dev`` and runs OpenPACE
as a PACE terminal or chip over a pipe (one hex APDU a line). Our ``PaceChip`` then completes PACE with an
OpenPACE terminal, and our ``PaceTerminal`` with an OpenPACE chip, each followed by SM SELECT and SM READ
BINARY. EF.CardAccess is ours too, so OpenPACE also parses our PACEInfo. In CI (``CI=true``) a missing
libeac or compiler fails these tests instead of skipping them (issue 10).
"""

from __future__ import annotations

import selectors
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from mynacard.apdu.applets import nextgen
from mynacard.apdu.command import CommandApdu
from mynacard.apdu.readers.processors import ProcessedReader
from mynacard.apdu.readers.secure import SecureMessagingProcessor, establish_pace, read_card_access
from mynacard.apdu.readers.virtual import VirtualReader
from mynacard.apdu.response import ResponseApdu
from mynacard.apdu.sm import (
    BRAINPOOL_P256R1,
    BRAINPOOL_P384R1,
    ID_PACE_ECDH_GM_3DES_CBC_CBC,
    ID_PACE_ECDH_GM_AES_CBC_CMAC_128,
    ID_PACE_ECDH_GM_AES_CBC_CMAC_192,
    ID_PACE_ECDH_GM_AES_CBC_CMAC_256,
    NIST_P256,
    NIST_P384,
    DomainParameters,
    MseSetAt,
    PaceAuthenticationError,
    PaceChip,
    PaceInfo,
    PacePassword,
    PaceProtocol,
    PaceRefusedError,
    PaceTerminal,
    PasswordReference,
    SmSession,
    domain_parameters,
    encode_card_access,
)
from mynacard.apdu.status import SW
from mynacard.emulator.issuance.personalise import open_card
from mynacard.emulator.issuance.personas import load_persona
from mynacard.tools.harness.plugin import unavailable

SOURCE = Path(__file__).resolve().parent.parent / "tools" / "dev" / "openpace" / "pace_peer.c"
OPENPACE_CAN = 2  # enum s_type PACE_CAN
CAN_DIGITS = "123456"  # TEST 照合番号B
FILE = bytes((i * 7) & 0xFF for i in range(200))
SELECT_EF_CARD_ACCESS = CommandApdu.from_bytes(bytes.fromhex("00A4020C02011C"))
READ_BINARY = CommandApdu.from_bytes(bytes.fromhex("00B0000000"))
TIMEOUT = 20.0

SUITES = [
    pytest.param(NIST_P256, ID_PACE_ECDH_GM_AES_CBC_CMAC_128, id="P-256-AES-128"),
    pytest.param(NIST_P384, ID_PACE_ECDH_GM_AES_CBC_CMAC_256, id="P-384-AES-256"),
    pytest.param(BRAINPOOL_P256R1, ID_PACE_ECDH_GM_AES_CBC_CMAC_192, id="brainpoolP256r1-AES-192"),
    pytest.param(BRAINPOOL_P384R1, ID_PACE_ECDH_GM_3DES_CBC_CBC, id="brainpoolP384r1-3DES"),
]


@pytest.fixture(scope="module")
def pace_peer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The peer program, compiled once per run into a temporary directory."""
    gcc = shutil.which("gcc")
    if gcc is None:
        unavailable("gcc is missing (Debian package gcc; tools/dev/pcsc-packages.sh installs it)")
    if not Path("/usr/include/eac/pace.h").exists():
        unavailable("OpenPACE is missing (Debian packages libeac3, libeac-dev; tools/dev/pcsc-packages.sh)")
    binary = tmp_path_factory.mktemp("openpace") / "pace_peer"
    command = [gcc, "-std=c11", "-Wall", "-Wextra", "-Werror", "-O1", str(SOURCE), "-o", str(binary)]
    built = subprocess.run([*command, "-leac", "-lcrypto"], capture_output=True, text=True, timeout=120)
    if built.returncode != 0:
        pytest.fail(f"pace_peer.c does not build:\n{built.stderr}", pytrace=False)
    return binary


class Peer:
    """The OpenPACE process: lines of hex in and out, with a deadline on every read."""

    def __init__(self, binary: Path, *args: str) -> None:
        self.process = subprocess.Popen(
            [str(binary), *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._selector = selectors.DefaultSelector()
        assert self.process.stdout is not None
        self._selector.register(self.process.stdout, selectors.EVENT_READ)

    def read_line(self) -> str:
        if not self._selector.select(TIMEOUT):
            raise AssertionError("OpenPACE peer timed out")
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if not line:
            assert self.process.stderr is not None
            raise AssertionError(f"OpenPACE peer ended: {self.process.stderr.read()}")
        return line

    def write_line(self, data: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(data.hex().upper() + "\n")
        self.process.stdin.flush()

    def transmit(self, command: bytes) -> ResponseApdu:
        self.write_line(command)
        return ResponseApdu.from_bytes(bytes.fromhex(self.read_line()))

    def close(self) -> int:
        if self.process.stdin:
            self.process.stdin.close()
        try:
            return self.process.wait(TIMEOUT)
        finally:
            self._selector.close()
            for stream in (self.process.stdout, self.process.stderr):
                if stream:
                    stream.close()


@pytest.fixture
def peers(pace_peer: Path) -> Iterator[list[Peer]]:
    started: list[Peer] = []
    yield started
    for peer in started:
        if peer.process.poll() is None:
            peer.process.kill()
        peer.close()


def card_access(parameters: DomainParameters, protocol: PaceProtocol) -> bytes:
    return encode_card_access([PaceInfo(protocol, parameters.parameter_id)])


class OurCard:
    """The card side a test plays around ``PaceChip`` and ``SmSession`` (MSE, GA, SM SELECT/READ BINARY)."""

    def __init__(self, password: PacePassword) -> None:
        self.password = password
        self.chip: PaceChip | None = None
        self.sm: SmSession | None = None

    def process(self, raw: bytes) -> bytes:
        command = CommandApdu.from_bytes(raw)
        if self.sm is not None:
            return self._secure(command)
        if command.ins == 0x22:
            mse = MseSetAt.from_data(command.data)
            assert mse.password is self.password.reference and mse.parameter_id is not None
            self.chip = PaceChip(mse.protocol, domain_parameters(mse.parameter_id), self.password)
            return SW.OK.bytes
        assert self.chip is not None and command.ins == 0x86
        assert command.cla == (0x00 if self.chip.final_step_due else 0x10)
        answer = self.chip.respond(command.data)
        if self.chip.established:
            self.sm = self.chip.secure_messaging()
        return answer + SW.OK.bytes

    def _secure(self, command: CommandApdu) -> bytes:
        assert self.sm is not None
        plain = self.sm.unwrap_command(command)
        if plain == SELECT_EF_CARD_ACCESS:
            return self.sm.wrap_response(b"", SW.OK).to_bytes()
        assert plain == READ_BINARY
        return self.sm.wrap_response(FILE[: plain.ne], SW.OK).to_bytes()


@pytest.mark.parametrize(("parameters", "protocol"), SUITES)
def test_openpace_terminal_with_our_chip(
    pace_peer: Path, peers: list[Peer], parameters: DomainParameters, protocol: PaceProtocol
) -> None:
    card = OurCard(PacePassword.digits(PasswordReference.CAN, CAN_DIGITS))
    peer = Peer(pace_peer, "terminal", card_access(parameters, protocol).hex(), str(OPENPACE_CAN), CAN_DIGITS)
    peers.append(peer)
    commands = []
    while (line := peer.read_line()).startswith("C "):
        commands.append(bytes.fromhex(line[2:]))
        peer.write_line(card.process(commands[-1]))
    assert line == f"OK {FILE.hex().upper()}"
    assert peer.close() == 0
    assert (
        commands[0]
        == MseSetAt(protocol, PasswordReference.CAN, parameters.parameter_id).to_command().to_bytes()
    )
    assert [c[:2] for c in commands[1:]] == [b"\x10\x86"] * 3 + [b"\x00\x86", b"\x0c\xa4", b"\x0c\xb0"]
    assert card.chip is not None and card.chip.established


@pytest.mark.parametrize(("parameters", "protocol"), SUITES)
def test_our_terminal_with_an_openpace_chip(
    pace_peer: Path, peers: list[Peer], parameters: DomainParameters, protocol: PaceProtocol
) -> None:
    ef = card_access(parameters, protocol)
    peer = Peer(pace_peer, "chip", ef.hex(), str(OPENPACE_CAN), CAN_DIGITS, FILE.hex())
    peers.append(peer)
    terminal = PaceTerminal.from_card_access(ef, PacePassword.digits(PasswordReference.CAN, CAN_DIGITS))
    assert peer.transmit(terminal.mse_set_at().to_bytes()).sw == SW.OK
    for _ in range(4):
        terminal.process(peer.transmit(terminal.command().to_bytes()))
    assert terminal.established
    sm = terminal.secure_messaging()
    selected = sm.unwrap_response(peer.transmit(sm.wrap_command(SELECT_EF_CARD_ACCESS).to_bytes()))
    assert selected == ResponseApdu(b"", SW.OK)
    read = sm.unwrap_response(peer.transmit(sm.wrap_command(READ_BINARY).to_bytes()))
    assert read == ResponseApdu(FILE, SW.OK)
    assert sm.ssc == 4
    assert peer.close() == 0


def test_openpace_chip_refuses_our_token_under_a_wrong_password(pace_peer: Path, peers: list[Peer]) -> None:
    ef = card_access(NIST_P384, ID_PACE_ECDH_GM_AES_CBC_CMAC_256)
    peer = Peer(pace_peer, "chip", ef.hex(), str(OPENPACE_CAN), CAN_DIGITS, FILE.hex())
    peers.append(peer)
    terminal = PaceTerminal.from_card_access(ef, PacePassword.digits(PasswordReference.CAN, "654321"))
    peer.transmit(terminal.mse_set_at().to_bytes())
    for _ in range(3):
        terminal.process(peer.transmit(terminal.command().to_bytes()))
    with pytest.raises(PaceRefusedError) as raised:
        terminal.process(peer.transmit(terminal.command().to_bytes()))
    assert raised.value.sw == 0x6300


def test_our_chip_refuses_the_openpace_token_under_a_wrong_password(
    pace_peer: Path, peers: list[Peer]
) -> None:
    card = OurCard(PacePassword.digits(PasswordReference.CAN, "654321"))
    ef = card_access(NIST_P256, ID_PACE_ECDH_GM_AES_CBC_CMAC_128)
    peer = Peer(pace_peer, "terminal", ef.hex(), str(OPENPACE_CAN), CAN_DIGITS)
    peers.append(peer)
    for _ in range(4):
        peer.write_line(card.process(bytes.fromhex(peer.read_line()[2:])))
    with pytest.raises(PaceAuthenticationError) as raised:
        card.process(bytes.fromhex(peer.read_line()[2:]))
    assert raised.value.sw == SW.NO_RETRY_LIMIT


# -- an OpenPACE terminal against our card (the emulator, not only the protocol) ----------------------------

PERSONA = load_persona("default")
CARD_SUITES = [
    pytest.param("id-PACE-ECDH-GM-AES-CBC-CMAC-128", NIST_P256, id="P-256-AES-128"),
    pytest.param("id-PACE-ECDH-GM-AES-CBC-CMAC-256", NIST_P384, id="P-384-AES-256"),
]


def nextgen_card(tmp_path: Path, protocol: str, parameters: DomainParameters) -> VirtualReader:
    """A nextgen-2026 card whose EF.CardAccess offers exactly ``protocol`` on ``parameters``."""
    profile = tmp_path / "pace-variant.toml"
    profile.write_text(
        '[profile]\nname = "pace-variant"\ndescription = "test: one PACE suite"\nextends = "nextgen-2026"\n'
        f'[pace]\nprotocols = [{{ protocol = "{protocol}", parameter_id = {parameters.parameter_id} }}]\n'
    )
    reader = VirtualReader(open_card(profile, "default", None))
    reader.power_on()
    return reader


def run_openpace_terminal(
    binary: Path, peers: list[Peer], reader: VirtualReader, can: str
) -> tuple[str, Peer]:
    """Plain EF.CardAccess read and SELECT of the 券面等AP, then OpenPACE takes over the card."""
    card_access = read_card_access(reader)
    assert reader.transmit(CommandApdu(0x00, 0xA4, 0x04, 0x0C, nextgen.FACE_AID).to_bytes()).sw == SW.OK
    peer = Peer(binary, "terminal", card_access.hex(), str(OPENPACE_CAN), can, "0001")
    peers.append(peer)
    while (line := peer.read_line()).startswith("C "):
        peer.write_line(reader.transmit(bytes.fromhex(line[2:])).to_bytes())
    return line, peer


def front_record_head(reader: VirtualReader) -> bytes:
    """The first 256 bytes of the front record, read by our own terminal in a new session."""
    reader.power_on()
    processor = SecureMessagingProcessor()
    protected = ProcessedReader(reader, [processor])
    card_access = read_card_access(protected)
    assert protected.transmit(CommandApdu(0x00, 0xA4, 0x04, 0x0C, nextgen.FACE_AID).to_bytes()).sw == SW.OK
    password = PacePassword.digits(PasswordReference.CAN, PERSONA.verification_number_b6)
    establish_pace(protected, processor, card_access, password)
    assert protected.transmit(bytes.fromhex("00A4020C020001")).sw == SW.OK
    read = protected.transmit(bytes.fromhex("00B0000000"))
    assert read.sw == SW.OK and len(read.data) == 256
    return read.data


@pytest.mark.parametrize(("protocol", "parameters"), CARD_SUITES)
def test_an_openpace_terminal_reads_the_card_face_of_our_card(
    pace_peer: Path, peers: list[Peer], tmp_path: Path, protocol: str, parameters: DomainParameters
) -> None:
    reader = nextgen_card(tmp_path, protocol, parameters)
    line, peer = run_openpace_terminal(pace_peer, peers, reader, PERSONA.verification_number_b6)
    assert peer.close() == 0
    assert line == f"OK {front_record_head(reader).hex().upper()}"


def test_a_wrong_can_from_an_openpace_terminal_costs_our_card_a_try(
    pace_peer: Path, peers: list[Peer], tmp_path: Path
) -> None:
    reader = nextgen_card(tmp_path, "id-PACE-ECDH-GM-AES-CBC-CMAC-256", NIST_P384)
    wrong = "000000" if PERSONA.verification_number_b6 != "000000" else "111111"
    line, peer = run_openpace_terminal(pace_peer, peers, reader, wrong)
    assert line == "ERR GENERAL AUTHENTICATE answered 63C9"
    assert peer.close() == 1
    # the try was taken on the card: our own terminal's next wrong try sees 8 left, then the right CAN works
    reader.power_on()
    processor = SecureMessagingProcessor()
    protected = ProcessedReader(reader, [processor])
    card_access = read_card_access(protected)
    assert protected.transmit(CommandApdu(0x00, 0xA4, 0x04, 0x0C, nextgen.FACE_AID).to_bytes()).sw == SW.OK
    with pytest.raises(PaceRefusedError) as refused:
        establish_pace(protected, processor, card_access, PacePassword.digits(PasswordReference.CAN, wrong))
    assert refused.value.sw == 0x63C8
    assert len(front_record_head(reader)) == 256
