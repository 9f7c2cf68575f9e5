"""Exchange records: PIN-like data fields are masked before an observer sees them (issue 2 item 2,
architecture rule 6); every other command and every response is recorded exactly."""

from __future__ import annotations

import pytest

from mynacard.apdu.readers.virtual import VirtualReader
from mynacard.apdu.trace import MASK_BYTE, Exchange, carries_secret, mask_command
from mynacard.emulator.card import Card

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
    assert verify.command == h("00 20 00 98 04 2A 2A 2A 2A")
    assert verify.masked
    assert verify.response == h("90 00")
    assert verify.command_text() == "00 20 00 98 04 ** ** ** **"
    assert verify.format() == "> 00 20 00 98 04 ** ** ** **\n< 90 00: success"
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
    assert right.command == h("00 20 00 9B 08") + bytes([MASK_BYTE]) * 8
    assert wrong.command == h("00 20 00 80 08") + b"*" * 8
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
    assert change.command == h("00 24 01 98 04 2A 2A 2A 2A")
    assert change.command_text() == "00 24 01 98 04 ** ** ** **"
    assert_no_secret(change, b"5678")
    # old ‖ new in one field (P1 = 00) is one masked field
    reader.transmit(h("00 24 00 98 08") + b"56781234")
    assert log[-1].command == h("00 24 00 98 08") + b"*" * 8


@pytest.mark.parametrize(
    ("command", "recorded_as"),
    [
        ("00 2C 00 98 08 3837363534333231", "00 2C 00 98 08 2A2A2A2A2A2A2A2A"),  # RESET RETRY COUNTER
        ("00 21 00 98 04 31323334", "00 21 00 98 04 2A2A2A2A"),  # VERIFY, odd INS
        ("80 32 00 80 04 31323334", "80 32 00 80 04 2A2A2A2A"),  # CHANGE KEY (common / 住基 APs)
        ("80 20 00 98 04 31323334", "80 20 00 98 04 2A2A2A2A"),
        ("00 20 00 98 00 00 04 31323334", "00 20 00 98 00 00 04 2A2A2A2A"),  # extended Lc
        ("00 20 00 98 04 31323334 00", "00 20 00 98 04 2A2A2A2A 00"),  # a (wrong) Le stays visible
        ("00 20 00 98 08 31323334", "00 20 00 98 08 2A2A2A2A"),  # malformed: the whole body is masked
        pytest.param(
            "00 20 00 98 00 31323334",
            "00 20 00 98 00 2A2A2A2A",
            id="malformed-extended",
        ),
        pytest.param(
            "00 20 00 98 02 31323334",
            "00 20 00 98 02 2A2A2A2A",
            id="malformed-short-lc",
        ),
    ],
)
def test_every_secret_carrying_command_is_masked(
    recorded: tuple[VirtualReader, list[Exchange]], command: str, recorded_as: str
) -> None:
    reader, log = recorded
    response = reader.transmit(h(command))
    assert log[-1].command == h(recorded_as)
    assert log[-1].masked
    assert log[-1].response == response.to_bytes()
    assert "31 32 33 34" not in log[-1].format()


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
    assert mask_command(h("00 20 00 98")) == (h("00 20 00 98"), None)
    assert mask_command(h("00 20 00 98 01 31")) == (h("00 20 00 98 01 2A"), (5, 6))
    exchange = Exchange.record(h("00 20 00 98 04 31 32 33 34"), h("63 C2"), 0.5)
    assert (exchange.command, exchange.masked, exchange.seconds) == (
        h("00 20 00 98 04 2A 2A 2A 2A"),
        True,
        0.5,
    )
    assert Exchange(b"\x00", b"\x90").response_text() == "(malformed response 90)"
