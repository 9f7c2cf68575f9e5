"""Commands shorter than a header through pyscard → pcscd → vpcd → VpcdBridge (issue 8 item 1).

vpcd passes a 1-byte command verbatim, so it looks like one of its control messages; and vpcd waits for
the answer without a timeout, holding the reader for every client. Each raw client here runs in a
subprocess with a deadline, so a reader that hangs fails the test instead of hanging the suite.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator

import pytest

from mynacard.apdu.readers.base import ReaderError
from mynacard.apdu.readers.pcsc import PcscReader
from mynacard.apdu.readers.softcards import EchoCard
from mynacard.apdu.trace import Exchange
from mynacard.tools.harness.pcsc import PcscStack, wait_card_present

pytestmark = pytest.mark.pcsc

RAW_CLIENT = textwrap.dedent(
    """
    import sys
    from smartcard import scard
    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    protocols = scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1
    hresult, card, protocol = scard.SCardConnect(context, sys.argv[1], scard.SCARD_SHARE_SHARED, protocols)
    assert hresult == 0, scard.SCardGetErrorMessage(hresult)
    print("transmitting", flush=True)
    hresult, response = scard.SCardTransmit(card, protocol, list(bytes.fromhex(sys.argv[2])))
    assert hresult == 0, scard.SCardGetErrorMessage(hresult)
    print(bytes(response).hex().upper(), flush=True)
    scard.SCardDisconnect(card, scard.SCARD_UNPOWER_CARD)
    """
)
"""Connects, sends argv[2] (hex) with SCardTransmit, prints the response: bypasses PcscReader's checks."""


