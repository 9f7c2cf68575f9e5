"""The state store: a card closed and reopened loses nothing, a killed process never gets a try back, a
failed write never reveals a comparison, and the files are readable JSON + PEM with no secret in them.

Issue 2 item 4 and "What it must show"; architecture rule 4.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mynacard.apdu.applets.jpki import JPKI_AID
from mynacard.apdu.applets.session import select_df_name
from mynacard.emulator.card import Card
from mynacard.emulator.issuance.personalise import load_card
from mynacard.emulator.store import state as store_state
from mynacard.emulator.store.state import StateError, StateStore

REPO = Path(__file__).resolve().parents[1]
SELECT_JPKI = select_df_name(JPKI_AID)
WRONG_AUTH = bytes.fromhex("00 20 00 98 04") + b"9999"
RIGHT_AUTH = bytes.fromhex("00 20 00 98 04") + b"1234"
QUERY_AUTH = bytes.fromhex("00 20 00 98")
QUERY_SIGN = bytes.fromhex("00 20 00 9B")

pytestmark = pytest.mark.destructive


def h(text: str) -> bytes:
    return bytes.fromhex(text)


def open_jpki(directory: Path) -> Card:
    card = load_card(StateStore(directory))
    card.power_on()
    assert card.process(SELECT_JPKI) == h("90 00")
    return card


def stored_tries(directory: Path) -> dict[str, int]:
    credentials = json.loads((directory / StateStore.SECURITY).read_text())["credentials"]
    return {key: state["tries_left"] for key, state in credentials.items()}


# --- close and reopen --------------------------------------------------------------------------------


def test_retry_counter_survives_close_and_reopen(card_state_factory: Callable[..., Path]) -> None:
    directory = card_state_factory()
    card = open_jpki(directory)
    assert card.process(WRONG_AUTH) == h("63 C2")
    assert card.process(bytes.fromhex("00 20 00 9B 06") + b"WRONG1") == h("63 C4")
    card.power_off()
    del card

    again = open_jpki(directory)
    assert again.process(QUERY_AUTH) == h("63 C2")
    assert again.process(QUERY_SIGN) == h("63 C4")
    assert again.process(WRONG_AUTH) == h("63 C1")
    assert open_jpki(directory).process(QUERY_AUTH) == h("63 C1")


def test_blocked_state_survives_reopen(card_state_factory: Callable[..., Path]) -> None:
    directory = card_state_factory()
    card = open_jpki(directory)
    assert [card.process(WRONG_AUTH) for _ in range(3)] == [h("63 C2"), h("63 C1"), h("63 C0")]
    again = open_jpki(directory)
    assert again.process(RIGHT_AUTH) == h("69 84")
    assert again.process(QUERY_AUTH) == h("63 C0")


def test_a_reset_counter_and_a_changed_pin_survive_reopen(card_state_factory: Callable[..., Path]) -> None:
    directory = card_state_factory()
    card = open_jpki(directory)
    assert card.process(WRONG_AUTH) == h("63 C2")
    assert card.process(RIGHT_AUTH) == h("90 00")
    assert card.process(h("00 24 01 98 04") + b"5678") == h("90 00")
    again = open_jpki(directory)
    assert again.process(QUERY_AUTH) == h("63 C3")
    assert again.process(RIGHT_AUTH) == h("63 C2")  # the old PIN is gone
    assert again.process(h("00 20 00 98 04") + b"5678") == h("90 00")


# --- a process killed between two VERIFYs -------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from mynacard.emulator.issuance.personalise import load_card
    from mynacard.emulator.store.state import StateStore

    card = load_card(StateStore(Path(sys.argv[1])))
    card.power_on()
    assert card.process(bytes.fromhex("00A4040C0AD392F000260100000001")) == b"\\x90\\x00"
    response = card.process(bytes.fromhex("0020009804") + b"9999")
    print(response.hex(), flush=True)
    sys.stdin.read()  # block until killed; the second VERIFY never comes
    """
)


def run_and_kill(directory: Path) -> str:
    """Run CHILD on ``directory``, read the SW it printed, SIGKILL it, return the SW (hex)."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(directory)],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline().decode().strip()
        if not line:
            _, err = child.communicate(timeout=30)
            pytest.fail(f"child printed nothing: {err.decode()[-2000:]}")
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
        return line
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_a_process_killed_after_a_wrong_verify_never_gets_the_try_back(
    card_state_factory: Callable[..., Path],
) -> None:
    directory = card_state_factory()
    assert run_and_kill(directory) == "63c2"
    card = open_jpki(directory)
    assert card.process(QUERY_AUTH) == h("63 C2")
    assert stored_tries(directory)["jpki/auth_pin"] == 2
    assert run_and_kill(directory) == "63c1"
    assert open_jpki(directory).process(QUERY_AUTH) == h("63 C1")
    assert not [p for p in directory.iterdir() if p.name.startswith(".")], "a temporary file was left behind"


# --- a failed write reveals nothing --------------------------------------------------------------------


def test_failed_state_write_reveals_no_comparison(
    card_state_factory: Callable[..., Path], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    directory = card_state_factory()
    card = open_jpki(directory)
    before = (directory / StateStore.SECURITY).read_bytes()

    def refuse(path: Path, data: bytes, mode: int = 0o600) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store_state, "write_atomic", refuse)
    assert card.process(WRONG_AUTH) == h("65 81")  # memory failure, never 63 Cx: the try was not recorded
    assert (directory / StateStore.SECURITY).read_bytes() == before
    assert stored_tries(directory)["jpki/auth_pin"] == 3
    assert any(r.levelname == "ERROR" for r in caplog.records)
    monkeypatch.undo()
    assert open_jpki(directory).process(QUERY_AUTH) == h("63 C3")


@pytest.mark.parametrize(
    ("errno", "text"),
    [(28, "No space left on device"), (30, "Read-only file system"), (13, "Permission denied")],
)
def test_every_storage_failure_is_65_81_and_the_card_keeps_serving(
    card_state_factory: Callable[..., Path], monkeypatch: pytest.MonkeyPatch, errno: int, text: str
) -> None:
    """ISO 7816-4's memory failure for a full disk, a read-only or forbidden state directory (issue 8)."""
    directory = card_state_factory()
    card = open_jpki(directory)

    def refuse(path: Path, data: bytes, mode: int = 0o600) -> None:
        raise OSError(errno, text)

    monkeypatch.setattr(store_state, "write_atomic", refuse)
    assert card.process(WRONG_AUTH) == h("65 81")
    assert card.process(QUERY_AUTH) == h("63 C3")  # reading still works
    monkeypatch.undo()
    assert card.process(WRONG_AUTH) == h("63 C2")


