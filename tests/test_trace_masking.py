"""Exchange records: every command that can carry a secret is masked from byte 5 on before an observer or
a log sees it, by its instruction alone, whatever the card (issue 2 item 2, issue 8 item 5, architecture
rule 6); every other command and every response is recorded exactly."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from mynacard.apdu.readers.pcsc import PcscReader
from mynacard.apdu.readers.softcards import EchoCard, StaticCard
from mynacard.apdu.readers.virtual import VirtualReader
from mynacard.apdu.readers.vpcd import POWER_ON, VpcdBridge
from mynacard.apdu.trace import (
    MASK_BYTE,
    SECRET_INSTRUCTIONS,
    TRAFFIC,
    Exchange,
    carries_secret,
    mask_command,
    secret_span,
)
from mynacard.emulator.card import Card
from mynacard.tools.harness.pcsc import PcscStack

SELECT_JPKI = bytes.fromhex("00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01")
AUTH_PIN = b"1234"
SIGN_PASSWORD = b"TEST1234"


def h(text: str) -> bytes:
    return bytes.fromhex(text)


@pytest.fixture
def recorded(card: Card) -> tuple[VirtualReader, list[Exchange]]:
    reader = VirtualReader(card)
    reader.power_on()
    log: list[Exchange] = []
    reader.add_observer(log.append)
    return reader, log


def assert_no_secret(exchange: Exchange, secret: bytes) -> None:
    assert secret not in exchange.command
    assert secret.hex() not in exchange.command.hex()
    text = exchange.format()
    assert secret.hex(" ").upper() not in text
    assert secret.decode() not in text


def test_verify_is_recorded_masked(recorded: tuple[VirtualReader, list[Exchange]]) -> None:
    reader, log = recorded
    reader.transmit(SELECT_JPKI)
    assert reader.transmit(h("00 20 00 98 04") + AUTH_PIN).sw == 0x9000
    verify = log[-1]
    assert verify.command == h("00 20 00 98 2A 2A 2A 2A 2A")
    assert verify.masked
    assert verify.mask == (4, 9)
    assert verify.response == h("90 00")
    assert verify.command_text() == "00 20 00 98 ** ** ** ** **"
    assert verify.format() == "> 00 20 00 98 ** ** ** ** **\n< 90 00: success"
    assert_no_secret(verify, AUTH_PIN)


def test_sign_password_and_wrong_values_are_masked_too(
    recorded: tuple[VirtualReader, list[Exchange]],
) -> None:
    reader, log = recorded
    reader.transmit(SELECT_JPKI)
    reader.transmit(h("00 20 00 9B 08") + SIGN_PASSWORD)
    reader.transmit(h("00 A4 02 0C 02 00 1B"))
    reader.transmit(h("00 20 00 80 08") + b"WRONG999")
    right, wrong = log[1], log[3]
    assert right.command == h("00 20 00 9B") + bytes([MASK_BYTE]) * 9
    assert wrong.command == h("00 20 00 80") + b"*" * 9
    assert wrong.response == h("63 C4")
    assert wrong.format().endswith("< 63 C4: verification failed or counter query, 4 tries left")
    assert_no_secret(right, SIGN_PASSWORD)
    assert_no_secret(wrong, b"WRONG999")


def test_change_reference_data_is_masked(recorded: tuple[VirtualReader, list[Exchange]]) -> None:
    reader, log = recorded
    reader.transmit(SELECT_JPKI)
    reader.transmit(h("00 20 00 98 04") + AUTH_PIN)
    assert reader.transmit(h("00 24 01 98 04") + b"5678").sw == 0x9000
    change = log[-1]
    assert change.command == h("00 24 01 98 2A 2A 2A 2A 2A")
    assert change.command_text() == "00 24 01 98 ** ** ** ** **"
    assert_no_secret(change, b"5678")
    # old ‖ new in one field (P1 = 00) is one masked field
    reader.transmit(h("00 24 00 98 08") + b"56781234")
    assert log[-1].command == h("00 24 00 98") + b"*" * 9


SECRET_COMMANDS = [
    pytest.param("00 20 00 98 04 31323334", "00 20 00 98 2A2A2A2A2A", id="verify"),
    pytest.param("00 20 00 80 34 383237", "00 20 00 80 2A2A2A2A", id="verify-without-lc"),  # the leak
    pytest.param("00 21 00 98 06 7F2E03 313233", "00 21 00 98 2A2A2A2A2A2A2A", id="verify-odd"),
    pytest.param("00 24 01 98 04 35363738", "00 24 01 98 2A2A2A2A2A", id="change-reference-data"),
    pytest.param("00 25 01 98 04 35363738", "00 25 01 98 2A2A2A2A2A", id="change-reference-data-odd"),
    pytest.param("00 2C 00 98 08 3837363534333231", "00 2C 00 98 2A" + "2A" * 8, id="reset-retry-counter"),
    pytest.param(
        "00 2D 00 98 08 3837363534333231", "00 2D 00 98 2A" + "2A" * 8, id="reset-retry-counter-odd"
    ),
    pytest.param("00 26 00 98 04 31323334", "00 26 00 98 2A2A2A2A2A", id="disable-verification"),
    pytest.param("00 28 00 98 04 31323334", "00 28 00 98 2A2A2A2A2A", id="enable-verification"),
    pytest.param("80 32 00 80 04 31323334", "80 32 00 80 2A2A2A2A2A", id="change-key"),
    pytest.param("00 32 00 80 04 31323334", "00 32 00 80 2A2A2A2A2A", id="change-key-cla-00"),
    pytest.param("84 32 00 80 04 31323334", "84 32 00 80 2A2A2A2A2A", id="change-key-cla-84"),
    pytest.param("80 20 00 98 04 31323334", "80 20 00 98 2A2A2A2A2A", id="verify-proprietary-cla"),
    pytest.param("0C 20 00 98 04 31323334", "0C 20 00 98 2A2A2A2A2A", id="verify-sm-cla"),
    pytest.param("10 20 00 98 02 3132", "10 20 00 98 2A2A2A", id="verify-chained"),
    pytest.param("01 20 00 98 04 31323334", "01 20 00 98 2A2A2A2A2A", id="verify-channel-1"),
    pytest.param("80 AE 00 00 04 31323334", "80 AE 00 00 2A2A2A2A2A", id="set-session-key"),
    pytest.param("00 C2 00 00 09 0020009804 31323334", "00 C2 00 00 2A" + "2A" * 9, id="envelope"),
    pytest.param("00 20 00 98 00 0004 31323334", "00 20 00 98 2A2A2A 2A2A2A2A", id="extended-lc"),
    pytest.param("00 20 00 98 04 31323334 00", "00 20 00 98 2A 2A2A2A2A 2A", id="le-too"),
    pytest.param("00 20 00 98 08 31323334", "00 20 00 98 2A 2A2A2A2A", id="malformed"),
    pytest.param("00 20 00 98 00 31323334", "00 20 00 98 2A 2A2A2A2A", id="malformed-extended"),
    pytest.param("00 20 00 98 02 31323334", "00 20 00 98 2A 2A2A2A2A", id="malformed-short-lc"),
    pytest.param("00 20 00 98 31", "00 20 00 98 2A", id="one-byte-body"),
]
"""(sent, recorded): whatever the card makes of them, everything after CLA INS P1 P2 is masked."""

SECRET_DIGITS = ("31 32 33 34", "35 36 37 38", "38 37 36 35", "34 38 32 37", "34", "38 32 37")


def assert_all_masked(exchange: Exchange, recorded_as: str) -> None:
    assert exchange.command == h(recorded_as)
    assert exchange.masked
    assert exchange.mask == (4, len(exchange.command))
    text = exchange.command_text()
    assert text == " ".join([h(recorded_as)[:4].hex(" ").upper()] + ["**"] * (len(exchange.command) - 4))
    assert not any(digits in text for digits in SECRET_DIGITS)


@pytest.mark.parametrize(("command", "recorded_as"), SECRET_COMMANDS)
def test_every_secret_carrying_command_is_masked(
    recorded: tuple[VirtualReader, list[Exchange]], command: str, recorded_as: str
) -> None:
    reader, log = recorded
    response = reader.transmit(h(command))
    assert_all_masked(log[-1], recorded_as)
    assert log[-1].response == response.to_bytes()


@pytest.mark.parametrize(("command", "recorded_as"), SECRET_COMMANDS)
def test_masking_does_not_depend_on_the_card(command: str, recorded_as: str) -> None:
    """A card that implements none of these instructions gets them masked all the same."""
    reader = VirtualReader(EchoCard())
    reader.power_on()
    log: list[Exchange] = []
    reader.add_observer(log.append)
    response = reader.transmit(h(command))
    assert_all_masked(log[-1], recorded_as)
    assert log[-1].response == response.to_bytes()


@pytest.mark.parametrize(
    "command",
    [
        "00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01",
        "00 A4 02 0C 02 00 0A",
        "00 B0 00 00 04",
        "00 B0 8A 04 00 04 12",
        "00 84 00 00 08",
        "80 2A 00 97 04 31 32 33 34 00",  # data to sign is no secret
        "00 20 00 98",  # the empty VERIFY carries nothing
        "00 CA 5F 51 00",
        "00 A4",  # malformed commands are recorded as they came
        "00 20",  # a VERIFY cut short has no byte 5
        "00 22 C1 A4 0F 80 0A 04007F00070202040202 83 01 03",  # MSE:Set AT names the password by reference
        "10 86 00 00 02 7C00 00",  # GENERAL AUTHENTICATE, PACE step 1
        "10 86 00 00 45 7C43 8141 04" + "11" * 64 + " 00",  # mapping data: an ephemeral public key
        "00 86 00 00 0C 7C0A 8508 0102030405060708 00",  # the terminal's authentication token
        "00 87 00 00 04 7C02 8100 00",  # GENERAL AUTHENTICATE, odd INS
        "00 88 00 00 08 0102030405060708 00",  # INTERNAL AUTHENTICATE: a challenge
    ],
)
def test_other_commands_are_recorded_exactly(
    recorded: tuple[VirtualReader, list[Exchange]], command: str
) -> None:
    reader, log = recorded
    reader.transmit(SELECT_JPKI)
    response = reader.transmit(h(command))
    exchange = log[-1]
    assert exchange.command == h(command)
    assert not exchange.masked
    assert exchange.response == response.to_bytes()
    assert exchange.command_text() == h(command).hex(" ").upper()
    assert exchange.seconds >= 0


def test_responses_are_recorded_exactly(recorded: tuple[VirtualReader, list[Exchange]]) -> None:
    reader, log = recorded
    reader.transmit(SELECT_JPKI)
    response = reader.transmit(h("00 B0 8A 00 04"))
    assert log[-1].response == response.data + h("90 00")
    assert log[-1].format() == f"> 00 B0 8A 00 04\n< {response.data.hex(' ').upper()}  90 00: success"


def test_every_exchange_reaches_every_observer_until_removed(card: Card) -> None:
    reader = VirtualReader(card)
    reader.power_on()
    first: list[Exchange] = []
    second: list[Exchange] = []
    reader.add_observer(first.append)
    reader.add_observer(second.append)
    reader.transmit(SELECT_JPKI)
    reader.transmit(h("00 20 00 98 04") + AUTH_PIN)
    assert first == second and len(first) == 2
    reader.remove_observer(second.append)
    reader.transmit(h("00 84 00 00 08"))
    assert (len(first), len(second)) == (3, 2)


def test_record_and_mask_functions() -> None:
    assert carries_secret(h("00 20 00 98 04 31 32 33 34"))
    assert not carries_secret(h("00 20 00 98"))
    assert not carries_secret(h("00 B0 00 00 04"))
    assert not carries_secret(h("80 2A 00 97 01 00"))
    assert carries_secret(h("00 20 00 80 34 38 32 37"))
    assert carries_secret(h("00 32 00 80 01 31"))
    assert not carries_secret(h("00 86 00 00 02 7C 00 00"))
    assert mask_command(h("00 20 00 98")) == (h("00 20 00 98"), None)
    assert mask_command(h("00 20 00 98 01 31")) == (h("00 20 00 98 2A 2A"), (4, 6))
    assert secret_span(h("00 20 00 98 00 00 01 31")) == (4, 8)
    assert secret_span(h("00 A4 04 0C 01 31")) is None
    assert sorted(SECRET_INSTRUCTIONS) == [
        0x20,
        0x21,
        0x24,
        0x25,
        0x26,
        0x28,
        0x2C,
        0x2D,
        0x32,
        0xAE,
        0xC2,
        0xC3,
    ]
    exchange = Exchange.record(h("00 20 00 98 04 31 32 33 34"), h("63 C2"), 0.5)
    assert (exchange.command, exchange.masked, exchange.seconds) == (
        h("00 20 00 98 2A 2A 2A 2A 2A"),
        True,
        0.5,
    )
    assert (
        exchange.format()
        == "> 00 20 00 98 ** ** ** ** **\n< 63 C2: verification failed or counter query, 2 tries left"
    )
    assert Exchange(b"\x00", b"\x90").response_text() == "(malformed response 90)"


# -- through the vpcd bridge and through pcscd ------------------------------------------------------------

TRANSPORT_CASES = [
    ("00 20 00 80 34 383237", "> 00 20 00 80 ** ** ** **"),
    ("00 25 01 98 04 35363738", "> 00 25 01 98 ** ** ** ** **"),
    ("00 2D 00 98 04 38373635", "> 00 2D 00 98 ** ** ** ** **"),
    ("00 32 00 80 04 31323334", "> 00 32 00 80 ** ** ** ** **"),
    ("00 20 00 98 00 0004 31323334", "> 00 20 00 98 ** ** ** ** ** ** **"),
]
"""(sent, traced): the leaks of issue 8, each through the transports that record exchanges."""


class StandInVpcd:
    """vpcd's side of one slot, enough to exchange framed messages with a bridge."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(5)
        self.port: int = self.server.getsockname()[1]
        self.peer: socket.socket | None = None

    def accept(self) -> None:
        self.peer, _ = self.server.accept()
        self.peer.settimeout(5)

    def ask(self, payload: bytes) -> bytes:
        assert self.peer is not None
        self.peer.sendall(len(payload).to_bytes(2, "big") + payload)
        if len(payload) == 1:
            return b""
        header = self.peer.recv(2, socket.MSG_WAITALL)
        return self.peer.recv(header[0] << 8 | header[1], socket.MSG_WAITALL)

    def close(self) -> None:
        if self.peer is not None:
            self.peer.close()
        self.server.close()


