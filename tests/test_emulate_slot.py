"""One card per vpcd slot: ``mynacard emulate`` refuses a served slot at once, naming the PID that serves it
(issue 8 item 2). vpcd accepts one card per slot and keeps a second connection in its backlog, so the second
emulator used to say "connected" while pcscd kept serving the first card."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mynacard.apdu.readers.pcsc import PcscReader
from mynacard.apdu.readers.softcards import EchoCard
from mynacard.apdu.readers.vpcd import VpcdBridge, reader_name
from mynacard.tools.cli.emulate import occupied_slot_message
from mynacard.tools.harness.pcsc import PcscStack, SlotHolder, vpcd_slot_holders, wait_card_present

SELECT_JPKI = bytes.fromhex("00A4040C0AD392F000260100000001")
START_SECONDS = 20.0
"""Python start-up and imports: generous, because the old behaviour was to never exit at all."""


def emulate(*args: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "mynacard", "emulate", *args]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def refused(*args: str) -> str:
    """Run ``emulate`` expecting it to exit at once with status 2; returns its stderr."""
    process = emulate(*args)
    try:
        out, err = process.communicate(timeout=START_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"emulate did not exit: it serves a card nobody sees (stdout {out!r}, stderr {err!r})")
    assert (process.returncode, out) == (2, ""), err
    return err


def served_by(slot: int, port: int, pid: int) -> re.Pattern[str]:
    return re.compile(
        rf"mynacard emulate: vpcd slot {slot} \(127\.0\.0\.1:{port}\) is already served by PID {pid} "
        r"\([^\n]*\)\. vpcd serves one card per slot: stop that process or choose another --slot\n"
    )


def command_line(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").replace(b"\0", b" ").decode()


# -- against a stand-in vpcd (a local TCP server), no pcscd ------------------------------------------------


class Slot:
    """A listening socket in vpcd's place, and the bridges (cards) connected to it."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0), backlog=1)
        self.server.settimeout(5)
        self.port: int = self.server.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self.bridges: list[VpcdBridge] = []

    def connect_card(self, accept: bool = True) -> VpcdBridge:
        bridge = VpcdBridge(EchoCard(), port_base=self.port)
        self.bridges.append(bridge)
        bridge.start()
        assert bridge.wait_connected(5)
        if accept:
            self.accepted.append(self.server.accept()[0])
        return bridge

    def close(self) -> None:
        for bridge in self.bridges:
            bridge.stop()
        for peer in self.accepted:
            peer.close()
        self.server.close()


@pytest.fixture
def slot() -> Iterator[Slot]:
    stand_in = Slot()
    yield stand_in
    stand_in.close()


def test_a_free_slot_has_no_holder(slot: Slot) -> None:
    assert vpcd_slot_holders("127.0.0.1", slot.port) == []
    assert occupied_slot_message(0, "127.0.0.1", slot.port) is None


def test_the_served_card_and_the_one_waiting_in_the_backlog_are_both_named(slot: Slot) -> None:
    slot.connect_card()
    slot.connect_card(accept=False)
    pid = os.getpid()
    assert vpcd_slot_holders("127.0.0.1", slot.port) == [SlotHolder((pid,), True), SlotHolder((pid,), False)]
    assert vpcd_slot_holders("localhost", slot.port) == vpcd_slot_holders("127.0.0.1", slot.port)
    assert vpcd_slot_holders("192.0.2.1", slot.port) == [], "a vpcd elsewhere is not in this machine's tables"
    described = f"PID {pid} ({command_line(pid)[:77]}"
    assert occupied_slot_message(1, "127.0.0.1", slot.port) == (
        f"vpcd slot 1 (127.0.0.1:{slot.port}) is already served by {SlotHolder((pid,), True).describe()}; "
        f"waiting for it: {SlotHolder((pid,), False).describe()}. "
        "vpcd serves one card per slot: stop that process or choose another --slot"
    )
    assert SlotHolder((pid,), True).describe().startswith(described)
    assert SlotHolder((), True).describe() == "a process whose PID this user cannot see"


def test_emulate_refuses_a_served_slot_at_once_and_personalises_nothing(slot: Slot, tmp_path: Path) -> None:
    slot.connect_card()
    state = tmp_path / "card"
    err = refused("--state", str(state), "--port-base", str(slot.port - 1), "--slot", "1")
    assert served_by(1, slot.port, os.getpid()).fullmatch(err), err
    assert not state.exists()


# -- through pcscd + vpcd ---------------------------------------------------------------------------------


@pytest.mark.pcsc
def test_emulate_refuses_the_slot_the_test_harness_serves(pcsc_stack: PcscStack, tmp_path: Path) -> None:
    card = EchoCard()
    pcsc_stack.insert(card)
    connections = pcsc_stack.bridge.connections
    port = pcsc_stack.bridge.address[1]
    err = refused("--state", str(tmp_path / "card"), "--slot", str(pcsc_stack.slot))
    assert served_by(pcsc_stack.slot, port, os.getpid()).fullmatch(err), err
    with PcscReader(pcsc_stack.reader_name) as reader:
        assert reader.power_on() == card.atr
        assert reader.transmit(bytes.fromhex("80EE000002CAFE")).to_bytes() == bytes.fromhex("CAFE9000")
    assert pcsc_stack.bridge.connections == connections


@pytest.mark.pcsc
def test_a_second_emulate_on_a_slot_names_the_first_and_leaves_it_serving(
    pcsc_stack: PcscStack, tmp_path: Path
) -> None:
    slot = 1 - pcsc_stack.slot
    name, port = reader_name(slot), pcsc_stack.bridge.address[1] - pcsc_stack.slot + slot
    first = emulate("--state", str(tmp_path / "first"), "--slot", str(slot))
    try:
        wait_card_present(name, bytes.fromhex("3BE000FF8131FE4514"), timeout=30)
        started = time.monotonic()
        err = refused("--state", str(tmp_path / "second"), "--slot", str(slot))
        assert served_by(slot, port, first.pid).fullmatch(err), err
        assert time.monotonic() - started < START_SECONDS
        assert not (tmp_path / "second").exists()
        assert first.poll() is None, "the first emulator keeps serving"
        with PcscReader(name) as reader:
            reader.power_on()
            assert reader.transmit(SELECT_JPKI).to_bytes() == bytes.fromhex("9000")
    finally:
        first.send_signal(signal.SIGTERM)
        out, err = first.communicate(timeout=10)
    assert first.returncode == 0, err
    assert out.strip().endswith(f"PC/SC reader: {name}")
