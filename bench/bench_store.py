"""The state store's cost: VERIFY with the state in memory and on disk, reopening and personalising a card.

Every figure is printed next to a baseline measured in the same run (these machines are noisy):

* VERIFY (right PIN, so each one writes the counter twice: the try, then the try given back) against a
  fixed-answer card's ``process`` (the floor of a Python call), and, with ``--vicc DIR``, against vsmartcard's
  vicc answering the same VERIFY in process (``DIR`` is vicc's ``virtualsmartcard/src/vpicc`` folder of a
  checkout; nothing of vicc ships with mynacard);
* reopening a card against parsing its profile alone;
* personalising against generating one RSA-2048 key, with a fresh TEST PKI per card and with one shared.

    .venv/bin/python bench/bench_store.py [--seconds 1.0] [--vicc VSMARTCARD/virtualsmartcard/src/vpicc]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import rsa

from mynacard.apdu.applets.jpki import AUTH_PIN, JPKI_AID
from mynacard.apdu.applets.session import select_df_name
from mynacard.apdu.readers.softcards import FixedAnswerCard
from mynacard.emulator.issuance.personalise import open_card
from mynacard.emulator.issuance.personas import load_persona
from mynacard.emulator.issuance.pki import TestPki
from mynacard.emulator.issuance.profiles import load_profile
from mynacard.emulator.store.loading import load_card
from mynacard.emulator.store.state import StateStore

PIN = load_persona("default").auth_pin.encode("ascii")
VERIFY = bytes((0x00, 0x20, 0x00, 0x80 | AUTH_PIN, len(PIN))) + PIN


def rate(action: Callable[[], object], seconds: float) -> float:
    """Calls per second of ``action`` over about ``seconds``."""
    action()
    count, start = 0, time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        for _ in range(16):
            action()
        count += 16
    return count / (time.perf_counter() - start)


def per_call(action: Callable[[], object], times: int) -> float:
    """Seconds per call of ``action``: the median of ``times`` calls (RSA key generation varies a lot)."""
    seconds = []
    for _ in range(times):
        start = time.perf_counter()
        action()
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def vicc_verify(directory: Path) -> Callable[[], object]:
    """vicc's generic ISO 7816 card answering the same VERIFY (PIN 1234 is its default)."""
    sys.path.insert(0, str(directory))
    logging.disable(logging.CRITICAL)  # vicc logs every PIN at DEBUG; keep logging out of both measurements
    from virtualsmartcard.CardGenerator import CardGenerator  # type: ignore[import-not-found]
    from virtualsmartcard.VirtualSmartcard import Iso7816OS  # type: ignore[import-not-found]

    mf, sam = CardGenerator("iso7816").getCard()
    card = Iso7816OS(mf, sam)
    command = b"\x00\x20\x00\x00\x04" + b"1234"
    assert card.execute(command) == b"\x90\x00"
    return lambda: card.execute(command)


def verify_on(state: Path | None) -> Callable[[], object]:
    card = open_card("legacy-2016", "default", state)
    card.power_on()
    assert card.process(select_df_name(JPKI_AID)) == b"\x90\x00"
    assert card.process(VERIFY) == b"\x90\x00"
    return lambda: card.process(VERIFY)


def report(label: str, figure: str, *comparisons: str) -> None:
    print(f"{label:34} {figure:>14}   " + "   ".join(comparisons))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=1.0, help="time per rate measurement")
    parser.add_argument("--vicc", type=Path, help="vicc's virtualsmartcard/src/vpicc folder (a baseline)")
    args = parser.parse_args()
    floor = FixedAnswerCard(b"\x90\x00")
    with tempfile.TemporaryDirectory(prefix="mynacard-bench-") as tmp:
        work = Path(tmp)
        memory, disk = verify_on(None), verify_on(work / "durable")
        baseline = rate(lambda: floor.process(VERIFY), args.seconds)
        vicc = rate(vicc_verify(args.vicc), args.seconds) if args.vicc else None
        in_memory, durable = rate(memory, args.seconds), rate(disk, args.seconds)
        versus_vicc = (
            f"vs vicc {in_memory / vicc:.2f} (vicc {vicc:,.0f} /s)" if vicc else "(vicc: --vicc DIR)"
        )
        report(
            "VERIFY, state in memory",
            f"{in_memory:,.0f} /s",
            f"vs fixed answer {in_memory / baseline:.3g}",
            versus_vicc,
        )
        report(
            "VERIFY, state on disk (fsync)", f"{durable:,.0f} /s", f"vs in memory {durable / in_memory:.3f}"
        )
        store = StateStore(work / "durable")
        profile_only = per_call(lambda: load_profile("legacy-2016"), 5)
        reopen = per_call(lambda: load_card(store), 5)
        report(
            "reopen a card", f"{reopen * 1e3:.1f} ms", f"vs parsing its profile {reopen / profile_only:.1f}×"
        )
        one_key = per_call(lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048), 9)
        counter = iter(range(1000))
        fresh = per_call(lambda: open_card("legacy-2016", "default", work / f"fresh{next(counter)}"), 5)
        shared_pki = TestPki.create()
        shared = per_call(
            lambda: open_card("legacy-2016", "default", work / f"shared{next(counter)}", pki=shared_pki), 5
        )
        report("personalise, fresh TEST PKI", f"{fresh * 1e3:.1f} ms", f"= {fresh / one_key:.1f} RSA keygens")
        report(
            "personalise, shared TEST PKI", f"{shared * 1e3:.1f} ms", f"= {shared / one_key:.1f} RSA keygens"
        )


if __name__ == "__main__":
    main()
