"""APDUs per second through ``VirtualReader`` for the card's hot paths, each next to a baseline.

The baseline is a bare function call of the same size (same command bytes in, a response of the same
length out) through the same ``transmit`` path, measured in the same run, so the printed ratio says how
much the card OS itself costs on this (noisy) machine. Run: ``.venv/bin/python bench/bench_virtual.py``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from mynacard.apdu.applets.jpki import JPKI_AID
from mynacard.apdu.applets.session import select_df_name
from mynacard.apdu.readers.softcards import FixedAnswerCard
from mynacard.apdu.readers.virtual import VirtualReader
from mynacard.emulator.card import Card
from mynacard.emulator.issuance.personalise import open_card

JPKI_SELECT = select_df_name(JPKI_AID)
SELECT_AUTH_CERT = bytes.fromhex("00A4020C02000A")
READ_256 = bytes.fromhex("00B0000000")
SELECT_AUTH_PIN = bytes.fromhex("00A4020C020018")
EMPTY_VERIFY = bytes.fromhex("00200080")
SELECT_AUTH_KEY = bytes.fromhex("00A4020C020017")
DIGEST_INFO = bytes.fromhex("3031300d060960864801650304020105000420") + bytes(range(32))
SIGN = bytes((0x80, 0x2A, 0x00, 0x80, len(DIGEST_INFO))) + DIGEST_INFO + b"\x00"


def rate(call: Callable[[], object], seconds: float) -> float:
    """Calls per second, as the median of five runs of about ``seconds / 5`` each."""
    batch = 200
    samples = []
    for _ in range(5):
        count, start = 0, time.perf_counter()
        deadline = start + seconds / 5
        while (now := time.perf_counter()) < deadline:
            for _ in range(batch):
                call()
            count += batch
        samples.append(count / (now - start))
    return statistics.median(samples)


def measure(name: str, reader: VirtualReader, setup: list[bytes], command: bytes, seconds: float) -> None:
    for c in setup:
        reader.transmit(c)
    response = reader.transmit(command).to_bytes()
    card_rate = rate(lambda: reader.transmit(command), seconds)
    baseline = VirtualReader(FixedAnswerCard(response, reader.atr))
    baseline.power_on()
    base_rate = rate(lambda: baseline.transmit(command), seconds)
    print(
        f"{name:34} {card_rate:>11,.0f} APDU/s   baseline {base_rate:>11,.0f}/s"
        f"   card/baseline {card_rate / base_rate:6.3f}   ({len(command)} B in, {len(response)} B out)"
    )


def sign_flow_rate(card: Card, pin: bytes, seconds: float, label: str) -> None:
    """A whole user-authentication signature: select AP, select PIN, VERIFY, select key, sign.

    On a card with a state directory the VERIFY writes its counter twice (taken, then given back),
    each an fsync'd atomic replace; on an in-memory card the flow shows the RSA cost alone.
    """
    reader = VirtualReader(card)
    reader.power_on()
    verify = bytes((0x00, 0x20, 0x00, 0x80, len(pin))) + pin
    flow = [JPKI_SELECT, SELECT_AUTH_PIN, verify, SELECT_AUTH_KEY, SIGN]
    for c in flow:
        assert reader.transmit(c).sw == 0x9000, c.hex()
    flow_rate = rate(lambda: [reader.transmit(c) for c in flow], seconds)
    responses = [reader.transmit(c).to_bytes() for c in flow]
    baseline_cards = [FixedAnswerCard(r, reader.atr) for r in responses]
    readers = [VirtualReader(c) for c in baseline_cards]
    for r in readers:
        r.power_on()
    pairs = list(zip(readers, flow, strict=True))
    base_rate = rate(lambda: [r.transmit(c) for r, c in pairs], seconds)
    print(
        f"{label:34} {flow_rate:>11,.1f} flows/s"
        f"  baseline {base_rate:>11,.0f}/s"
        f"   card/baseline {flow_rate / base_rate:6.4f}   ({flow_rate * 5:,.0f} APDU/s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.5, help="time per measurement (default 2.5)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        card = open_card("legacy-2016", "default", Path(tmp) / "card")
        reader = VirtualReader(card)
        reader.power_on()
        measure("SELECT by AID (00 A4 04 0C)", reader, [], JPKI_SELECT, args.seconds)
        measure(
            "READ BINARY 256 B (00 B0 .. 00)", reader, [JPKI_SELECT, SELECT_AUTH_CERT], READ_256, args.seconds
        )
        measure(
            "empty VERIFY (00 20 00 80)", reader, [JPKI_SELECT, SELECT_AUTH_PIN], EMPTY_VERIFY, args.seconds
        )
        from mynacard.emulator.issuance.personas import load_persona

        pin = load_persona("default").auth_pin.encode()
        sign_flow_rate(card, pin, args.seconds, "sign flow, state on disk")
        memory_card = open_card("legacy-2016", "default", None)
        sign_flow_rate(memory_card, pin, args.seconds, "sign flow, state in memory")


if __name__ == "__main__":
    main()
