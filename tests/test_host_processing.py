"""Host-side 61xx / 6Cxx handling against a scripted card: exact commands out, exact responses back."""

from __future__ import annotations

import pytest

from mynacard.apdu.readers.processors import (
    MAX_GET_RESPONSES,
    ProcessedReader,
    Processor,
    ResponseCompletion,
    Transmit,
    complete_response,
    get_response,
    get_response_class,
)
from mynacard.apdu.readers.softcards import EchoCard, T0StyleCard
from mynacard.apdu.readers.virtual import VirtualReader
from mynacard.apdu.response import ResponseApdu


class ScriptedTransmit:
    """Expects exactly the listed commands, in order, and answers each with its scripted response."""

    def __init__(self, script: list[tuple[str, str]]) -> None:
        self.script = [(bytes.fromhex(c), bytes.fromhex(r)) for c, r in script]
        self.sent: list[bytes] = []

    def __call__(self, command: bytes) -> bytes:
        index = len(self.sent)
        self.sent.append(command)
        assert index < len(self.script), f"unexpected extra command {command.hex(' ')}"
        expected, response = self.script[index]
        assert command == expected, f"command {index}: {command.hex(' ')} != {expected.hex(' ')}"
        return response

    def done(self) -> bool:
        return len(self.sent) == len(self.script)


def test_plain_response_passes_through_with_one_exchange() -> None:
    transmit = ScriptedTransmit([("00A4040C0AD392F000260100000001", "9000")])
    assert complete_response(transmit, bytes.fromhex("00A4040C0AD392F000260100000001")) == ResponseApdu(
        b"", 0x9000
    )
    assert transmit.done()


def test_error_status_is_returned_unchanged() -> None:
    transmit = ScriptedTransmit([("00A4040C06A00000000101", "6A82")])
    assert complete_response(transmit, bytes.fromhex("00A4040C06A00000000101")).sw == 0x6A82
    assert transmit.done()


def test_61xx_fetches_the_announced_bytes_with_get_response() -> None:
    transmit = ScriptedTransmit(
        [
            ("802A0080040102030400", "6110"),
            ("00C0000010", "000102030405060708090A0B0C0D0E0F9000"),
        ]
    )
    response = complete_response(transmit, bytes.fromhex("802A0080040102030400"))
    assert response == ResponseApdu(bytes(range(16)), 0x9000)
    assert transmit.done()


def test_61xx_chain_concatenates_data_and_keeps_the_last_status() -> None:
    transmit = ScriptedTransmit(
        [
            ("00B0000000", "AABB6100"),
            ("00C0000000", "CC" * 256 + "6103"),
            ("00C0000003", "DDEEFF6282"),
        ]
    )
    response = complete_response(transmit, bytes.fromhex("00B0000000"))
    assert response.data == bytes.fromhex("AABB") + b"\xcc" * 256 + bytes.fromhex("DDEEFF")
    assert response.sw == 0x6282
    assert transmit.done()


def test_6cxx_resends_the_command_with_the_exact_short_le() -> None:
    transmit = ScriptedTransmit([("00B0000000", "6C04"), ("00B0000004", "308201239000")])
    assert complete_response(transmit, bytes.fromhex("00B0000000")) == ResponseApdu(
        bytes.fromhex("30820123"), 0x9000
    )
    assert transmit.done()


def test_6cxx_on_case_3_adds_le_after_the_data() -> None:
    transmit = ScriptedTransmit([("00CA00000201AA", "6C02"), ("00CA00000201AA02", "01029000")])
    assert complete_response(transmit, bytes.fromhex("00CA00000201AA")).data == bytes.fromhex("0102")
    assert transmit.done()


def test_6cxx_is_followed_once_only() -> None:
    transmit = ScriptedTransmit([("00B0000010", "6C08"), ("00B0000008", "6C04")])
    assert complete_response(transmit, bytes.fromhex("00B0000010")).sw == 0x6C04
    assert transmit.done()


