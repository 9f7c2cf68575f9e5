"""The timing model (issue 11 item 3): ``[timing]`` in a profile, the delay of each exchange, a card that
waits them out, and ``mynacard emulate --timing --trace`` spoken to as vpcd would (a stand-in socket)."""

from __future__ import annotations

import hashlib
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mynacard.apdu.applets.jpki import JPKI_AID
from mynacard.apdu.tracefile import MASK_BYTE, read_trace
from mynacard.emulator.issuance.personalise import open_card
from mynacard.emulator.issuance.personas import load_persona
from mynacard.emulator.issuance.profiles import load_profile
from mynacard.emulator.timing import TimedCard, expected_seconds, with_timing
from mynacard.profiles.errors import ProfileError
from mynacard.profiles.timing import TimingSpec

PERSONA = load_persona("default")
SELECT_JPKI = bytes((0x00, 0xA4, 0x04, 0x0C, len(JPKI_AID))) + JPKI_AID
VERIFY_AUTH_PIN = bytes.fromhex("0020009804") + PERSONA.auth_pin.encode()
SELECT_AUTH_KEY = bytes.fromhex("00A4020C020017")
DIGEST_INFO = bytes.fromhex("3031300D060960864801650304020105000420") + hashlib.sha256(b"mynacard").digest()
SIGN = bytes.fromhex("802A008033") + DIGEST_INFO + b"\x00"
DEFAULT = TimingSpec()


def test_the_defaults_are_the_references_figures_and_off() -> None:
    assert DEFAULT.enabled is False
    assert (DEFAULT.bit_rate, DEFAULT.bits_per_byte, DEFAULT.apdu_overhead_ms) == (106_000, 10.0, 5.0)
    assert DEFAULT.operation_ms == {"compute_digital_signature": 60.7, "internal_authenticate": 60.7}
    assert load_profile("legacy-2016").timing == DEFAULT


def test_a_256_byte_read_costs_its_bytes_on_the_wire_and_the_overhead() -> None:
    command, response = bytes.fromhex("00B0000000"), bytes(256) + b"\x90\x00"
    assert expected_seconds(DEFAULT, command, response) == pytest.approx(0.005 + 263 * 10 / 106_000)


def test_a_signature_adds_its_operation_time_only_when_it_succeeds() -> None:
    signed, refused = bytes(256) + b"\x90\x00", b"\x69\x82"
    wire = (len(SIGN) + len(signed)) * 10 / 106_000
    assert expected_seconds(DEFAULT, SIGN, signed) == pytest.approx(0.005 + wire + 0.0607)
    assert expected_seconds(DEFAULT, SIGN, refused) == pytest.approx(0.005 + (len(SIGN) + 2) * 10 / 106_000)
    assert expected_seconds(DEFAULT, SIGN[:-1], b"\x61\x00") > 0.0607  # case 3: 61 00 is a success too


def test_a_timed_card_sleeps_what_the_card_itself_did_not_take() -> None:
    slept: list[float] = []
    card = TimedCard(open_card("legacy-2016", "default", None), DEFAULT, sleep=slept.append)
    card.power_on()
    for command in (SELECT_JPKI, VERIFY_AUTH_PIN, SELECT_AUTH_KEY):
        assert card.process(command)[-2:] == b"\x90\x00"
    signature = card.process(SIGN)
    assert signature[-2:] == b"\x90\x00" and len(signature) == 258
    assert len(slept) == 4
    assert all(s <= expected_seconds(DEFAULT, SELECT_JPKI, b"\x90\x00") for s in slept[:1])
    assert 0.0607 < slept[3] <= expected_seconds(DEFAULT, SIGN, signature)


def test_timing_off_is_the_card_itself_and_forced_on_wraps_it() -> None:
    card = open_card("legacy-2016", "default", None)
    assert with_timing(card, DEFAULT) is card
    assert isinstance(with_timing(card, DEFAULT, force=True), TimedCard)


def test_a_profile_sets_its_own_timing_class_and_a_wrong_field_is_refused(tmp_path: Path) -> None:
    variant = tmp_path / "slow.toml"
    variant.write_text(
        '[profile]\nname = "slow"\ndescription = "test: a slow contact card"\nextends = "legacy-2016"\n'
        "[timing]\nenabled = true\nbit_rate = 10753\nbits_per_byte = 11\n"
        "operation_ms = { compute_digital_signature = 202 }\n"
    )
    timing = load_profile(variant).timing
    assert (timing.enabled, timing.bit_rate, timing.operation_ms) == (
        True,
        10753,
        {"compute_digital_signature": 202},
    )
    variant.write_text(variant.read_text() + "seconds = 3\n")
    with pytest.raises(ProfileError, match="timing"):
        load_profile(variant)


# -- mynacard emulate --timing --trace, with a stand-in vpcd -------------------------------------------------


def send(peer: socket.socket, payload: bytes) -> None:
    peer.sendall(len(payload).to_bytes(2, "big") + payload)


def receive(peer: socket.socket) -> bytes:
    size = int.from_bytes(_exactly(peer, 2), "big")
    return _exactly(peer, size)


def _exactly(peer: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = peer.recv(count - len(data))
        assert chunk, "the emulator closed the connection"
        data += chunk
    return data


def test_emulate_with_timing_holds_the_signature_back_and_traces_the_session(tmp_path: Path) -> None:
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(30)
    port = server.getsockname()[1]
    trace = tmp_path / "session.trace"
    command = [sys.executable, "-m", "mynacard", "emulate", "--state", str(tmp_path / "card")]
    command += ["--port-base", str(port), "--trace", str(trace), "--timing"]
    emulator = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        peer, _ = server.accept()
        peer.settimeout(30)
        send(peer, b"\x01")  # power on
        send(peer, b"\x04")  # the ATR
        assert receive(peer) == bytes.fromhex("3BE000FF8131FE4514")
        for apdu in (SELECT_JPKI, VERIFY_AUTH_PIN, SELECT_AUTH_KEY):
            send(peer, apdu)
            assert receive(peer) == b"\x90\x00"
        started = time.perf_counter()
        send(peer, SIGN)
        signature = receive(peer)
        took = time.perf_counter() - started
        assert signature[-2:] == b"\x90\x00" and len(signature) == 258
        assert took >= expected_seconds(DEFAULT, SIGN, signature)  # held back at least as long as a card
        peer.close()
    finally:
        emulator.send_signal(signal.SIGTERM)
        _, err = emulator.communicate(timeout=30)
        server.close()
    assert emulator.returncode == 0, err
    recorded = read_trace(trace)
    assert [r.command[:2] for r in recorded] == [b"\x00\xa4", b"\x00\x20", b"\x00\xa4", b"\x80\x2a"]
    verify = recorded[1]
    assert verify.command[5:] == bytes((MASK_BYTE,)) * 4 and verify.response == b"\x90\x00"
    assert PERSONA.auth_pin.encode().hex() not in trace.read_text().replace(" ", "").lower()
