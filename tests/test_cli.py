"""The ``mynacard`` command line: what a user sees."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from pathlib import Path

import pytest

import mynacard
from mynacard.emulator.issuance.personas import load_persona
from mynacard.profiles.schema import list_profiles
from mynacard.tools.cli import main


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    for command in ("demo", "emulate", "personalise", "profiles", "personas"):
        assert command in out


def test_demo_runs_the_flows_and_masks_the_pins(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["demo", "--state", str(tmp_path / "card")]) == 0
    out = capsys.readouterr().out
    persona = load_persona("default")
    assert "ATR 3B E0 00 FF 81 31 FE 45 14" in out
    assert "# PIN tries left: 3" in out
    assert "# signature verified with the certificate's public key: OK" in out
    assert f"# 基本4情報: 氏名 {persona.name} / 住所 {persona.address}" in out
    verify_lines = [line for line in out.splitlines() if line.startswith("> 00 20 00 80 ")]
    assert verify_lines == ["> 00 20 00 80 ** ** ** ** **"] * 2
    assert persona.auth_pin.encode().hex(" ").upper() not in out


def test_listing_and_personalise(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["profiles"]) == 0
    assert "legacy-2016" in capsys.readouterr().out
    assert main(["personas"]) == 0
    assert "TEST PERSONA" in capsys.readouterr().out
    state = tmp_path / "card"
    assert main(["personalise", "--state", str(state)]) == 0
    assert (state / "card.json").is_file()
    assert main(["personalise", "--state", str(state)]) == 2
    assert "already holds a card" in capsys.readouterr().err


def test_an_unknown_profile_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["demo", "--profile", "nextgen-1999", "--state", str(tmp_path / "card")]) == 2
    shipped = ", ".join(list_profiles())
    assert f"unknown profile 'nextgen-1999' (shipped: {shipped})" in capsys.readouterr().err


def test_version_and_the_exit_codes_in_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"mynacard {mynacard.__version__}\n"
    assert mynacard.__version__ == importlib.metadata.version("mynacard")
    with pytest.raises(SystemExit):
        main(["--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert "exit status: 0 success; 1 the command ran and failed" in help_text
    assert "2 usage or input error" in help_text
    assert "3 reader not found or empty" in help_text


def test_python_dash_m_mynacard_is_the_same_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mynacard", "--version"], capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stdout) == (0, f"mynacard {mynacard.__version__}\n")


def test_demo_of_the_next_card_signs_with_p384_and_shows_verify_once(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["demo", "--profile", "nextgen-2026", "--state", str(tmp_path / "card")]) == 0
    out = capsys.readouterr().out
    persona = load_persona("default")
    assert "# tries left: PIN 3, signature password 5" in out
    assert (
        "# user-authentication key: ECDSA P-384 / SHA-384 signature verified with its certificate: OK" in out
    )
    assert "# signature key: ECDSA P-384 / SHA-384 signature verified with its certificate: OK" in out
    assert f"# 4情報: 氏名 {persona.name} ({persona.furigana}, {persona.romanised_name})" in out
    assert "the PIN still has 3 tries and was never asked for" in out
    assert persona.sign_password.encode().hex(" ").upper() not in out
    assert [line for line in out.splitlines() if line.startswith("> 00 20 00 9B")] == []  # VERIFY by FID
    assert out.count("> 00 20 00 80 ** ") == 1  # one VERIFY in all: the signature password


def test_demo_of_the_next_card_reads_the_card_face_through_pace(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["demo", "--profile", "nextgen-2026", "--state", str(tmp_path / "card")]) == 0
    out = capsys.readouterr().out
    persona = load_persona("default")
    assert "# EF.CardAccess offers id-PACE-ECDH-GM-AES-CBC-CMAC-256 on NIST P-384" in out
    assert "# a plain SELECT EF after the applet: 6982 (secure messaging required)" in out
    assert "> 00 22 C1 A4 12 80 0A 04 00 7F 00 07 02 02 04 02 04 83 01 02 84 01 0F\n" in out
    assert out.count("> 10 86 00 00 ") == 3 and out.count("> 00 86 00 00 ") == 1
    assert "> 0C B0 00 00 0D 97 01 00 8E 08 " in out  # the wire: protected
    assert "    plain > 00 B0 00 00 00\n" in out  # the application: plain
    assert "# 4情報 record (0003) with 照合番号B: 203 bytes read" in out
    assert "# My Number record (0004) with 照合番号B: refused 6982" in out
    for secret in (persona.verification_number_b6, persona.my_number):
        assert secret not in out and secret.encode().hex(" ").upper() not in out
