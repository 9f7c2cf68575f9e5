"""The atheris fuzz target of ``Card.process``: ``python tests/fuzzing/target.py [libFuzzer flags] DIR...``.

The card runtime (``mynacard.apdu``, ``mynacard.profiles``, ``mynacard.emulator`` but not its issuance
layer) is imported under ``atheris.instrument_imports``, so the coverage of our code guides mutation;
personalisation is imported afterwards, uninstrumented, and runs once before fuzzing starts.

Environment: ``MYNACARD_FUZZ_PROFILE`` / ``MYNACARD_FUZZ_PERSONA`` (default ``legacy-2016`` / ``default``)
choose the card; ``MYNACARD_FUZZ_STATS`` names a directory where the target writes ``<pid>.json`` with the
inputs and APDUs it ran (libFuzzer counts inputs only). A broken invariant raises ``InvariantError``,
whose message holds the failing step, the whole input as hex and the logged traceback; libFuzzer then
writes the input to ``<artifact_prefix>crash-<sha1>``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import atheris  # type: ignore[import-untyped]  # no stubs, no py.typed

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

with atheris.instrument_imports(include=["mynacard"]):
    import mynacard.apdu.command
    import mynacard.apdu.status
    import mynacard.apdu.tlv
    import mynacard.emulator.card
    import mynacard.emulator.store.loading
    import mynacard.profiles.schema  # noqa: F401  (instrumented for its side of the card runtime)
    from fuzzing.harness import DEFAULT_PERSONA, DEFAULT_PROFILE, Harness, open_fuzz_card


def main() -> None:
    profile = os.environ.get("MYNACARD_FUZZ_PROFILE", DEFAULT_PROFILE)
    persona = os.environ.get("MYNACARD_FUZZ_PERSONA", DEFAULT_PERSONA)
    stats = os.environ.get("MYNACARD_FUZZ_STATS")
    stats_path = Path(stats) / f"{os.getpid()}.json" if stats else None
    harness = Harness(open_fuzz_card(profile, persona), stats_path)

    def test_one_input(data: bytes) -> None:
        harness.run(data)

    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
