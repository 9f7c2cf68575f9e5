"""PACE handshakes and secure messaging in process, each next to a baseline measured in the same run.

1. A full PACE (ICAO Doc 9303-11 §4.4, ECDH generic mapping) between ``PaceTerminal`` and ``PaceChip`` per
   curve, in milliseconds, against the raw ephemeral ECDH of ``cryptography`` on the same curve (two key
   pairs and both exchanges): the ratio says what the mapping, the pure-Python point arithmetic of
   ``ecdsa``, the KDF and the tokens cost on top of one key agreement.
2. READ BINARY of 256 bytes under SM (terminal wrap, card unwrap, card wrap, terminal unwrap) against the
   same command and response encoded and parsed without SM.

Run: ``.venv/bin/python bench/bench_pace.py [--seconds S]``. Timings are medians of five batches.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from functools import partial

from cryptography.hazmat.primitives.asymmetric import ec

from mynacard.apdu.command import CommandApdu
from mynacard.apdu.response import ResponseApdu
from mynacard.apdu.sm import (
    AES_128,
    AES_256,
    BRAINPOOL_P256R1,
    BRAINPOOL_P384R1,
    ID_PACE_ECDH_GM_AES_CBC_CMAC_128,
    ID_PACE_ECDH_GM_AES_CBC_CMAC_256,
    NIST_P256,
    NIST_P384,
    CipherSuite,
    DomainParameters,
    PaceChip,
    PacePassword,
    PaceProtocol,
    PaceTerminal,
    PasswordReference,
    SmSession,
)

CAN = PacePassword.digits(PasswordReference.CAN, "123456")  # TEST 照合番号B
READ_256 = CommandApdu.from_bytes(bytes.fromhex("00B0000000"))
CONTENT = bytes(range(256))
CASES: list[tuple[DomainParameters, PaceProtocol]] = [
    (NIST_P256, ID_PACE_ECDH_GM_AES_CBC_CMAC_128),
    (BRAINPOOL_P256R1, ID_PACE_ECDH_GM_AES_CBC_CMAC_128),
    (NIST_P384, ID_PACE_ECDH_GM_AES_CBC_CMAC_256),
    (BRAINPOOL_P384R1, ID_PACE_ECDH_GM_AES_CBC_CMAC_256),
]


def seconds_per_call(call: Callable[[], object], seconds: float) -> float:
    """Median time of one call over five batches of about ``seconds / 5``."""
    samples = []
    for _ in range(5):
        count, start = 0, time.perf_counter()
        while (now := time.perf_counter()) - start < seconds / 5 or count == 0:
            call()
            count += 1
        samples.append((now - start) / count)
    return statistics.median(samples)


def pace(parameters: DomainParameters, protocol: PaceProtocol) -> None:
    terminal, chip = PaceTerminal(protocol, parameters, CAN), PaceChip(protocol, parameters, CAN)
    for _ in range(4):
        terminal.process_response(chip.respond(terminal.command_data()))
    assert terminal.established and chip.established


def raw_ecdh(parameters: DomainParameters) -> None:
    curve = parameters.crypto_curve
    a, b = ec.generate_private_key(curve), ec.generate_private_key(curve)
    assert a.exchange(ec.ECDH(), b.public_key()) == b.exchange(ec.ECDH(), a.public_key())


def sm_read_binary(terminal: SmSession, card: SmSession) -> None:
    command = card.unwrap_command(CommandApdu.from_bytes(terminal.wrap_command(READ_256).to_bytes()))
    wire = card.wrap_response(CONTENT[: command.ne], 0x9000).to_bytes()
    assert terminal.unwrap_response(ResponseApdu.from_bytes(wire)).data == CONTENT


def plain_read_binary() -> None:
    command = CommandApdu.from_bytes(READ_256.to_bytes())
    wire = ResponseApdu(CONTENT[: command.ne], 0x9000).to_bytes()
    assert ResponseApdu.from_bytes(wire).data == CONTENT


def bench_pace(seconds: float) -> None:
    print("PACE handshake, terminal + chip in process (ECDH-GM), vs cryptography's raw ECDH on the curve")
    for parameters, protocol in CASES:
        handshake = seconds_per_call(partial(pace, parameters, protocol), seconds)
        baseline = seconds_per_call(partial(raw_ecdh, parameters), seconds)
        print(
            f"  {parameters.name:16} {protocol.suite.name:17} PACE {handshake * 1e3:8.2f} ms"
            f"   raw ECDH {baseline * 1e3:7.3f} ms   PACE/ECDH {handshake / baseline:7.1f}"
        )


def bench_sm(seconds: float) -> None:
    print("READ BINARY 256 B: command and response through SM (both sides) vs encoded/parsed plain")
    plain = seconds_per_call(plain_read_binary, seconds)
    suites: list[CipherSuite] = [AES_128, AES_256]
    for suite in suites:
        terminal = SmSession(bytes(suite.key_length), bytes(range(suite.key_length)), suite)
        card = SmSession(bytes(suite.key_length), bytes(range(suite.key_length)), suite)
        secured = seconds_per_call(partial(sm_read_binary, terminal, card), seconds)
        print(
            f"  {suite.name:17} SM {secured * 1e6:8.1f} µs   plain {plain * 1e6:6.2f} µs"
            f"   SM/plain {secured / plain:6.1f}   SM cost per exchange {(secured - plain) * 1e6:6.1f} µs"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement (default 2)")
    args = parser.parse_args()
    bench_pace(args.seconds)
    bench_sm(args.seconds)


if __name__ == "__main__":
    main()
