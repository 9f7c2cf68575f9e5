"""The next card's signing cost in process, against the host's own P-384 signature in the same run.

* **sign**: ``80 2A 00 9A`` over a SHA-384 hash, the signature password verified once before (what a
  terminal does for a batch of signatures), against ``cryptography`` signing the same hash with a P-384 key;
* **flow**: SELECT 認証AP + VERIFY signature password + ``80 2A``, state on disk (the try is written and
  given back with fsync before the answer), against the same raw sign.

    .venv/bin/python bench/bench_nextgen.py [--seconds 1.0]
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils

from mynacard.apdu.applets import nextgen
from mynacard.apdu.applets.session import select_df_name
from mynacard.emulator.issuance.personalise import open_card
from mynacard.emulator.issuance.personas import load_persona

HASH = hashlib.sha384("mynacard bench: 次期カードの署名".encode()).digest()
PASSWORD = load_persona("default").sign_password.encode("ascii")
SELECT = select_df_name(nextgen.AUTH_AID)
VERIFY = bytes((0x00, 0x20, 0x00, nextgen.reference(nextgen.SIGN_PASSWORD), len(PASSWORD))) + PASSWORD
SIGN = bytes((0x80, 0x2A, 0x00, nextgen.reference(nextgen.SIGN_KEY), len(HASH))) + HASH + b"\x00"


def rate(action: Callable[[], object], seconds: float) -> float:
    action()
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        action()
        count += 1
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args()
    key = ec.generate_private_key(ec.SECP384R1())
    raw = rate(lambda: key.sign(HASH, ec.ECDSA(utils.Prehashed(hashes.SHA384()))), args.seconds)
    with tempfile.TemporaryDirectory(prefix="mynacard-bench-") as tmp:
        card = open_card("nextgen-2026", "default", Path(tmp) / "card")
        card.power_on()

        def flow() -> None:
            assert card.process(SELECT) == b"\x90\x00"
            assert card.process(VERIFY) == b"\x90\x00"
            assert card.process(SIGN)[-2:] == b"\x90\x00"

        flow()
        signs = rate(lambda: card.process(SIGN), args.seconds)
        flows = rate(flow, args.seconds)
    print(f"{'raw P-384 sign (cryptography)':38} {raw:>9,.0f} /s")
    for label, value in (
        ("card 80 2A, password verified once", signs),
        ("card SELECT+VERIFY+80 2A, durable", flows),
    ):
        print(f"{label:38} {value:>9,.0f} /s   {raw / value:.2f}x the raw sign's time")


if __name__ == "__main__":
    main()
