"""Coverage-guided fuzzing of ``Card.process`` in CI (issue 8, item 9), and the corpus it starts from.

``test_fuzz_card_process`` runs the atheris target (``tests/fuzzing/target.py``) in a subprocess for
``MYNACARD_FUZZ_SECONDS`` seconds in all (default 40, shared by the shipped profiles) from the seed corpus
generated for each profile; any exception, ``6F 00``, logged traceback, short response or unknown status
word fails it, printing the input as hex and as APDUs.
Without atheris it is skipped locally and fails in CI (``CI=true``): ``pip install -e '.[fuzz]'``.

A longer campaign: ``.venv/bin/python bench/fuzz_card.py --seconds 600 --jobs 2``.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fuzzing import runner
from fuzzing.harness import MAX_STEPS, Event, Harness, InvariantError, Step, decode, encode, open_fuzz_card
from fuzzing.seeds import MANAGE_CHANNEL, Seed, build_seeds, write_seeds

from mynacard.emulator.card import Card
from mynacard.emulator.commands.table import ISO_BASE
from mynacard.profiles.schema import list_profiles

FUZZ_SECONDS = float(os.environ.get("MYNACARD_FUZZ_SECONDS", "40"))
"""Fuzzing time of the whole test, shared by the shipped profiles."""
PROFILES = list_profiles()


@pytest.fixture(scope="module", params=PROFILES)
def profile(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture(scope="module")
def seeds(profile: str) -> list[Seed]:
    return build_seeds(profile)


@pytest.fixture(scope="module")
def harness(profile: str) -> Iterator[Harness]:
    h = Harness(open_fuzz_card(profile))
    yield h
    h.close()


def test_input_format_round_trips() -> None:
    steps: list[Step] = [b"\x00\xa4\x04\x0c", Event.WARM_RESET, b"", Event.POWER_CYCLE, bytes(300)]
    assert decode(encode(steps)) == steps
    assert decode(b"") == []
    assert decode(b"\x00") == [b"\x00"]  # a lone byte is a 1-byte APDU
    assert decode(b"\x00\x05\x00\xb0") == [b"\x00\xb0"]  # a short last body is what is left
    assert len(decode(b"\x00\x00" * (MAX_STEPS + 10))) == MAX_STEPS


def _instructions(card: Card) -> set[tuple[bool, int]]:
    table = card.table
    known = set(table.base) | {key for override in table.overrides.values() for key in override}
    return known | set(ISO_BASE)


def test_seed_corpus_has_every_instruction_the_profile_knows(seeds: list[Seed], harness: Harness) -> None:
    sent = {
        (bool(step[0] & 0x80), step[1])
        for seed in seeds
        for step in seed.steps
        if isinstance(step, bytes) and len(step) >= 4
    }
    missing = _instructions(harness.card) - sent
    assert not missing, [f"{'80' if p else '00'} {ins:02X}" for p, ins in sorted(missing)]
    assert (False, MANAGE_CHANNEL) in sent


def test_seeds_answer_as_the_profile_says(seeds: list[Seed], harness: Harness) -> None:
    """Every seed runs clean; those whose last answer the profile decides get it (twice: the harness
    restores the credentials, so an input's answers do not depend on the inputs before it)."""
    wrong = []
    for _ in range(2):
        for seed in seeds:
            responses = harness.run(seed.encode())
            if seed.expect is None:
                continue
            sw = int.from_bytes(responses[-1][-2:], "big")
            if sw != seed.expect:
                wrong.append(f"{seed.name}: {sw:04X}, expected {seed.expect:04X}")
    assert not wrong, "\n".join(wrong)
    assert sum(s.expect is not None for s in seeds) > 50


def test_harness_reports_an_internal_error(monkeypatch: pytest.MonkeyPatch) -> None:
    harness = Harness(open_fuzz_card())

    def broken(command: bytes) -> bytes:
        if command[1:2] == b"\xee":
            raise RuntimeError("an injected bug")
        return original(command)

    original = harness.card._process
    monkeypatch.setattr(harness.card, "_process", broken)
    data = encode([b"\x00\xa4\x04\x0c", b"\x00\xee\x00\x00"])
    with pytest.raises(InvariantError) as caught:
        harness.run(data)
    harness.close()
    message = str(caught.value)
    assert "6F 00" in message and data.hex() in message and "an injected bug" in message


def _require_atheris() -> None:
    if importlib.util.find_spec("atheris") is not None:
        return
    if os.environ.get("CI"):
        pytest.fail("atheris is not installed; CI needs it: pip install -e '.[fuzz]' (part of the dev extra)")
    pytest.skip("atheris is not installed (pip install -e '.[fuzz]')")


@pytest.mark.parametrize("name", PROFILES)
def test_fuzz_card_process(name: str, tmp_path: Path) -> None:
    _require_atheris()
    seeds_dir, corpus = tmp_path / "seeds", tmp_path / "corpus"
    corpus.mkdir()
    write_seeds(seeds_dir, name)
    env = {"MYNACARD_FUZZ_PROFILE": name}
    result = runner.run([corpus, seeds_dir], tmp_path, FUZZ_SECONDS / len(PROFILES), env=env)
    assert not result.failed, runner.describe_failure(result)
    final, inited = result.final, result.inited
    assert final is not None and inited is not None, runner.describe_failure(result)
    assert final.event == "DONE", runner.describe_failure(result)
    assert inited.runs >= len(list(seeds_dir.iterdir())), "libFuzzer did not run every seed"
    assert sum(c["apdus"] for c in result.counts) > 0
