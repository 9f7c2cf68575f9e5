"""VpcdBridge against a scripted vpcd (a local TCP server speaking vpcd's framing): exact bytes, no pcscd."""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mynacard.apdu.readers import vpcd as vpcd_module
from mynacard.apdu.readers.softcards import EchoCard
from mynacard.apdu.readers.vpcd import GET_ATR, POWER_OFF, POWER_ON, RESET, VpcdBridge, reader_name
from mynacard.apdu.trace import TRAFFIC, Exchange

OTHER_ATR = bytes.fromhex("3B 8A 80 01 50 79 56 69 72 74 43 61 72 64 2F")


class FakeVpcd:
    """The server side of one vpcd slot: accepts the bridge and exchanges framed messages with it."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.server.settimeout(5)
        self.port: int = self.server.getsockname()[1]
        self.peer: socket.socket | None = None

    def accept(self, timeout: float = 5.0) -> None:
        self.server.settimeout(timeout)
        self.peer, _ = self.server.accept()
        self.peer.settimeout(5)

    def send(self, payload: bytes) -> None:
        assert self.peer is not None
        self.peer.sendall(len(payload).to_bytes(2, "big") + payload)

    def receive(self) -> bytes:
        header = self._exactly(2)
        return self._exactly(header[0] << 8 | header[1])

    def _exactly(self, n: int) -> bytes:
        assert self.peer is not None
        data = b""
        while len(data) < n:
            chunk = self.peer.recv(n - len(data))
            assert chunk, "bridge closed the connection"
            data += chunk
        return data

    def ask(self, payload: bytes) -> bytes:
        self.send(payload)
        return self.receive()

    def control(self, code: int) -> None:
        self.send(bytes((code,)))

    def peer_closed(self, timeout: float = 2.0) -> bool:
        assert self.peer is not None
        self.peer.settimeout(timeout)
        try:
            return self.peer.recv(1) == b""
        except (ConnectionResetError, TimeoutError):
            return False

    def drop(self) -> None:
        """What a pcscd stop looks like to the card: the connection goes away."""
        if self.peer is not None:
            self.peer.close()
            self.peer = None

    def close(self) -> None:
        self.drop()
        self.server.close()


@pytest.fixture
def vpcd() -> Iterator[FakeVpcd]:
    server = FakeVpcd()
    yield server
    server.close()


@pytest.fixture
def card() -> EchoCard:
    return EchoCard()


@pytest.fixture
def bridge(vpcd: FakeVpcd, card: EchoCard) -> Iterator[VpcdBridge]:
    bridge = VpcdBridge(card, port_base=vpcd.port, retry_seconds=0.05)
    bridge.start()
    vpcd.accept()
    assert bridge.wait_connected(5)
    yield bridge
    bridge.stop()


def test_get_atr_is_answered_with_the_framed_atr(vpcd: FakeVpcd, bridge: VpcdBridge) -> None:
    vpcd.send(bytes((GET_ATR,)))
    assert vpcd.peer is not None
    assert vpcd._exactly(11) == bytes.fromhex("0009 3BE000FF8131FE4514")


def test_power_on_resets_the_card_and_sends_no_reply(
    vpcd: FakeVpcd, bridge: VpcdBridge, card: EchoCard
) -> None:
    vpcd.control(POWER_ON)
    vpcd.control(RESET)
    vpcd.control(POWER_OFF)
    # The next reply proves the three control bytes produced none.
    assert vpcd.ask(bytes.fromhex("80010000")) == bytes.fromhex("9000")
    assert (card.power_ons, card.resets, card.power_offs) == (1, 1, 1)
    assert not bridge.powered


def test_command_apdu_gets_the_card_response_verbatim(vpcd: FakeVpcd, bridge: VpcdBridge) -> None:
    vpcd.control(POWER_ON)
    assert vpcd.ask(bytes.fromhex("80EE000003AABBCC")) == bytes.fromhex("AABBCC9000")
    assert vpcd.ask(bytes.fromhex("00B0000004")) == bytes.fromhex("000102039000")


def test_header_and_payload_in_separate_segments_are_reassembled(vpcd: FakeVpcd, bridge: VpcdBridge) -> None:
    assert vpcd.peer is not None
    vpcd.peer.sendall(b"\x00")
    time.sleep(0.02)
    vpcd.peer.sendall(b"\x08\x80\xee\x00")
    time.sleep(0.02)
    vpcd.peer.sendall(bytes.fromhex("0003AABBCC"))
    assert vpcd.receive() == bytes.fromhex("AABBCC9000")


class BrokenCard(EchoCard):
    """Raises on INS 01, answers without a status word on INS 02, answers too much on INS 03."""

    def process(self, command: bytes) -> bytes:
        if command[1] == 0x01:
            raise RuntimeError("card bug")
        if command[1] == 0x02:
            return b"\x90"
        if command[1] == 0x03:
            return bytes(65534) + b"\x90\x00"
        return super().process(command)


@pytest.mark.parametrize("ins", [0x01, 0x02, 0x03])
def test_card_failures_become_6f00_and_the_slot_keeps_serving(vpcd: FakeVpcd, ins: int) -> None:
    bridge = VpcdBridge(BrokenCard(), port_base=vpcd.port)
    bridge.start()
    try:
        vpcd.accept()
        assert vpcd.ask(bytes((0x80, ins, 0, 0))) == bytes.fromhex("6F00")
        assert vpcd.ask(bytes.fromhex("80EE00000111")) == bytes.fromhex("119000")
    finally:
        bridge.stop()


def test_largest_deliverable_response_passes(vpcd: FakeVpcd) -> None:
    class Big(EchoCard):
        def process(self, command: bytes) -> bytes:
            return b"\x5a" * 65533 + b"\x90\x00"

    bridge = VpcdBridge(Big(), port_base=vpcd.port)
    bridge.start()
    try:
        vpcd.accept()
        assert vpcd.ask(bytes.fromhex("00B00000000000")) == b"\x5a" * 65533 + b"\x90\x00"
    finally:
        bridge.stop()


def test_reconnects_after_vpcd_goes_away(vpcd: FakeVpcd, bridge: VpcdBridge, card: EchoCard) -> None:
    vpcd.control(POWER_ON)
    assert vpcd.ask(bytes.fromhex("80010000")) == bytes.fromhex("9000")
    vpcd.drop()
    vpcd.accept()
    assert vpcd.ask(bytes.fromhex("80010000")) == bytes.fromhex("9000")
    assert bridge.connections == 2
    assert not bridge.powered, "a new connection starts with the card unpowered"


def test_reconnects_when_vpcd_starts_listening_later(card: EchoCard) -> None:
    vpcd = FakeVpcd()
    port = vpcd.port
    vpcd.close()  # nothing listens: the bridge retries every retry_seconds
    bridge = VpcdBridge(card, port_base=port, retry_seconds=0.05)
    bridge.start()
    try:
        time.sleep(0.2)
        assert not bridge.connected
        server = socket.create_server(("127.0.0.1", port))
        server.settimeout(5)
        peer, _ = server.accept()
        peer.sendall(bytes.fromhex("0001 04"))
        assert peer.recv(64) == bytes.fromhex("0009 3BE000FF8131FE4514")
        peer.close()
        server.close()
    finally:
        bridge.stop()


def test_remove_disconnects_and_insert_reconnects(vpcd: FakeVpcd, bridge: VpcdBridge) -> None:
    bridge.remove()
    assert vpcd.peer_closed()
    assert bridge.card is None
    vpcd.drop()
    with pytest.raises(TimeoutError):
        vpcd.accept(timeout=0.3)  # an empty slot stays away, so pcscd sees no card
    fresh = EchoCard()
    bridge.insert(fresh)
    vpcd.accept()
    vpcd.control(POWER_ON)
    assert vpcd.ask(bytes.fromhex("00B0000002")) == bytes.fromhex("00019000")
    assert fresh.power_ons == 1


def test_insert_with_the_same_atr_swaps_on_the_live_connection(
    vpcd: FakeVpcd, bridge: VpcdBridge, card: EchoCard
) -> None:
    vpcd.control(POWER_ON)
    assert vpcd.ask(bytes.fromhex("80010000")) == bytes.fromhex("9000")
    fresh = EchoCard()
    bridge.insert(fresh)
    assert vpcd.ask(bytes.fromhex("80EE00000142")) == bytes.fromhex("429000")
    assert bridge.card is fresh
    assert bridge.connections == 1
    assert card.power_offs == 1, "the card taken out was powered off"
    assert fresh.power_ons == 1, "the card put in a powered slot was powered on"


def test_insert_with_another_atr_replugs(vpcd: FakeVpcd, bridge: VpcdBridge) -> None:
    bridge.insert(EchoCard(OTHER_ATR))
    assert vpcd.peer_closed()
    vpcd.drop()
    started = time.monotonic()
    vpcd.accept()
    assert time.monotonic() - started > 0.4, "stays away longer than pcscd's presence poll"
    assert vpcd.ask(bytes((GET_ATR,))) == OTHER_ATR
    assert bridge.connections == 2


def test_stop_ends_the_thread_promptly(vpcd: FakeVpcd, card: EchoCard) -> None:
    bridge = VpcdBridge(card, port_base=vpcd.port)
    thread = bridge.start()
    vpcd.accept()
    started = time.monotonic()
    bridge.stop()
    assert not thread.is_alive()
    assert time.monotonic() - started < 1.0
    assert vpcd.peer_closed()


def test_exchanges_are_logged_at_traffic_level_with_pins_masked(
    vpcd: FakeVpcd, bridge: VpcdBridge, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[Exchange] = []
    bridge.add_observer(seen.append)
    caplog.set_level(TRAFFIC, logger="mynacard.apdu.readers.vpcd")
    assert vpcd.ask(bytes.fromhex("002000800431323334")) == bytes.fromhex("313233349000")
    assert [e.command for e in seen] == [bytes.fromhex("002000802A2A2A2A2A")]
    assert seen[0].response == bytes.fromhex("313233349000")
    traffic = [r.getMessage() for r in caplog.records if r.levelno == TRAFFIC]
    assert traffic == ["vpcd slot 0\n> 00 20 00 80 ** ** ** ** **\n< 31 32 33 34  90 00: success"]


def test_a_failing_observer_does_not_break_the_exchange(vpcd: FakeVpcd, bridge: VpcdBridge) -> None:
    def broken(exchange: Exchange) -> None:
        raise RuntimeError("observer bug")

    bridge.add_observer(broken)
    logging.getLogger("mynacard.apdu.readers.vpcd").disabled = True
    try:
        assert vpcd.ask(bytes.fromhex("80010000")) == bytes.fromhex("9000")
    finally:
        logging.getLogger("mynacard.apdu.readers.vpcd").disabled = False


def test_slots_share_one_process(card: EchoCard) -> None:
    first, second = FakeVpcd(), FakeVpcd()
    bridges = [
        VpcdBridge(EchoCard(), port_base=first.port),
        VpcdBridge(EchoCard(OTHER_ATR), port_base=second.port),
    ]
    for bridge in bridges:
        bridge.start()
    try:
        first.accept()
        second.accept()
        assert first.ask(bytes((GET_ATR,))) == EchoCard.ATR
        assert second.ask(bytes((GET_ATR,))) == OTHER_ATR
    finally:
        for bridge in bridges:
            bridge.stop()
        first.close()
        second.close()


def test_reader_name_follows_pcscd_numbering() -> None:
    assert reader_name(0) == "Virtual PCD 00 00"
    assert reader_name(1) == "Virtual PCD 00 01"


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_runner_stops_cleanly_on_signal(vpcd: FakeVpcd, signum: int) -> None:
    script = textwrap.dedent(
        f"""
        from mynacard.apdu.readers.vpcd import VpcdBridge, serve_until_signalled
        from mynacard.apdu.readers.softcards import EchoCard
        serve_until_signalled([VpcdBridge(EchoCard(), port_base={vpcd.port})])
        print("stopped")
        """
    )
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": str(root)}
    process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, env=env, cwd=root)
    try:
        vpcd.accept(timeout=10)
        assert vpcd.ask(bytes((GET_ATR,))) == EchoCard.ATR
        process.send_signal(signum)
        out, _ = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
    assert out == b"stopped\n"
    assert vpcd.peer_closed()


def test_emulate_command_serves_the_card_until_sigterm(vpcd: FakeVpcd, tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import argparse, sys
        from mynacard.tools.cli.emulate import add_parser
        parser = argparse.ArgumentParser(prog="mynacard")
        add_parser(parser.add_subparsers())
        args = parser.parse_args(sys.argv[1:])
        sys.exit(args.func(args))
        """
    )
    root = Path(__file__).resolve().parent.parent
    command = [sys.executable, "-c", script, "emulate", "--state", str(tmp_path / "card")]
    command += ["--port-base", str(vpcd.port - 1), "--slot", "1", "--traffic"]
    env = {**os.environ, "PYTHONPATH": str(root)}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=root)
    try:
        vpcd.accept(timeout=30)
        assert vpcd.ask(bytes((GET_ATR,))) == bytes.fromhex("3BE000FF8131FE4514")
        vpcd.control(POWER_ON)
        assert vpcd.ask(bytes.fromhex("00A4040C0AD392F000260100000001")) == bytes.fromhex("9000")
        assert vpcd.ask(bytes.fromhex("00A4020C020018")) == bytes.fromhex("9000")
        assert vpcd.ask(bytes.fromhex("002000800431323334"))[:1] in (b"\x90", b"\x63")
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0
    assert out.decode().strip().endswith("PC/SC reader: Virtual PCD 00 01")
    assert "00 20 00 80 ** ** ** ** **" in err.decode()
    assert "31 32 33 34" not in err.decode()