def test_failed_state_write_answers_alike_for_right_and_wrong_values(
    card_state_factory: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = card_state_factory()
    card = open_jpki(directory)

    def refuse(path: Path, data: bytes, mode: int = 0o600) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store_state, "write_atomic", refuse)
    assert card.process(RIGHT_AUTH) == h("65 81")
    assert card.process(WRONG_AUTH) == h("65 81")


def test_write_is_atomic_and_leaves_no_temporary_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "security.json"
    store_state.write_atomic(target, b"old")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("rename failed")

    monkeypatch.setattr(store_state.os, "replace", broken_replace)
    with pytest.raises(OSError, match="rename failed"):
        store_state.write_atomic(target, b"new")
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["security.json"]
    monkeypatch.undo()
    store_state.write_atomic(target, b"new")
    assert target.read_bytes() == b"new"
    assert target.stat().st_mode & 0o777 == 0o600


# --- what is on disk -----------------------------------------------------------------------------------


def leaves(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in leaves(v)]
    return [str(value)]


def test_state_files_are_json_and_pem_never_pickle(card_state_factory: Callable[..., Path]) -> None:
    directory = card_state_factory()
    open_jpki(directory).process(WRONG_AUTH)  # a write happened
    files = sorted(p for p in directory.rglob("*") if p.is_file())
    assert {p.name for p in files} >= {"card.json", "contents.json", "security.json", "profile.toml"}
    assert any(p.suffix == ".pem" for p in files)
    for path in files:
        raw = path.read_bytes()
        assert not raw.startswith(b"\x80"), f"{path} looks like a pickle"
        if path.suffix == ".json":
            document = json.loads(raw)
            assert document["format"] == "mynacard-card-state"
            assert document["version"] == 1
        elif path.suffix == ".pem":
            assert raw.startswith(b"-----BEGIN ")
        elif path.name == "security.lock":
            assert raw == b"", "the lock file only serialises counter updates; it holds nothing"
        else:
            assert path.name == "profile.toml", f"unexpected state file {path}"
            raw.decode("utf-8")


def test_security_json_never_holds_a_pin(card_state_factory: Callable[..., Path]) -> None:
    directory = card_state_factory()
    card = open_jpki(directory)
    assert card.process(RIGHT_AUTH) == h("90 00")
    assert card.process(h("00 24 01 98 04") + b"8642") == h("90 00")
    text = (directory / StateStore.SECURITY).read_text()
    for secret in (b"1234", b"8642", b"TEST1234"):
        assert secret.hex() not in text
        assert hashlib.sha256(secret).hexdigest() not in text  # salted, not a bare digest
        for leaf in leaves(json.loads(text)):
            assert leaf != secret.decode()
            assert not (set(leaf) - set("0123456789abcdef")) or secret.decode() not in leaf
    assert "TEST1234" not in text


def test_a_damaged_state_directory_is_refused_with_its_path(card_state_factory: Callable[..., Path]) -> None:
    directory = card_state_factory()
    (directory / StateStore.SECURITY).write_text("{not json")
    with pytest.raises(StateError, match=r"security\.json: not valid JSON"):
        load_card(StateStore(directory))
    (directory / StateStore.SECURITY).write_text(json.dumps({"format": "mynacard-card-state", "version": 99}))
    with pytest.raises(StateError, match="state version 99"):
        load_card(StateStore(directory))
    (directory / StateStore.SECURITY).unlink()
    with pytest.raises(StateError, match="missing"):
        load_card(StateStore(directory))


# --- two instances on one state directory ---------------------------------------------------------------


def test_two_instances_on_one_directory_share_one_counter(card_state_factory: Callable[..., Path]) -> None:
    """A second process (or instance) serving the same state never hands the first one's tries back."""
    directory = card_state_factory()
    first, second = open_jpki(directory), open_jpki(directory)
    assert first.process(WRONG_AUTH) == h("63 C2")
    assert second.process(QUERY_AUTH) == h("63 C2")
    assert second.process(WRONG_AUTH) == h("63 C1")
    assert first.process(WRONG_AUTH) == h("63 C0")
    assert second.process(RIGHT_AUTH) == h("69 84")
    assert stored_tries(directory)["jpki/auth_pin"] == 0
