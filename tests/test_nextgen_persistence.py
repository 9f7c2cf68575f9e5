"""nextgen-2026: the PUK and its counter survive a SIGKILL at any point, as today's credentials do (issue 9).

A child process sets the PUK and then spends PUK tries on RESET RETRY COUNTER as fast as it can, printing
each answer; it is killed at a random moment. After a reopen the PUK is either not set or set (never half
written), and the card shows no more tries than the last answer the child saw: a try the child was told
about is never given back.
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from mynacard.apdu.applets import nextgen
from mynacard.emulator.issuance.personas import load_persona
from mynacard.emulator.store.loading import load_card
from mynacard.emulator.store.state import StateStore

PERSONA = load_persona("default")
PUK_QUERY = bytes((0x00, 0x20, 0x00, nextgen.reference(nextgen.PUK)))

CHILD = textwrap.dedent(
    f"""
    import sys
    from pathlib import Path
    from mynacard.emulator.store.loading import load_card
    from mynacard.emulator.store.state import StateStore

    card = load_card(StateStore(Path(sys.argv[1])))
    card.power_on()
    card.process(bytes.fromhex("00A4040C0A{nextgen.AUTH_AID.hex()}"))
    password = {PERSONA.sign_password.encode()!r}
    card.process(bytes((0x00, 0x20, 0x00, 0x9B, len(password))) + password)
    print(card.process(bytes.fromhex("0024019D08") + b"12345678").hex(), flush=True)
    for pin in (b"0000",) * 3:
        card.process(bytes.fromhex("00200098") + bytes((len(pin),)) + pin)
    while True:
        print(card.process(bytes.fromhex("002C019D08") + b"99999999").hex(), flush=True)
    """
)


@pytest.mark.parametrize("round_", range(6))
def test_a_killed_card_never_regains_a_puk_try(card_state_factory: Callable[..., Path], round_: int) -> None:
    directory = card_state_factory("nextgen-2026")
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(directory)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen: list[str] = []
    try:
        assert child.stdout is not None
        deadline = time.monotonic() + random.uniform(0.0, 0.15) + 0.05 * round_
        first = child.stdout.readline().strip()
        seen.append(first)
        while time.monotonic() < deadline and (line := child.stdout.readline().strip()):
            seen.append(line)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert first in ("9000", ""), child.stderr.read() if child.stderr else ""
    card = load_card(StateStore(directory))
    card.power_on()
    card.process(bytes.fromhex("00A4040C0A") + nextgen.AUTH_AID)
    answer = card.process(PUK_QUERY).hex().upper()
    counters = [int(s[-1], 16) for s in seen[1:] if s.startswith("63c")]
    assert answer.startswith("63C"), answer  # the PUK was set before the child printed 9000
    if counters:
        assert int(answer[-1], 16) <= min(counters)
    if "6984" in seen:
        assert answer == "63C0"


@pytest.mark.parametrize("delay", [0.3, 0.35, 0.4, 0.45, 0.5, 0.6])
def test_a_card_killed_while_the_puk_is_set_is_set_or_not_never_half(
    card_state_factory: Callable[..., Path], delay: float
) -> None:
    """Killed at a moment around the CHANGE REFERENCE DATA that sets the PUK (the interpreter's start-up
    takes most of the delay): the reopened card has no PUK (6A 88) or a whole one (63 CA … 63 C0)."""
    directory = card_state_factory("nextgen-2026")
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(directory)], stdout=subprocess.DEVNULL)
    time.sleep(delay)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    card = load_card(StateStore(directory))
    card.power_on()
    card.process(bytes.fromhex("00A4040C0A") + nextgen.AUTH_AID)
    answer = card.process(PUK_QUERY).hex().upper()
    assert answer == "6A88" or answer.startswith("63C"), answer
    assert not list(directory.glob(".security.json.*")), "a temporary file survived the reopen"