def test_a_card_whose_atr_raises_is_treated_as_absent_and_the_bridge_survives(vpcd: FakeVpcd) -> None:
    class NoAtr(EchoCard):
        failures = 1

        @property
        def atr(self) -> bytes:
            if NoAtr.failures:
                NoAtr.failures -= 1
                raise RuntimeError("card bug")
            return EchoCard.ATR

    bridge = VpcdBridge(NoAtr(), port_base=vpcd.port)
    bridge.start()
    try:
        vpcd.accept()
        vpcd.send(bytes((GET_ATR,)))
        assert vpcd.peer_closed()
        vpcd.drop()
        vpcd.accept()
        assert vpcd.ask(bytes((GET_ATR,))) == EchoCard.ATR
    finally:
        bridge.stop()


def test_an_unconnected_bridge_says_why_nothing_happens(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """`mynacard emulate` without pcscd must not sit silent: one warning names the address and the cause."""
    import threading

    monkeypatch.setattr(vpcd_module, "UNCONNECTED_WARNING_SECONDS", 0.01)
    bridge = VpcdBridge(EchoCard(), slot=1, port_base=1)  # never started, so never connected
    with caplog.at_level(logging.WARNING, logger="mynacard.apdu.readers.vpcd"):
        vpcd_module._warn_while_unconnected([bridge], threading.Event())
    assert [r.getMessage() for r in caplog.records] == [
        "vpcd slot 1: nothing listens on 127.0.0.1:2 yet; "
        "is pcscd running with vsmartcard-vpcd? (still trying)"
    ]


# -- 1-byte messages: control codes and too-short command APDUs (issue 8 item 1) ---------------------------

VPCD_LOGGER = "mynacard.apdu.readers.vpcd"
NOT_CONTROL_CODES = [code for code in range(256) if code not in (POWER_OFF, POWER_ON, RESET, GET_ATR)]


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and r.name == VPCD_LOGGER]


