"""``mynacard status R``: every credential's tries left, exactly, and reading them spends none."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mynacard.emulator.issuance.personalise import open_card
from mynacard.tools.cli import main
from mynacard.tools.harness.pcsc import PcscStack

SELECT_JPKI = "00A4040C0AD392F000260100000001"
SELECT_TEXT = "00A4040C0AD3921000310001010408"
WRONG_AUTH_PIN = "002000800439393939"  # VERIFY by the current EF, "9999"
WRONG_TEXT_PIN_BY_SFI = "002000910439393939"  # VERIFY 80 | SFI 11, "9999"

LEGACY_HEADER = [
    "reader mynacard Virtual Reader 0, profile legacy-2016",
    "applet  FID   credential      tries left           label",
]
LEGACY_FRESH = [
    "jpki    0018  auth_pin        3 of 3 tries left    "
    "利用者証明用電子証明書暗証番号 (user-authentication PIN)",
    "jpki    001B  sign_password   5 of 5 tries left    署名用電子証明書パスワード (signature password)",
    "text    0011  pin             3 of 3 tries left    券面事項入力補助用暗証番号 (text AP PIN)",
    "text    0012  blocked_0012    blocked (63 C0)      key reference blocked from issuance (§3.2)",
    "text    0014  verification_a  10 of 10 tries left  照合番号A (the 12-digit 個人番号)",
    "text    0015  verification_b  10 of 10 tries left  "
    "照合番号B (birth YYMMDD + expiry year + security code, 14 digits)",
    "visual  0011  birth_date      10 of 10 tries left  生年月日 key (Japanese-era YYMMDD)",
    "visual  0012  verification_b  10 of 10 tries left  照合番号B (14 digits)",
    "visual  0013  verification_a  10 of 10 tries left  照合番号A (the 12-digit 個人番号)",
    "juki    001C  pin             3 of 3 tries left    "
    "住基用暗証番号 (4 digits, changed with CHANGE KEY 80 32)",
    "common  001C  pin             3 of 3 tries left    "
    "本人確認業務用暗証番号 (4 digits, changed with CHANGE KEY 80 32)",
]


def _wrong_verifies(state: Path, *commands: str) -> None:
    assert main(["apdu", "virtual", "--quiet", "--state", str(state), *commands]) == 0


def _status(capsys: pytest.CaptureFixture[str], *args: str) -> list[str]:
    assert main(["status", "virtual", *args]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    return captured.out.splitlines()


def test_a_fresh_card_shows_every_counter_full(capsys: pytest.CaptureFixture[str]) -> None:
    assert _status(capsys) == LEGACY_HEADER + LEGACY_FRESH


def test_counters_after_wrong_verifies_show_exactly_what_is_left(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    state = tmp_path / "card"
    _wrong_verifies(state, SELECT_JPKI, "00A4020C020018", WRONG_AUTH_PIN, WRONG_AUTH_PIN)
    _wrong_verifies(state, SELECT_TEXT, *[WRONG_TEXT_PIN_BY_SFI] * 3)
    capsys.readouterr()
    expected = list(LEGACY_FRESH)
    expected[0] = expected[0].replace("3 of 3 tries left", "1 of 3 tries left")
    expected[2] = (
        "text    0011  pin             blocked (63 C0)      券面事項入力補助用暗証番号 (text AP PIN)"
    )
    for _ in range(2):  # asking twice: the status spent nothing
        assert _status(capsys, "--state", str(state)) == LEGACY_HEADER + expected
    _wrong_verifies(state, SELECT_JPKI, "00A4020C020018")
    assert main(["apdu", "virtual", "--quiet", "--state", str(state), SELECT_JPKI, "00200098"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "63 C1: verification failed or counter query, 1 try left"
    )


def test_json_gives_each_counter(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    state = tmp_path / "card"
    _wrong_verifies(state, SELECT_JPKI, "00A4020C020018", WRONG_AUTH_PIN)
    capsys.readouterr()
    document = json.loads("\n".join(_status(capsys, "--state", str(state), "--json")))
    assert document["reader"] == "mynacard Virtual Reader 0"
    assert document["profile"] == "legacy-2016"
    assert document["credentials"][0] == {
        "applet": "jpki",
        "aid": "D3 92 F0 00 26 01 00 00 00 01",
        "credential": "auth_pin",
        "fid": "0018",
        "label": "利用者証明用電子証明書暗証番号 (user-authentication PIN)",
        "kind": "pin",
        "max_tries": 3,
        "state": "tries",
        "tries_left": 2,
        "sw": "63C2",
    }
    assert [(c["applet"], c["credential"], c["state"], c["tries_left"]) for c in document["credentials"]][
        2:4
    ] == [
        ("text", "pin", "tries", 3),
        ("text", "blocked_0012", "blocked", 0),
    ]


def test_the_next_card_says_what_cannot_be_read_in_plain(capsys: pytest.CaptureFixture[str]) -> None:
    assert _status(capsys, "--profile", "nextgen-2026", "--quiet") == [
        "applet  FID   credential      tries left                                       label",
        "auth    0018  pin             3 of 3 tries left                                "
        "暗証番号 (the one 4-digit PIN)",
        "auth    001B  sign_password   5 of 5 tries left                                "
        "署名用パスワード (signature password)",
        "auth    001D  puk             not set (6A 88)                                  "
        "PUK (set by the holder; unblocks the 4-digit PIN)",
        "face    0012  verification_b  cannot be read in plain (secure messaging only)  "
        "照合番号B (6 digits printed on the card)",
        "face    0013  verification_a  cannot be read in plain (secure messaging only)  "
        "照合番号A (the 12-digit My Number)",
    ]
    document = json.loads("\n".join(_status(capsys, "--profile", "nextgen-2026", "--json")))
    face = [c for c in document["credentials"] if c["applet"] == "face"]
    assert [(c["state"], c["tries_left"], c["sw"]) for c in face] == [("secure_messaging", None, None)] * 2


def test_a_bad_reader_is_one_usage_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "card0"]) == 2
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == (
        "",
        "mynacard: reader 'card0': expected 'virtual' or 'pcsc:NAME'\n",
    )


@pytest.mark.pcsc
def test_the_same_table_through_pcscd(pcsc_stack: PcscStack, capsys: pytest.CaptureFixture[str]) -> None:
    card = open_card("legacy-2016", "default", None)
    pcsc_stack.insert(card)
    reader = f"pcsc:{pcsc_stack.reader_name}"
    assert main(["apdu", reader, "--quiet", SELECT_JPKI, "00A4020C020018", WRONG_AUTH_PIN]) == 0
    capsys.readouterr()
    expected = list(LEGACY_FRESH)
    expected[0] = expected[0].replace("3 of 3 tries left", "2 of 3 tries left")
    assert main(["status", reader]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"reader {pcsc_stack.reader_name}, profile legacy-2016",
        LEGACY_HEADER[1],
        *expected,
    ]
