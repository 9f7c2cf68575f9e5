"""PcscReader through pyscard → pcscd → vpcd → VpcdBridge → a scripted card, and its offline parts."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator

import pytest

from mynacard.apdu.readers.base import ReaderError
from mynacard.apdu.readers.pcsc import PcscNoCardError, PcscReader, list_readers, resolve_reader_name
from mynacard.apdu.readers.softcards import EchoCard, T0StyleCard
from mynacard.apdu.response import ResponseApdu
from mynacard.apdu.trace import Exchange
from mynacard.tools.harness.pcsc import PcscStack, wait_card_present
from mynacard.tools.harness.plugin import unavailable

ReaderFor = Callable[[EchoCard], PcscReader]


class ExtendedEchoCard(EchoCard):
    """Extended case 4 echoes its data; extended case 2 returns Ne bytes (65533 at most through vpcd)."""

    def process(self, command: bytes) -> bytes:
        if len(command) == 7 and command[4] == 0:
            ne = (command[5] << 8 | command[6]) or 65536
            return bytes(i & 0xFF for i in range(min(ne, 65533))) + b"\x90\x00"
        if len(command) > 7 and command[4] == 0:
            nc = command[5] << 8 | command[6]
            return command[7 : 7 + nc] + b"\x90\x00"
        return super().process(command)


# -- offline ---------------------------------------------------------------------------------------------


def test_module_works_without_pyscard_until_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "smartcard", None)
    with pytest.raises(ReaderError, match=r"mynacard\[pcsc\]"):
        list_readers()
    with pytest.raises(ReaderError, match=r"mynacard\[pcsc\]"):
        PcscReader("Virtual PCD 00 00")


READERS = ["Virtual PCD 00 00", "Virtual PCD 00 01", "SCM SCR 3310 [CCID] 01 00"]


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [("Virtual PCD 00 01", "Virtual PCD 00 01"), ("SCM", "SCM SCR 3310 [CCID] 01 00")],
)
def test_reader_is_found_by_exact_name_or_unique_prefix(wanted: str, expected: str) -> None:
    assert resolve_reader_name(wanted, READERS) == expected


@pytest.mark.parametrize(("wanted", "problem"), [("Virtual PCD", "several"), ("ACS", "no reader")])
def test_ambiguous_or_unknown_reader_names_are_refused(wanted: str, problem: str) -> None:
    with pytest.raises(ReaderError, match=problem):
        resolve_reader_name(wanted, READERS)


# -- through pcscd ----------------------------------------------------------------------------------------


@pytest.fixture
def echo_reader_for(pcsc_stack: PcscStack) -> Iterator[ReaderFor]:
    """A connected reader on the bridged vpcd slot holding the given card."""
    opened: list[PcscReader] = []

    def connect(card: EchoCard) -> PcscReader:
        pcsc_stack.insert(card)
        reader = PcscReader(pcsc_stack.reader_name)
        opened.append(reader)
        reader.power_on()
        return reader

    yield connect
    for reader in opened:
        reader.close()


@pytest.mark.pcsc
def test_vpcd_readers_are_listed(pcsc_stack: PcscStack) -> None:
    assert {"Virtual PCD 00 00", "Virtual PCD 00 01"} <= set(list_readers())


@pytest.mark.pcsc
def test_connect_reports_atr_and_t1(echo_reader_for: ReaderFor) -> None:
    card = EchoCard()
    reader = echo_reader_for(card)
    assert reader.atr == bytes.fromhex("3BE000FF8131FE4514")
    assert reader.protocol == "T=1"
    assert card.power_ons == 1


@pytest.mark.pcsc
def test_transmit_returns_the_card_bytes(echo_reader_for: ReaderFor) -> None:
    reader = echo_reader_for(EchoCard())
    assert reader.transmit(bytes.fromhex("80010000")) == ResponseApdu(b"", 0x9000)
    assert reader.transmit(bytes.fromhex("00B0000003")) == ResponseApdu(bytes.fromhex("000102"), 0x9000)
    assert reader.transmit(bytes.fromhex("80EE000002CAFE")).to_bytes() == bytes.fromhex("CAFE9000")


@pytest.mark.pcsc
def test_61xx_is_completed_on_the_host_and_observers_see_the_wire(echo_reader_for: ReaderFor) -> None:
    reader = echo_reader_for(T0StyleCard())
    wire: list[Exchange] = []
    reader.add_observer(wire.append)
    command = bytes.fromhex("802A0080040102030400")
    assert reader.transmit(command) == ResponseApdu(T0StyleCard.SIGNATURE, 0x9000)
    assert [(e.command, e.response) for e in wire] == [
        (command, bytes.fromhex("6120")),
        (bytes.fromhex("00C0000020"), T0StyleCard.SIGNATURE + b"\x90\x00"),
    ]


@pytest.mark.pcsc
def test_6cxx_is_resent_with_the_exact_le(echo_reader_for: ReaderFor) -> None:
    reader = echo_reader_for(T0StyleCard())
    assert reader.transmit(bytes.fromhex("00B0000000")) == ResponseApdu(bytes.fromhex("30820123"), 0x9000)


@pytest.mark.pcsc
def test_host_processing_can_be_turned_off(echo_reader_for: ReaderFor) -> None:
    reader = echo_reader_for(T0StyleCard())
    reader.host_processing = False
    assert reader.transmit(bytes.fromhex("802A0080040102030400")) == ResponseApdu(b"", 0x6120)


@pytest.mark.pcsc
def test_extended_apdus_pass_at_the_vpcd_frame_limits(echo_reader_for: ReaderFor) -> None:
    reader = echo_reader_for(ExtendedEchoCard())
    data = bytes(i * 7 & 0xFF for i in range(65526))  # the whole command is then 65535 bytes
    assert reader.transmit(bytes.fromhex("80EE0000") + b"\x00\xff\xf6" + data + b"\x00\x00").data == data
    response = reader.transmit(bytes.fromhex("00B00000000000"))
    assert len(response.data) == 65533
    assert response.data[:3] == bytes.fromhex("000102")
    assert response.sw == 0x9000


@pytest.mark.pcsc
def test_power_off_reset_and_power_on_reach_the_card(echo_reader_for: ReaderFor) -> None:
    card = EchoCard()
    reader = echo_reader_for(card)
    assert reader.reset() == EchoCard.ATR
    assert card.resets == 1
    reader.power_off()
    # vpcd sends power-off without awaiting a reply: it may reach the card after SCardDisconnect returns.
    deadline = time.monotonic() + 2
    while card.power_offs == 0 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert card.power_offs == 1
    assert not reader.connected
    assert reader.power_on() == EchoCard.ATR
    assert card.power_ons == 2
    assert reader.transmit(bytes.fromhex("80010000")).sw == 0x9000


@pytest.mark.pcsc
def test_an_empty_slot_raises_no_card(pcsc_stack: PcscStack) -> None:
    reader = PcscReader(pcsc_stack.reader_name)
    pcsc_stack.bridge.remove()
    try:
        with pytest.raises(PcscNoCardError):
            _connect_when_pcscd_noticed(reader)
    finally:
        reader.close()
        card = EchoCard()
        pcsc_stack.bridge.insert(card)
        wait_card_present(pcsc_stack.reader_name, card.atr)


def _connect_when_pcscd_noticed(reader: PcscReader) -> None:
    """pcscd notices a removal at its next presence poll (~0.4 s)."""
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        reader.power_on()
        reader.power_off()
        time.sleep(0.1)


def test_missing_pcsc_parts_skip_locally_and_fail_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match="no pcscd"):
        unavailable("no pcscd")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"no pcscd \(CI=true"):
        unavailable("no pcscd")