@pytest.fixture
def bridged() -> Iterator[tuple[StandInVpcd, VpcdBridge]]:
    vpcd = StandInVpcd()
    bridge = VpcdBridge(StaticCard(), port_base=vpcd.port)  # answers 90 00: nothing echoed back
    bridge.start()
    vpcd.accept()
    vpcd.ask(bytes((POWER_ON,)))
    yield vpcd, bridge
    bridge.stop()
    vpcd.close()


def traffic_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == TRAFFIC]


@pytest.mark.parametrize(("command", "traced"), TRANSPORT_CASES)
def test_the_vpcd_bridge_masks_its_traffic_log_and_its_observers(
    bridged: tuple[StandInVpcd, VpcdBridge], caplog: pytest.LogCaptureFixture, command: str, traced: str
) -> None:
    vpcd, bridge = bridged
    seen: list[Exchange] = []
    bridge.add_observer(seen.append)
    caplog.set_level(TRAFFIC, logger="mynacard.apdu.readers.vpcd")
    response = vpcd.ask(h(command))
    assert [e.command_text() for e in seen] == [traced.removeprefix("> ")]
    assert seen[0].response == response
    assert traffic_lines(caplog) == [f"vpcd slot 0\n{traced}\n< {seen[0].response_text()}"]


@pytest.mark.pcsc
def test_pcsc_reader_observers_and_the_bridge_log_are_masked_through_pcscd(
    pcsc_stack: PcscStack, caplog: pytest.LogCaptureFixture
) -> None:
    pcsc_stack.insert(StaticCard())  # answers 90 00: nothing echoed back
    bridge_seen: list[Exchange] = []
    pcsc_stack.bridge.add_observer(bridge_seen.append)
    caplog.set_level(TRAFFIC, logger="mynacard.apdu.readers.vpcd")
    reader_seen: list[Exchange] = []
    try:
        with PcscReader(pcsc_stack.reader_name, host_processing=False) as reader:
            reader.power_on()
            reader.add_observer(reader_seen.append)
            responses = [reader.transmit_raw(h(command)) for command, _ in TRANSPORT_CASES]
    finally:
        pcsc_stack.bridge.remove_observer(bridge_seen.append)
    traced = [line.removeprefix("> ") for _, line in TRANSPORT_CASES]
    assert [e.command_text() for e in reader_seen] == traced
    assert [e.command_text() for e in bridge_seen] == traced
    assert [e.response for e in reader_seen] == responses
    assert [e.command for e in reader_seen] == [e.command for e in bridge_seen]
    logged = [line for line in traffic_lines(caplog) if "\n> " in line]
    assert [line.split("\n")[1] for line in logged] == [line for _, line in TRANSPORT_CASES]
    everything = "\n".join([*logged, *(e.format() for e in reader_seen + bridge_seen)])
    assert not any(
        digits in everything for digits in ("31 32 33 34", "35 36 37 38", "38 37 36 35", "38 32 37")
    )
