"""``mynacard shell virtual`` in a pseudo-terminal (pexpect): select, verify with a PIN that is never shown
nor kept, read, status, quit; the history masks secrets; piped input runs the same commands."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mynacard.apdu.applets.jpki import AUTH_CERTIFICATE, JpkiSession
from mynacard.apdu.readers.virtual import VirtualReader
from mynacard.emulator.issuance.personalise import open_card
from mynacard.emulator.issuance.personas import load_persona
from mynacard.tools.cli.shell_commands import history_text
from mynacard.tools.cli.shell_view import hex_dump, tlv_view
from mynacard.tools.harness.pcsc import PcscStack

pexpect = pytest.importorskip("pexpect")

MYNACARD = Path(sys.executable).with_name("mynacard")
_CSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
PIN = load_persona("default").auth_pin
AUTH_PIN_LABEL = "利用者証明用電子証明書暗証番号 (user-authentication PIN)"


def _pin_fragments(pin: str) -> list[str]:
    raw = pin.encode("ascii")
    return [pin, raw.hex(), raw.hex(" ").upper(), raw.hex(" ")]


def _screen_lines(log: str) -> list[str]:
    """What the terminal showed, line by line, without escape sequences."""
    return [line.rstrip() for line in _CSI.sub("", log).replace("\r", "").split("\n")]


def _contains_run(lines: list[str], run: list[str]) -> bool:
    return any(lines[i : i + len(run)] == run for i in range(len(lines) - len(run) + 1))


class Shell:
    """``mynacard shell`` in a pty; every byte it writes is kept in ``log``."""

    def __init__(self, tmp_path: Path, *options: str) -> None:
        env = dict(os.environ, XDG_STATE_HOME=str(tmp_path / "xdg"), TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1")
        self.log = io.StringIO()
        self.child = pexpect.spawn(
            str(MYNACARD),
            ["shell", "virtual", *options],
            env=env,
            encoding="utf-8",
            timeout=90,
            dimensions=(50, 200),
        )
        self.child.logfile_read = self.log

    def expect(self, text: str) -> None:
        self.child.expect_exact(text)

    def line(self, text: str, then: str) -> None:
        self.child.sendline(text)
        self.expect(then)

    def quit(self) -> int:
        self.child.sendline("quit")
        self.child.expect(pexpect.EOF)
        self.child.close()
        status: int = self.child.exitstatus
        return status

    @property
    def screen(self) -> list[str]:
        return _screen_lines(self.log.getvalue())


def _certificate(state: Path) -> bytes:
    with VirtualReader(open_card(None, None, state)) as reader:
        session = JpkiSession(reader)
        session.select()
        return session.read_certificate(AUTH_CERTIFICATE)


def test_select_verify_read_and_quit_in_a_terminal(tmp_path: Path) -> None:
    card_dir = tmp_path / "card"
    shell = Shell(tmp_path, "--state", str(card_dir))
    shell.expect("mynacard card_manager>")
    shell.line("select jpki", "mynacard jpki>")
    shell.line("verify 0018", "pin auth_pin for 0018 (not echoed):")
    shell.line(PIN, "mynacard jpki>")
    shell.line("read 000A", "mynacard jpki>")
    shell.line("status", "mynacard jpki>")
    assert shell.quit() == 0

    screen = shell.screen
    assert screen[0].endswith("mynacard Virtual Reader 0 (legacy-2016): ATR 3B E0 00 FF 81 31 FE 45 14")
    assert _contains_run(screen, ["> 00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01", "< 90 00: success"])
    assert _contains_run(screen, ["> 00 A4 02 0C 02 00 18", "< 90 00: success"])
    assert any(line.endswith("pin auth_pin for 0018 (not echoed): " + "*" * len(PIN)) for line in screen)
    assert _contains_run(screen, ["> 00 20 00 80 ** ** ** ** **", "< 90 00: success"])
    certificate = _certificate(card_dir)
    first = certificate[:16]
    assert f"000A: {len(certificate)} bytes" in screen
    assert (
        f"  0000  {first.hex(' ').upper()}  {''.join(chr(b) if 32 <= b < 127 else '.' for b in first)}"
        in (screen)
    )
    assert f"  30 ({len(certificate) - 4} bytes)" in screen
    assert f"jpki    0018  auth_pin       3 of 3 tries left  {AUTH_PIN_LABEL}" in screen
    for fragment in _pin_fragments(PIN):
        assert fragment not in shell.log.getvalue()
    history = (tmp_path / "xdg" / "mynacard" / "shell_history").read_text(encoding="utf-8")
    assert [line for line in history.splitlines() if line.startswith("+")] == [
        "+select jpki",
        "+verify 0018",
        "+read 000A",
        "+status",
        "+quit",
    ]


def test_a_wrong_pin_costs_one_try_and_status_shows_it(tmp_path: Path) -> None:
    card_dir = tmp_path / "card"
    shell = Shell(tmp_path, "--state", str(card_dir), "--no-history")
    shell.expect("mynacard card_manager>")
    shell.line("select jpki", "mynacard jpki>")
    shell.line("verify 0018", "(not echoed):")
    shell.line("9999", "mynacard jpki>")
    shell.line("status", "mynacard jpki>")
    assert shell.quit() == 0
    screen = shell.screen
    assert _contains_run(
        screen,
        ["> 00 20 00 80 ** ** ** ** **", "< 63 C2: verification failed or counter query, 2 tries left"],
    )
    assert f"jpki    0018  auth_pin       2 of 3 tries left  {AUTH_PIN_LABEL}" in screen
    assert "9999" not in shell.log.getvalue()
    assert not (tmp_path / "xdg").exists()


def test_a_typed_verify_apdu_is_masked_in_the_history(tmp_path: Path) -> None:
    verify = "00 20 00 80 04 " + PIN.encode("ascii").hex(" ").upper()
    shell = Shell(tmp_path)
    shell.expect("mynacard card_manager>")
    shell.line("select jpki", "mynacard jpki>")
    shell.line("select 0018", "mynacard jpki>")
    shell.line(verify, "mynacard jpki>")
    shell.line("verify 0018 " + PIN, "mynacard jpki>")
    assert shell.quit() == 0
    assert _contains_run(shell.screen, ["> 00 20 00 80 ** ** ** ** **", "< 90 00: success"])
    assert "error: verify takes the FID only: the value is asked for, never typed on the line" in shell.screen
    history = (tmp_path / "xdg" / "mynacard" / "shell_history").read_text(encoding="utf-8")
    assert "+00 20 00 80 ** ** ** ** **" in history.splitlines()
    assert "+verify 0018 **" in history.splitlines()
    for fragment in _pin_fragments(PIN):
        assert fragment not in history


def test_piped_input_runs_the_same_commands() -> None:
    commands = ["select jpki", "verify 0018", PIN, "select 00B1", "atr", "help", "frob", "quit"]
    result = subprocess.run(
        [str(MYNACARD), "shell", "virtual", "--quiet"],
        input="\n".join(commands) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[:8] == [
        "mynacard card_manager> > 00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01",
        "< 90 00: success",
        "mynacard jpki> > 00 A4 02 0C 02 00 18",
        "< 90 00: success",
        "pin auth_pin for 0018 (not echoed): ",
        "> 00 20 00 80 ** ** ** ** **",
        "< 90 00: success",
        "mynacard jpki> > 00 A4 02 0C 02 00 B1",
    ]
    assert lines[8:10] == [
        "< 6A 82: file or application not found",
        "mynacard jpki> ATR 3B E0 00 FF 81 31 FE 45 14",
    ]
    assert lines[-2:] == [
        "mynacard jpki> error: not hex (digits 0-9 A-F, spaces or colons between bytes); "
        "type help for the commands",
        "mynacard jpki> ",
    ]
    for fragment in _pin_fragments(PIN):
        assert fragment not in result.stdout


def test_a_bad_reader_is_one_usage_line() -> None:
    result = subprocess.run(
        [str(MYNACARD), "shell", "pcsc"], capture_output=True, text=True, timeout=60, check=False
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == "mynacard: reader 'pcsc': expected 'virtual' or 'pcsc:NAME'\n"


def test_the_tlv_view_nests_names_text_and_padding() -> None:
    record = bytes.fromhex("FF 40 0D DF 41 03 01 03 0E DF 42 04 30 30 31 39") + b"\xff" * 5
    assert tlv_view(record) == [
        "FF40 (13 bytes)",
        "  DF41 (3 bytes): 01 03 0E",
        '  DF42 (4 bytes): 30 30 31 39  "0019"',
        "+ 5 padding bytes FF",
    ]
    assert tlv_view(bytes.fromhex("8F 8F 00")) == []
    assert tlv_view(b"\xff" * 8) == []


def test_the_hex_dump_shows_offsets_and_ascii() -> None:
    assert hex_dump(b"JPKIAPICCTOKEN2 \x00\x01") == [
        "0000  4A 50 4B 49 41 50 49 43 43 54 4F 4B 45 4E 32 20  JPKIAPICCTOKEN2 ",
        "0010  00 01                                            ..",
    ]


def test_the_history_keeps_no_secret() -> None:
    assert history_text("00 20 00 80 04 31 32 33 34") == "00 20 00 80 ** ** ** ** **"
    assert history_text("00240100083132333435363738") == "00 24 01 00 ** ** ** ** ** ** ** ** **"
    assert history_text("verify 0018 1234") == "verify 0018 **"
    assert history_text("00 20 00 80") == "00 20 00 80"
    assert history_text("select jpki") == "select jpki"


@pytest.mark.pcsc
def test_the_shell_on_a_pcsc_reader(pcsc_stack: PcscStack) -> None:
    pcsc_stack.insert(open_card("legacy-2016", "default", None))
    commands = ["select jpki", "verify 0018", PIN, "status", "quit"]
    result = subprocess.run(
        [str(MYNACARD), "shell", f"pcsc:{pcsc_stack.reader_name}"],
        input="\n".join(commands) + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"{pcsc_stack.reader_name} (legacy-2016): ATR 3B E0 00 FF 81 31 FE 45 14"
    assert lines[6:9] == [
        "pin auth_pin for 0018 (not echoed): ",
        "> 00 20 00 80 ** ** ** ** **",
        "< 90 00: success",
    ]
    assert f"jpki    0018  auth_pin       3 of 3 tries left  {AUTH_PIN_LABEL}" in lines
    for fragment in _pin_fragments(PIN):
        assert fragment not in result.stdout