def raw_client(reader: str, command: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", RAW_CLIENT, reader, command],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def raw_transmit(reader: str, command: str, timeout: float = 10.0) -> str:
    """The response (hex) a fresh client gets; fails when the reader does not answer within ``timeout``."""
    client = raw_client(reader, command)
    try:
        out, _ = client.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        client.kill()
        out, _ = client.communicate()
        pytest.fail(f"the reader hung: no answer to {command} within {timeout} s ({out!r})")
    assert client.returncode == 0, out
    return out.split()[-1]


@pytest.fixture
def echo(pcsc_stack: PcscStack) -> Iterator[EchoCard]:
    """A fresh echo card in the slot, checked to answer: a reader left wedged would hang an in-process
    client, so a wedge fails here, within a deadline."""
    card = EchoCard()
    pcsc_stack.insert(card)
    assert raw_transmit(pcsc_stack.reader_name, "80010000") == "9000"
    yield card
    wait_card_present(pcsc_stack.reader_name, card.atr)


@pytest.fixture
def wire(pcsc_stack: PcscStack) -> Iterator[list[Exchange]]:
    """Every command APDU the bridge answers during the test."""
    seen: list[Exchange] = []
    pcsc_stack.bridge.add_observer(seen.append)
    yield seen
    pcsc_stack.bridge.remove_observer(seen.append)


def test_a_1_byte_command_gets_6700_and_the_reader_keeps_serving(
    pcsc_stack: PcscStack, echo: EchoCard, wire: list[Exchange]
) -> None:
    """It used to get no answer at all: that client and every later one hung until the card was killed."""
    assert raw_transmit(pcsc_stack.reader_name, "8A") == "6700"
    assert raw_transmit(pcsc_stack.reader_name, "FF") == "6700"
    assert raw_transmit(pcsc_stack.reader_name, "80EE000002CAFE") == "CAFE9000"
    assert [(e.command.hex().upper(), e.response.hex().upper()) for e in wire] == [
        ("8A", "6700"),
        ("FF", "6700"),
        ("80EE000002CAFE", "CAFE9000"),
    ]


def test_a_1_byte_command_04_gets_the_atr_the_documented_ambiguity(
    pcsc_stack: PcscStack, echo: EchoCard, wire: list[Exchange]
) -> None:
    """vpcd's get-ATR code: the card cannot know it is a command, so the ATR comes back as the response."""
    assert raw_transmit(pcsc_stack.reader_name, "04") == "3BE000FF8131FE4514"
    assert wire == []


@pytest.mark.parametrize("command", ["", "04", "00A4", "00A404"])
def test_pcsc_reader_refuses_commands_shorter_than_a_header(
    pcsc_stack: PcscStack, echo: EchoCard, wire: list[Exchange], command: str
) -> None:
    reader = PcscReader(pcsc_stack.reader_name)
    try:
        reader.power_on()
        shown = bytes.fromhex(command).hex(" ").upper() or "nothing"
        expected = (
            f"{pcsc_stack.reader_name}: a command APDU has at least 4 bytes (CLA INS P1 P2), "
            f"got {len(command) // 2}: {shown}; not sent"
        )
        for send in (reader.transmit_raw, reader.transmit):
            with pytest.raises(ReaderError) as refused:
                send(bytes.fromhex(command))
            assert str(refused.value) == expected
        assert reader.transmit_raw(bytes.fromhex("80010000")) == bytes.fromhex("9000")
    finally:
        reader.close()
    assert [e.command for e in wire] == [bytes.fromhex("80010000")], "nothing short reached the card"


WEDGE_WARNINGS = {
    "00": [],
    "01": ["01 (power-on) while the card is powered: a 1-byte command APDU 01? "],
    "02": [],
}
"""What the bridge warns of as the command arrives: pcscd itself sends 00 and 02 to a powered card."""


@pytest.mark.parametrize("code", ["00", "01", "02"])
def test_a_client_killed_in_a_wedged_exchange_leaves_the_reader_usable(
    pcsc_stack: PcscStack, echo: EchoCard, caplog: pytest.LogCaptureFixture, code: str
) -> None:
    """A 1-byte command 00/01/02 is taken for vpcd's control code and vpcd waits for an answer forever,
    holding the reader; its client is SIGKILLed mid-exchange. The bridge notices vpcd's silence and
    reconnects, which ends vpcd's wait; after that reconnect the next client gets a freshly powered card.
    (It used to hang, and every later client with it, until the emulator was killed.)"""
    caplog.set_level(logging.WARNING, logger="mynacard.apdu.readers.vpcd")
    bridge = pcsc_stack.bridge
    connections, power_ons = bridge.connections, echo.power_ons
    wedged = raw_client(pcsc_stack.reader_name, code)
    try:
        assert wedged.stdout is not None
        assert wedged.stdout.readline() == "transmitting\n"
        time.sleep(0.5)
        assert wedged.poll() is None, "the exchange is under way: vpcd waits for an answer"
    finally:
        wedged.send_signal(signal.SIGKILL)
        wedged.wait()
    killed = time.monotonic()
    while bridge.connections == connections:
        assert time.monotonic() - killed < 10, "no reconnect: the wedged exchange still holds the reader"
        time.sleep(0.05)
    wait_card_present(pcsc_stack.reader_name, echo.atr, timeout=5)
    assert raw_transmit(pcsc_stack.reader_name, "80EE000002CAFE") == "CAFE9000"
    assert time.monotonic() - killed < bridge.silence_seconds + 3
    assert echo.power_ons > power_ons, "the next client got a freshly powered card"
    warnings = [r.getMessage().removeprefix("vpcd slot 0: ") for r in caplog.records]
    assert [w.split("vpcd's framing")[0] for w in warnings[:-1]] == WEDGE_WARNINGS[code]
    assert warnings[-1].startswith(f"vpcd silent for 2.0 s after {code} (")


def test_a_client_left_waiting_gets_an_empty_response_when_the_bridge_replugs(
    pcsc_stack: PcscStack, echo: EchoCard
) -> None:
    """vpcd's wait ends when the connection drops; pcscd then hands the client what vpcd read: nothing."""
    started = time.monotonic()
    waiting = raw_client(pcsc_stack.reader_name, "01")
    try:
        out, _ = waiting.communicate(timeout=pcsc_stack.bridge.silence_seconds + 10)
    finally:
        if waiting.poll() is None:
            waiting.kill()
            waiting.wait()
    assert (waiting.returncode, out) == (0, "transmitting\n\n"), "SCardTransmit succeeded with 0 bytes"
    assert time.monotonic() - started < pcsc_stack.bridge.silence_seconds + 3