def test_6cxx_on_an_unparsable_command_returns_the_status() -> None:
    transmit = ScriptedTransmit([("00B00000FF01", "6C04")])
    assert complete_response(transmit, bytes.fromhex("00B00000FF01")).sw == 0x6C04
    assert transmit.done()


def test_6cxx_answer_to_get_response_resends_get_response() -> None:
    transmit = ScriptedTransmit(
        [("80CB00000100", "6120"), ("00C0000020", "6C10"), ("00C0000010", "11" * 16 + "9000")]
    )
    response = complete_response(transmit, bytes.fromhex("80CB00000100"))
    assert response == ResponseApdu(b"\x11" * 16, 0x9000)
    assert transmit.done()


@pytest.mark.parametrize(
    ("cla", "expected"),
    [
        (0x00, 0x00),
        (0x80, 0x00),
        (0x0C, 0x00),
        (0x03, 0x03),
        (0x83, 0x03),
        (0x10, 0x00),
        (0x45, 0x45),
        (0xCF, 0x4F),
    ],
)
def test_get_response_stays_on_the_command_channel(cla: int, expected: int) -> None:
    assert get_response_class(cla) == expected


def test_get_response_le_256_is_encoded_as_00() -> None:
    assert get_response(0x00, 256) == bytes.fromhex("00C0000000")


def test_a_card_that_never_stops_announcing_data_is_cut_off() -> None:
    sent: list[bytes] = []

    def endless(command: bytes) -> bytes:
        sent.append(command)
        return bytes.fromhex("AA6101")

    response = complete_response(endless, bytes.fromhex("00B0000001"))
    assert len(sent) == 1 + MAX_GET_RESPONSES
    assert response.sw == 0x6101
    assert response.data == b"\xaa" * len(sent)


# --- processors stacked on any reader -----------------------------------------------------------------------


def test_response_completion_stacks_on_the_virtual_reader() -> None:
    wire: list[str] = []
    reader = ProcessedReader(VirtualReader(T0StyleCard()), [ResponseCompletion()])
    reader.add_observer(lambda exchange: wire.append(exchange.command.hex().upper()))
    with reader:
        assert reader.transmit(bytes.fromhex("802A00800401020304")) == ResponseApdu(
            T0StyleCard.SIGNATURE, 0x9000
        )
        assert reader.transmit(bytes.fromhex("00B0000000")) == ResponseApdu(bytes.fromhex("30820123"), 0x9000)
    assert wire == ["802A00800401020304", "00C0000020", "00B0000000", "00B0000004"]


def test_the_plain_virtual_reader_passes_61xx_and_6cxx_through() -> None:
    with VirtualReader(T0StyleCard()) as reader:
        assert reader.transmit(bytes.fromhex("802A00800401020304")) == ResponseApdu(b"", 0x6120)
        assert reader.transmit(bytes.fromhex("00B0000000")) == ResponseApdu(b"", 0x6C04)


class _Counting(Processor):
    """Records what passes and how often the session was reset."""

    def __init__(self, log: list[str], name: str) -> None:
        self.log, self.name, self.resets = log, name, 0

    def transmit(self, command: bytes, send: Transmit) -> ResponseApdu:
        self.log.append(f"{self.name}>{command.hex().upper()}")
        response = send(command)
        self.log.append(f"{self.name}<{response.sw:04X}")
        return response

    def reset(self) -> None:
        self.resets += 1


def test_processors_run_in_order_and_hear_of_every_power_event() -> None:
    log: list[str] = []
    outer, inner = _Counting(log, "outer"), _Counting(log, "inner")
    reader = ProcessedReader(VirtualReader(EchoCard()), [outer, inner])
    reader.power_on()
    reader.transmit(bytes.fromhex("00A40000"))
    reader.reset()
    reader.close()
    assert log == ["outer>00A40000", "inner>00A40000", "inner<9000", "outer<9000"]
    assert (outer.resets, inner.resets) == (3, 3)
