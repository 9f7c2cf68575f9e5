"""PACE handshakes and secure messaging in process, each next to a baseline measured in the same run.

1. A full PACE (ICAO Doc 9303-11 §4.4, ECDH generic mapping) between ``PaceTerminal`` and ``PaceChip`` per
   curve, in milliseconds, against the raw ephemeral ECDH of ``cryptography`` on the same curve (two key
   pairs and both exchanges): the ratio says what the mapping, the pure-Python point arithmetic of
   ``ecdsa``, the KDF and the tokens cost on top of one key agreement.
2. READ BINARY of 256 bytes under SM (terminal wrap, card unwrap, card wrap, terminal unwrap) against the
   same command and response encoded and parsed without SM.
3. The same against the emulated nextgen-2026 card on the virtual reader: a full PACE with the card (MSE:Set
   AT and the four GENERAL AUTHENTICATE steps, through the card's command dispatch, chaining and counter
   writes) per curve next to the raw ECDH, and READ BINARY of 256 bytes of the 認証AP's certificate EF
   ``000A`` under SM (PACE with the PIN) against the same READ BINARY in plain, which that AP also accepts.

Run: ``.venv/bin/python bench/bench_pace.py [--seconds S]``. Timings are medians of five batches.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from mynacard.apdu.applets import nextgen
from mynacard.apdu.command import CommandApdu
from mynacard.apdu.readers.processors import ProcessedReader
from mynacard.apdu.readers.secure import SecureMessagingProcessor, establish_pace, read_card_access
from mynacard.apdu.readers.virtual import VirtualReader
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
from mynacard.emulator.issuance.personalise import open_card
from mynacard.emulator.issuance.personas import load_persona

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


PERSONA = load_persona("default")
SELECT_000A = bytes.fromhex("00A4020C02000A")
READ_256_BYTES = bytes.fromhex("00B0000000")


def card_on(parameters: DomainParameters, protocol: PaceProtocol, folder: Path) -> VirtualReader:
    """A nextgen-2026 card whose EF.CardAccess offers only ``protocol`` on ``parameters``, powered on."""
    profile = folder / f"pace-{parameters.parameter_id}-{protocol.suite.name}.toml"
    profile.write_text(
        f'[profile]\nname = "bench-{profile.stem}"\ndescription = "bench: one PACE suite"\n'
        f'extends = "nextgen-2026"\n[pace]\nprotocols = [{{ protocol = "{protocol.name}", '
        f"parameter_id = {parameters.parameter_id} }}]\n"
    )
    reader = VirtualReader(open_card(profile, "default", None))
    reader.power_on()
    return reader


def pace_with_the_card(reader: VirtualReader) -> ProcessedReader:
    """Power-on, EF.CardAccess, SELECT 認証AP, PACE with the PIN: the whole handshake a terminal runs."""
    reader.power_on()
    processor = SecureMessagingProcessor()
    protected = ProcessedReader(reader, [processor])
    card_access = read_card_access(protected)
    assert protected.transmit(CommandApdu(0x00, 0xA4, 0x04, 0x0C, nextgen.AUTH_AID).to_bytes()).sw == 0x9000
    password = PacePassword.digits(PasswordReference.PIN, PERSONA.auth_pin)
    establish_pace(protected, processor, card_access, password)
    return protected


def read_256(reader: VirtualReader | ProcessedReader) -> None:
    response = reader.transmit(READ_256_BYTES)
    assert response.sw == 0x9000 and len(response.data) == 256


def bench_card(seconds: float) -> None:
    print("Against the emulated nextgen-2026 card (virtual reader): PACE with the PIN in the 認証AP")
    with tempfile.TemporaryDirectory() as folder:
        readers = [(params, protocol, card_on(params, protocol, Path(folder))) for params, protocol in CASES]
        for parameters, protocol, reader in readers:
            handshake = seconds_per_call(partial(pace_with_the_card, reader), seconds)
            baseline = seconds_per_call(partial(raw_ecdh, parameters), seconds)
            print(
                f"  {parameters.name:16} {protocol.suite.name:17} PACE {handshake * 1e3:8.2f} ms"
                f"   raw ECDH {baseline * 1e3:7.3f} ms   PACE/ECDH {handshake / baseline:7.1f}"
            )
        parameters, protocol, reader = readers[2]  # the profile's own choice: P-384, AES-256
        plain = VirtualReader(open_card("nextgen-2026", "default", None))  # its own card: plain ends SM
        plain.power_on()
        assert plain.transmit(CommandApdu(0x00, 0xA4, 0x04, 0x0C, nextgen.AUTH_AID).to_bytes()).sw == 0x9000
        assert plain.transmit(SELECT_000A).sw == 0x9000
        protected = pace_with_the_card(reader)
        assert protected.transmit(SELECT_000A).sw == 0x9000
        plain_time = seconds_per_call(partial(read_256, plain), seconds)
        secured = seconds_per_call(partial(read_256, protected), seconds)
        print(
            f"  READ BINARY 256 B of 000A ({protocol.suite.name}): SM {secured * 1e6:8.1f} µs"
            f"   plain {plain_time * 1e6:8.1f} µs   SM/plain {secured / plain_time:5.2f} (aim ≤ 3)"
        )
        wire = (5 + 256 + 2) * 8 / 106_000  # the plain exchange's bytes at ISO 14443's 106 kbit/s
        print(
            f"  for scale: the plain exchange takes {wire * 1e3:.1f} ms on a 106 kbit/s contactless link;"
            f" SM's processing adds {(secured - plain_time) / wire * 100:.2f} % of that"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement (default 2)")
    args = parser.parse_args()
    bench_pace(args.seconds)
    bench_sm(args.seconds)
    bench_card(args.seconds)


if __name__ == "__main__":
    main()
