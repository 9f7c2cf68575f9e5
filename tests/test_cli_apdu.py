"""``mynacard apdu R HEX...``: exact lines printed, secrets masked, ``--json``, one line for a bad reader."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mynacard.apdu.readers.base import NoCardError
from mynacard.apdu.readers.virtual import VirtualReader
from mynacard.apdu.response import ResponseApdu
from mynacard.emulator.issuance.personalise import open_card
from mynacard.emulator.issuance.personas import load_persona
from mynacard.tools.cli import main
from mynacard.tools.harness.pcsc import PcscStack

SELECT_JPKI = "00A4040C0AD392F000260100000001"
SELECT_AUTH_PIN = "00A4020C020018"
SELECT_AUTH_CERTIFICATE = "00A4020C02000A"
ATR_LINE = "reader mynacard Virtual Reader 0: ATR 3B E0 00 FF 81 31 FE 45 14"


def _pin_verify() -> str:
    pin = load_persona("default").auth_pin.encode("ascii")
    return f"00200080{len(pin):02X}{pin.hex()}"


def _pin_fragments() -> list[str]:
    """The PIN as it could leak: its digits, its hex spaced or not."""
    pin = load_persona("default").auth_pin.encode("ascii")
    return [pin.decode(), pin.hex(), pin.hex(" ").upper(), pin.hex(":").upper()]


def test_each_command_and_its_answer_exactly(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["apdu", "virtual", SELECT_JPKI, "00 A4 02 0C 02 00 0A", "00:B0:00:00:02"])
    assert code == 0
    assert capsys.readouterr().out.splitlines() == [
        ATR_LINE,
        "> 00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01",
        "< 90 00: success",
        "> 00 A4 02 0C 02 00 0A",
        "< 90 00: success",
        "> 00 B0 00 00 02",
        "< 30 82  90 00: success",
    ]


def test_a_verify_is_masked_and_its_pin_never_printed(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["apdu", "virtual", "--log-level", "traffic", SELECT_JPKI, SELECT_AUTH_PIN, _pin_verify()])
    assert code == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[-2:] == ["> 00 20 00 80 ** ** ** ** **", "< 90 00: success"]
    assert "> 00 20 00 80 ** ** ** ** ** | < 90 00: success" in captured.err
    for fragment in _pin_fragments():
        assert fragment not in captured.out
        assert fragment not in captured.err


def test_json_parses_and_masks(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["apdu", "virtual", "--json", SELECT_JPKI, SELECT_AUTH_PIN, "00200080", _pin_verify()])
    assert code == 0
    out = capsys.readouterr().out
    document = json.loads(out)
    assert document["reader"] == "mynacard Virtual Reader 0"
    assert document["atr"] == "3B E0 00 FF 81 31 FE 45 14"
    assert document["exchanges"][2:] == [
        {
            "command": "00 20 00 80",
            "masked": False,
            "data": "",
            "sw": "63C3",
            "status": "63 C3: verification failed or counter query, 3 tries left",
        },
        {
            "command": "00 20 00 80 ** ** ** ** **",
            "masked": True,
            "data": "",
            "sw": "9000",
            "status": "90 00: success",
        },
    ]
    for fragment in _pin_fragments():
        assert fragment not in out


def test_quiet_prints_only_the_answers(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apdu", "virtual", "--quiet", SELECT_JPKI, SELECT_AUTH_CERTIFICATE, "00B0000002"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == ["90 00: success", "90 00: success", "30 82  90 00: success"]
    assert captured.err == ""


def test_an_error_answer_is_exit_1_a_warning_is_not(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apdu", "virtual", "--quiet", SELECT_JPKI, SELECT_AUTH_PIN, "00200080"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "63 C3: verification failed or counter query, 3 tries left"
    )
    assert main(["apdu", "virtual", "--quiet", "00A4020C02EEEE"]) == 1
    assert capsys.readouterr().out.splitlines() == ["6A 82: file or application not found"]


def test_a_wrong_verify_stays_spent_in_the_state_directory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    state = ["--state", str(tmp_path / "card"), "--quiet"]
    assert main(["apdu", "virtual", *state, SELECT_JPKI, SELECT_AUTH_PIN, "002000800439393939"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "63 C2: verification failed or counter query, 2 tries left"
    )
    assert main(["apdu", "virtual", *state, SELECT_JPKI, SELECT_AUTH_PIN, "00200080"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "63 C2: verification failed or counter query, 2 tries left"
    )


@pytest.mark.parametrize("reader", ["foo", "pcsc:", "virtual:1", "PCSC:x"])
def test_a_bad_reader_is_one_usage_line(capsys: pytest.CaptureFixture[str], reader: str) -> None:
    assert main(["apdu", reader, SELECT_JPKI]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"mynacard: reader {reader!r}: expected 'virtual' or 'pcsc:NAME'\n"


def test_a_missing_pcsc_reader_is_one_line_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apdu", "pcsc:no such reader 42", SELECT_JPKI]) == 3
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("mynacard: ")
    assert captured.err.count("\n") == 1
    assert "Traceback" not in captured.err


def test_virtual_options_on_a_pcsc_reader_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apdu", "pcsc:x", "--persona", "default", SELECT_JPKI]) == 2
    assert capsys.readouterr().err == "mynacard: --persona is for the virtual reader, not 'pcsc:x'\n"


@pytest.mark.parametrize(
    ("argument", "problem"),
    [
        ("00 20 00 80 04 31 32 33 3", "an odd number of hex digits (17)"),
        ("00200080043132333G", "not hex (digits 0-9 A-F, spaces or colons between bytes)"),
        ("002000", "a command APDU has at least 4 bytes (CLA INS P1 P2), got 3"),
    ],
)
def test_a_malformed_apdu_is_refused_unsent_and_unechoed(
    capsys: pytest.CaptureFixture[str], argument: str, problem: str
) -> None:
    assert main(["apdu", "virtual", SELECT_JPKI, argument]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"mynacard: APDU #2: {problem}\n"


@pytest.mark.pcsc
def test_the_same_lines_through_pcscd(pcsc_stack: PcscStack, capsys: pytest.CaptureFixture[str]) -> None:
    pcsc_stack.insert(open_card("legacy-2016", "default", None))
    reader = f"pcsc:{pcsc_stack.reader_name}"
    code = main(["apdu", reader, SELECT_JPKI, SELECT_AUTH_PIN, _pin_verify(), "00A4020C02000A", "00B0000002"])
    assert code == 0
    assert capsys.readouterr().out.splitlines() == [
        f"reader {pcsc_stack.reader_name}: ATR 3B E0 00 FF 81 31 FE 45 14",
        "> 00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01",
        "< 90 00: success",
        "> 00 A4 02 0C 02 00 18",
        "< 90 00: success",
        "> 00 20 00 80 ** ** ** ** **",
        "< 90 00: success",
        "> 00 A4 02 0C 02 00 0A",
        "< 90 00: success",
        "> 00 B0 00 00 02",
        "< 30 82  90 00: success",
    ]


def test_a_reader_failing_midway_is_one_line_exit_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def pulled(self: VirtualReader, command: bytes) -> ResponseApdu:
        raise NoCardError("the card was pulled")

    monkeypatch.setattr(VirtualReader, "transmit", pulled)
    assert main(["apdu", "virtual", "--quiet", SELECT_JPKI]) == 1
    assert capsys.readouterr() == ("", "mynacard: mynacard Virtual Reader 0: the card was pulled\n")
    assert main(["status", "virtual", "--quiet"]) == 1
    assert capsys.readouterr() == ("", "mynacard: mynacard Virtual Reader 0: the card was pulled\n")


def test_a_client_side_trace_is_masked_and_replays_on_the_card(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    state, trace = tmp_path / "card", tmp_path / "client.trace"
    commands = [SELECT_JPKI, SELECT_AUTH_PIN, _pin_verify(), SELECT_AUTH_CERTIFICATE, "00B0000004"]
    assert main(["apdu", "virtual", "--state", str(state), "--trace", str(trace), "--quiet", *commands]) == 0
    text = trace.read_text()
    assert text.splitlines()[:2] == ["# mynacard trace 1", "# reader: mynacard Virtual Reader 0"]
    assert " > 00 20 00 80 ** ** ** ** **" in text
    pin = load_persona("default").auth_pin.encode("ascii")
    assert pin.hex(" ").upper() not in text  # the trace's own spelling of bytes (times hold digits)
    capsys.readouterr()
    assert main(["replay", str(trace), "--state", str(state)]) == 0
    assert capsys.readouterr().out.endswith("5 exchanges replayed on legacy-2016: every answer identical\n")
