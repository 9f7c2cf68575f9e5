"""Traces: record a session, replay it against the card (identical; one changed byte reported at its
exchange), and pcsc-tools ``scriptor`` scripts (mynacard.apdu.tracefile, ``mynacard replay/script``)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from mynacard.apdu.tracefile import HEADER, TraceFormatError, read_script, read_trace
from mynacard.emulator.issuance.personas import load_persona
from mynacard.tools.cli import main

PERSONA = load_persona("default")
LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z [<>]( ([0-9A-F]{2}|\*\*))+$")


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The demo's JPKI signing session on a card of its own, recorded."""
    tmp = tmp_path_factory.mktemp("trace")
    assert main(["demo", "--state", str(tmp / "card"), "--trace", str(tmp / "demo.trace")]) == 0
    return tmp / "card", tmp / "demo.trace"


def test_the_trace_is_one_exchange_per_two_lines_with_every_secret_masked(
    recorded: tuple[Path, Path],
) -> None:
    _, trace = recorded
    lines = trace.read_text(encoding="utf-8").splitlines()
    assert lines[0] == HEADER
    body = [line for line in lines if not line.startswith("#")]
    assert body and all(LINE.match(line) for line in body), [b for b in body if not LINE.match(b)]
    verifies = [
        line.split(" ", 1)[1] for line in body if line.split()[2:4] == ["00", "20"] and len(line) > 50
    ]
    assert verifies == ["> 00 20 00 80 ** ** ** ** **"] * 2  # the PIN of the JPKI-AP and of the text AP
    for pin in (PERSONA.auth_pin, PERSONA.text_pin):
        assert pin.encode().hex(" ").upper() not in trace.read_text()


def test_a_recorded_signing_session_replays_identically(
    recorded: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    card, trace = recorded
    capsys.readouterr()
    assert main(["replay", str(trace), "--state", str(card)]) == 0
    count = len(read_trace(trace))
    assert capsys.readouterr().out == f"{count} exchanges replayed on legacy-2016: every answer identical\n"


def test_one_changed_byte_is_reported_at_its_exchange(
    recorded: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    card, trace = recorded
    exchanges = read_trace(trace)
    signature = next(i for i, e in enumerate(exchanges) if e.command[:2] == b"\x80\x2a")
    lines = trace.read_text(encoding="utf-8").splitlines()
    line = exchanges[signature].line  # the command's line; its response is the next
    stamp, direction, *octets = lines[line].split()
    octets[0] = f"{int(octets[0], 16) ^ 0x01:02X}"
    lines[line] = " ".join([stamp, direction, *octets])
    changed = tmp_path / "changed.trace"
    changed.write_text("\n".join(lines) + "\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["replay", str(changed), "--state", str(card)]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"exchange #{signature + 1} (line {line}) > {exchanges[signature].command_text()}"
    assert out[1].startswith(f"  recorded: {octets[0]} ") and out[2].startswith("  replayed: ")
    assert out[1][12:] != out[2][12:]


def test_a_scriptor_script_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "jpki.script"
    script.write_text(
        "# select the JPKI-AP and read the start of the certificate\n"
        "00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01\n"
        "00A4020C02000A\n"
        "reset\n"
        "00 B0 00 00 04  # after a warm reset the JPKI-AP and EF stay selected\n"
        "exit\n"
        "00 B0 00 00 04\n"
    )
    assert main(["script", str(script)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("> power on: ATR 3B ")
    assert out[1:5] == [
        "> 00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01",
        "< 90 00: success",
        "> 00 A4 02 0C 02 00 0A",
        "< 90 00: success",
    ]
    assert out[5].startswith("> reset: ATR 3B ")
    assert out[6:] == ["> 00 B0 00 00 04", "< 30 82 04 16  90 00: success"]


def test_bad_trace_and_script_lines_name_the_file_and_line(tmp_path: Path) -> None:
    trace = tmp_path / "bad.trace"
    trace.write_text(f"{HEADER}\n2026-12-02T00:00:00.000000Z > 00 A4 XY\n")
    with pytest.raises(TraceFormatError, match=r"bad.trace:2: .* is not hex"):
        read_trace(trace)
    trace.write_text(f"{HEADER}\n2026-12-02T00:00:00.000000Z < 90 00\n")
    with pytest.raises(TraceFormatError, match=r"bad.trace:2: a response without its command"):
        read_trace(trace)
    script = tmp_path / "bad.script"
    script.write_text("00 A4\nselect jpki\n")
    with pytest.raises(TraceFormatError, match=r"bad.script:2: 'select jpki' is neither hex"):
        list(read_script(script))
    assert main(["replay", str(trace), "--state", str(tmp_path / "none")]) == 2
