"""State directories that cannot lie (issue 8, item 3), through the CLI where a user meets them.

A directory that lost its ``card.json`` is refused, never personalised again (that regained every try);
every damaged state file is refused with ``file: field: what is wrong`` and exit status 2, no traceback;
leftover temporary files are removed on open; personalisation is atomic and refuses a non-empty directory;
a card reopens from its own profile; the demo uses the persona the card was made for.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from mynacard.emulator.errors import StateError
from mynacard.emulator.issuance import personalise as personalise_module
from mynacard.emulator.issuance.personalise import open_card
from mynacard.emulator.store.state import StateStore
from mynacard.tools.cli import main
from tests.test_profile_format import MINI

StateFactory = Callable[..., Path]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mynacard", *args], capture_output=True, text=True, timeout=120, check=False
    )


def security(directory: Path) -> dict[str, object]:
    document = json.loads((directory / StateStore.SECURITY).read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def test_a_directory_without_card_json_is_refused_and_no_try_comes_back(
    card_state_factory: StateFactory,
) -> None:
    directory = card_state_factory()
    credentials = security(directory)["credentials"]
    assert isinstance(credentials, dict)
    credentials["jpki/auth_pin"]["tries_left"] = 2
    (directory / StateStore.SECURITY).write_text(
        json.dumps(security(directory) | {"credentials": credentials})
    )
    before = {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file()}
    (directory / StateStore.CARD).unlink()
    result = run_cli("demo", "--state", str(directory))
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"{directory}: holds files but no card.json" in result.stderr
    assert "Traceback" not in result.stderr
    after = {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file()}
    assert after == {k: v for k, v in before.items() if k != StateStore.CARD}  # nothing personalised over it


def _edit_json(name: str, change: Callable[[dict[str, object]], object]) -> Callable[[Path], None]:
    def edit(directory: Path) -> None:
        document = json.loads((directory / name).read_text(encoding="utf-8"))
        change(document)
        (directory / name).write_text(json.dumps(document), encoding="utf-8")

    return edit


def _auth_pin(field: str, value: object) -> Callable[[dict[str, object]], object]:
    def change(document: dict[str, object]) -> None:
        credentials = document["credentials"]
        assert isinstance(credentials, dict)
        credentials["jpki/auth_pin"][field] = value

    return change


def _write(name: str, data: bytes) -> Callable[[Path], None]:
    return lambda directory: (directory / name).write_bytes(data)


DAMAGE: dict[str, tuple[Callable[[Path], None], str]] = {
    "bad JSON": (
        _write("security.json", b'{"format": "mynacard-card-state",'),
        "security.json: not valid JSON (",
    ),
    "wrong encoding": (
        _write("card.json", '{"format": "mynacard-card-state", "profile": "テスト"}'.encode("shift_jis")),
        "card.json: not UTF-8",
    ),
    "tries_left true": (
        _edit_json("security.json", _auth_pin("tries_left", True)),
        "credentials.jpki/auth_pin.tries_left: Input should be a valid integer",
    ),
    "tries_left 99": (
        _edit_json("security.json", _auth_pin("tries_left", 99)),
        "credentials.jpki/auth_pin.tries_left: Input should be less than or equal to 15",
    ),
    "tries_left -1": (
        _edit_json("security.json", _auth_pin("tries_left", -1)),
        "credentials.jpki/auth_pin.tries_left: Input should be greater than or equal to 0",
    ),
    "tries_left above the limit": (
        _edit_json("security.json", _auth_pin("tries_left", 9)),
        "security.json: credentials.jpki/auth_pin.tries_left: 9 is more than the limit 3",
    ),
    "bad hex": (
        _edit_json("security.json", _auth_pin("salt", "zz")),
        "credentials.jpki/auth_pin.salt: String should match pattern",
    ),
    "short digest": (
        _edit_json("security.json", _auth_pin("digest", "00")),
        "credentials.jpki/auth_pin.digest: String should have at least 64 characters",
    ),
    "missing credential": (
        _edit_json("security.json", lambda d: d["credentials"].pop("jpki/auth_pin")),  # type: ignore[attr-defined]
        "security.json: credentials: no state for jpki/auth_pin",
    ),
    "contents not hex": (
        _edit_json("contents.json", lambda d: d["files"].update({"jpki/0002": "xyz"})),  # type: ignore[attr-defined]
        "contents.json: invalid card-state file\n  files.jpki/0002: String should match pattern",
    ),
    "card.json of another version": (
        _edit_json("card.json", lambda d: d.update({"version": 7})),
        "card.json: state version 7, this build reads 1",
    ),
    "garbled key": (
        _write("keys/jpki-0017.pem", b"-----BEGIN PRIVATE KEY-----\nAAAA\n"),
        "jpki-0017.pem: not a PEM",
    ),
    "profile not UTF-8": (_write("profile.toml", b"\xff\xfe[profile]"), "profile.toml: not UTF-8"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_state_file_is_refused_naming_file_and_field(
    card_state_factory: StateFactory, damage: str
) -> None:
    directory = card_state_factory()
    spoil, message = DAMAGE[damage]
    spoil(directory)
    result = run_cli("demo", "--state", str(directory))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert message in result.stderr
    assert str(directory) in result.stderr


def test_leftover_temporary_files_are_removed_on_open(card_state_factory: StateFactory) -> None:
    directory = card_state_factory()
    leftover = directory / ".security.json.k3j4h5g6"
    leftover.write_bytes(b'{"half": ')
    open_card(None, None, directory)
    assert not leftover.exists()


KILLER = textwrap.dedent(
    """
    import sys
    from mynacard.emulator.issuance.personalise import open_card
    card = open_card(None, None, sys.argv[1])
    card.power_on()
    card.process(bytes.fromhex("00A4040C0AD392F000260100000001"))
    print("ready", flush=True)
    while True:
        card.process(bytes.fromhex("00200098043132333400")[:-1])
    """
)


def test_no_temporary_file_survives_kill_9_and_a_reopen(card_state_factory: StateFactory) -> None:
    """SIGKILL a VERIFY burst many times; whatever temporary files the kills leave, a reopen removes."""
    directory = card_state_factory()
    for round_ in range(12):
        child = subprocess.Popen(
            [sys.executable, "-c", KILLER, str(directory)], stdout=subprocess.PIPE, text=True
        )
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        time.sleep(0.02 + 0.013 * round_)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    open_card(None, None, directory)
    assert sorted(p.name for p in directory.glob(".security.json.*")) == []


def test_personalisation_refuses_a_non_empty_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    directory = tmp_path / "mine"
    directory.mkdir()
    (directory / "notes.txt").write_text("my own file")
    assert main(["personalise", "--state", str(directory)]) == 2
    assert "holds files but no card.json" in capsys.readouterr().err
    assert sorted(p.name for p in directory.iterdir()) == ["notes.txt"]


def test_a_failed_personalisation_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> dict[str, bytes]:
        raise RuntimeError("builder bug")

    monkeypatch.setattr(personalise_module, "build_sources", broken)
    with pytest.raises(RuntimeError, match="builder bug"):
        open_card("legacy-2016", "default", tmp_path / "card")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_a_card_reopens_from_its_own_profile(tmp_path: Path) -> None:
    profile = tmp_path / "mini.toml"
    profile.write_text(MINI, encoding="utf-8")
    made = open_card(profile, None, tmp_path / "card")
    assert open_card(None, None, tmp_path / "card").name == made.name == "mini"
    with pytest.raises(StateError, match="holds a mini card, not legacy-2016"):
        open_card("legacy-2016", None, tmp_path / "card")


def test_demo_uses_the_persona_the_card_was_made_for(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "card"
    assert main(["personalise", "--state", str(state), "--persona", "long-address"]) == 0
    capsys.readouterr()
    before = (state / StateStore.SECURITY).read_bytes()
    assert main(["demo", "--state", str(state), "--persona", "default"]) == 2
    assert "holds the card of TEST persona 'long-address', not 'default'" in capsys.readouterr().err
    assert (state / StateStore.SECURITY).read_bytes() == before  # refused before any VERIFY
    assert main(["demo", "--state", str(state)]) == 0
    assert "# PIN tries left: 3" in capsys.readouterr().out


def test_emulate_reopens_a_card_of_a_custom_profile_without_naming_it(tmp_path: Path) -> None:
    """The card's own profile.toml is enough; the original profile file may be gone (issue 8)."""
    profile = tmp_path / "mini.toml"
    profile.write_text(MINI, encoding="utf-8")
    state = tmp_path / "card"
    assert (
        run_cli(
            "personalise", "--profile", str(profile), "--persona", "default", "--state", str(state)
        ).returncode
        == 0
    )
    profile.unlink()
    child = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mynacard",
            "emulate",
            "--state",
            str(state),
            "--slot",
            "1",
            "--port-base",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        assert line.startswith(f"card {state} (3B "), line + (child.stderr.read() if child.stderr else "")
    finally:
        child.send_signal(signal.SIGTERM)
        child.wait(timeout=30)