def test_every_1_byte_message_that_is_no_control_code_gets_6700(
    vpcd: FakeVpcd, bridge: VpcdBridge, card: EchoCard
) -> None:
    """vpcd waits for an answer to a 1-byte command without a timeout; it used to get none (a hang)."""
    vpcd.control(POWER_ON)
    assert vpcd.ask(bytes((GET_ATR,))) == EchoCard.ATR
    for code in NOT_CONTROL_CODES:
        assert vpcd.ask(bytes((code,))) == bytes.fromhex("6700"), f"1-byte command {code:02X}"
    assert vpcd.ask(bytes.fromhex("80EE00000142")) == bytes.fromhex("429000")
    assert (card.power_ons, card.resets, card.power_offs) == (1, 0, 0)
    assert bridge.powered


def test_a_1_byte_command_is_traced_and_observed(
    vpcd: FakeVpcd, bridge: VpcdBridge, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[Exchange] = []
    bridge.add_observer(seen.append)
    caplog.set_level(TRAFFIC, logger=VPCD_LOGGER)
    assert vpcd.ask(b"\x8a") == bytes.fromhex("6700")
    assert [(e.command, e.response) for e in seen] == [(b"\x8a", bytes.fromhex("6700"))]
    traffic = [r.getMessage() for r in caplog.records if r.levelno == TRAFFIC]
    assert traffic == ["vpcd slot 0\n> 8A\n< 67 00: wrong length (Lc or Le)"]
    assert warnings_of(caplog) == []


def test_the_control_sequences_pcscd_sends_give_no_warning(
    vpcd: FakeVpcd, bridge: VpcdBridge, card: EchoCard, caplog: pytest.LogCaptureFixture
) -> None:
    """As recorded from pcscd 1.9.9 + vpcd 0.8: insertion, idle power-down, polls, connect, reset,
    reconnect and disconnect."""
    caplog.set_level(logging.WARNING, logger=VPCD_LOGGER)
    for code in (GET_ATR, GET_ATR, POWER_ON):
        vpcd.control(code)
    assert vpcd.receive() == EchoCard.ATR  # the first GET ATR
    assert vpcd.receive() == EchoCard.ATR
    assert vpcd.ask(bytes((GET_ATR,))) == EchoCard.ATR  # pcscd reads the ATR after the power-up
    vpcd.control(POWER_OFF)  # idle power-down
    assert vpcd.ask(bytes((GET_ATR,))) == EchoCard.ATR  # presence polls while unpowered
    vpcd.control(POWER_ON)  # SCardConnect
    assert vpcd.ask(bytes((GET_ATR,))) == EchoCard.ATR
    assert vpcd.ask(bytes.fromhex("80010000")) == bytes.fromhex("9000")
    vpcd.control(RESET)  # SCardReconnect(SCARD_RESET_CARD)
    assert vpcd.ask(bytes((GET_ATR,))) == EchoCard.ATR
    vpcd.control(POWER_OFF)  # SCardReconnect(SCARD_UNPOWER_CARD): power-off, then power-on
    vpcd.control(POWER_ON)
    assert vpcd.ask(bytes((GET_ATR,))) == EchoCard.ATR
    vpcd.control(POWER_OFF)  # SCardDisconnect(SCARD_UNPOWER_CARD)
    assert vpcd.ask(bytes((GET_ATR,))) == EchoCard.ATR
    assert (card.power_ons, card.resets, card.power_offs) == (3, 1, 3)
    assert warnings_of(caplog) == []


def test_a_power_on_while_powered_is_warned(
    vpcd: FakeVpcd, bridge: VpcdBridge, card: EchoCard, caplog: pytest.LogCaptureFixture
) -> None:
    """pcscd powers up only a card it believes unpowered: a second 01 is a client's 1-byte command."""
    vpcd.control(POWER_ON)
    assert vpcd.ask(bytes((GET_ATR,))) == EchoCard.ATR
    caplog.set_level(logging.WARNING, logger=VPCD_LOGGER)
    vpcd.control(POWER_ON)
    assert vpcd.ask(bytes((GET_ATR,))) == EchoCard.ATR  # still acted on, as the control code it may be
    assert card.power_ons == 2
    assert warnings_of(caplog) == [
        "vpcd slot 0: 01 (power-on) while the card is powered: a 1-byte command APDU 01? "
        "vpcd's framing cannot tell it from the control code"
    ]


@pytest.mark.parametrize("code", [POWER_OFF, RESET])
def test_a_power_off_or_reset_while_unpowered_is_normal(
    vpcd: FakeVpcd, bridge: VpcdBridge, card: EchoCard, caplog: pytest.LogCaptureFixture, code: int
) -> None:
    """pcscd powers down the card it still believes powered after a reconnect, and resets through DIRECT
    handles; a client's 1-byte 00 or 02 would arrive while powered, so neither is worth a warning."""
    caplog.set_level(logging.WARNING, logger=VPCD_LOGGER)
    vpcd.control(code)
    assert vpcd.ask(bytes((GET_ATR,))) == EchoCard.ATR
    assert (card.resets, card.power_offs) == ((1, 0) if code == RESET else (0, 1))
    assert warnings_of(caplog) == []


@pytest.mark.parametrize("code", [POWER_OFF, POWER_ON, RESET])
def test_silence_after_a_no_reply_control_code_replugs(
    vpcd: FakeVpcd, card: EchoCard, caplog: pytest.LogCaptureFixture, code: int
) -> None:
    """vpcd silent after 00/01/02 waits for an answer to a 1-byte command: the bridge replugs to free it."""
    caplog.set_level(logging.WARNING, logger=VPCD_LOGGER)
    bridge = VpcdBridge(card, port_base=vpcd.port, retry_seconds=0.05, silence_seconds=0.3)
    bridge.start()
    try:
        vpcd.accept()
        vpcd.control(POWER_ON)
        assert vpcd.ask(bytes((GET_ATR,))) == EchoCard.ATR
        vpcd.control(code)
        started = time.monotonic()
        # vpcd's recv returns, so pcscd's transmit fails and frees the reader
        assert vpcd.peer_closed(timeout=2)
        assert 0.25 < time.monotonic() - started < 1.5
        vpcd.drop()
        vpcd.accept()
        assert time.monotonic() - started > 0.3 + 0.4, "stays away longer than pcscd's presence poll"
        assert not bridge.powered
        vpcd.control(POWER_ON)
        assert vpcd.ask(bytes((GET_ATR,))) == EchoCard.ATR
        assert vpcd.ask(bytes.fromhex("80EE00000142")) == bytes.fromhex("429000")
        assert bridge.connections == 2
    finally:
        bridge.stop()
    name = {POWER_OFF: "power-off", POWER_ON: "power-on", RESET: "reset"}[code]
    assert warnings_of(caplog)[-1] == (
        f"vpcd slot 0: vpcd silent for 0.3 s after {code:02X} ({name}): it was a 1-byte command APDU that "
        "vpcd now waits to see answered, holding the reader; reconnecting to free it"
    )


def test_silence_after_an_answer_keeps_the_connection(vpcd: FakeVpcd, card: EchoCard) -> None:
    """After an answer vpcd owes the next message: a quiet pcscd is no reason to drop the card."""
    bridge = VpcdBridge(card, port_base=vpcd.port, silence_seconds=0.1)
    bridge.start()
    try:
        vpcd.accept()
        vpcd.control(POWER_ON)
        assert vpcd.ask(bytes((GET_ATR,))) == EchoCard.ATR
        time.sleep(0.4)
        assert vpcd.ask(bytes.fromhex("80010000")) == bytes.fromhex("9000")
        time.sleep(0.4)
        assert vpcd.ask(bytes.fromhex("80010000")) == bytes.fromhex("9000")
        assert bridge.connections == 1
        assert bridge.powered
    finally:
        bridge.stop()
