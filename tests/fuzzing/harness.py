"""The fuzz harness: one input is a sequence of APDUs sent to a freshly powered card, checked one by one.

Input format (every byte string is a valid input, so mutations never waste a run on parsing)::

    input  = step*                          at most MAX_STEPS steps; the rest is ignored
    step   = length:2 (big-endian) body     body = the next ``length`` bytes (fewer at the end: the rest)
    length = FFFF                           a warm reset (no body)
           | FFFE                           a power cycle (no body)

A lone trailing byte is a 1-byte APDU. Each input starts with a power cycle and with every credential's
counter and value as personalised, so an input's answers depend on the input alone (a campaign would
otherwise block every PIN within seconds and leave the verified paths unreachable).

After every APDU the harness checks the invariants of architecture rule 3 ("Nothing escapes
``Card.process``"): no exception, a response of at least 2 bytes, no ``6F 00`` (an internal error), no
traceback logged on ``mynacard.emulator``, and a status word of a known family (``status.is_known``).
"""

from __future__ import annotations

import copy
import enum
import json
import logging
import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from mynacard.apdu.status import SW, describe, is_known

if TYPE_CHECKING:
    from mynacard.emulator.card import Card
    from mynacard.emulator.credentials import Credential, CredentialState

MAX_STEPS = 64
"""Steps of one input that are run; more would only slow every execution down."""

DEFAULT_PROFILE = "legacy-2016"
DEFAULT_PERSONA = "default"


class Event(enum.Enum):
    """A step that is not an APDU."""

    WARM_RESET = 0xFFFF
    POWER_CYCLE = 0xFFFE


Step = bytes | Event
_EVENTS = {e.value: e for e in Event}


def encode(steps: Iterable[Step]) -> bytes:
    """The input that ``decode`` turns back into ``steps`` (APDUs of at most FFFD bytes)."""
    out = bytearray()
    for step in steps:
        if isinstance(step, Event):
            out += step.value.to_bytes(2, "big")
            continue
        if len(step) >= Event.POWER_CYCLE.value:
            raise ValueError(f"an APDU of {len(step)} bytes does not fit the 2-byte length")
        out += len(step).to_bytes(2, "big") + step
    return bytes(out)


def decode(data: bytes) -> list[Step]:
    """The steps of an input; total: every byte string decodes."""
    steps: list[Step] = []
    i, n = 0, len(data)
    while i < n and len(steps) < MAX_STEPS:
        if i + 1 == n:
            steps.append(data[i:])
            break
        length = data[i] << 8 | data[i + 1]
        i += 2
        event = _EVENTS.get(length)
        if event is not None:
            steps.append(event)
            continue
        steps.append(data[i : i + length])
        i += length
    return steps


def describe_steps(steps: Sequence[Step]) -> str:
    """One line per step, for reports of a failing input."""
    lines = []
    for index, step in enumerate(steps, 1):
        text = step.name.lower().replace("_", " ") if isinstance(step, Event) else _hex(step) or "(empty)"
        lines.append(f"  {index:2}. {text}")
    return "\n".join(lines)


def _hex(data: bytes) -> str:
    return data.hex(" ").upper()


class InvariantError(AssertionError):
    """``Card.process`` raised, answered ``6F 00``, logged a traceback or answered a malformed response."""


class _ErrorRecords(logging.Handler):
    """Keeps the ERROR records of ``mynacard.emulator`` (an internal error logs its traceback there)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class Harness:
    """Runs inputs against one card, restoring its credentials before each; counts inputs and APDUs.

    With ``stats_path`` it writes ``{"inputs", "apdus", "seconds"}`` there about once a second (libFuzzer
    ends the process with ``exit()``, so nothing can be reported at the end).
    """

    def __init__(self, card: Card, stats_path: Path | None = None) -> None:
        self.card = card
        self.inputs = 0
        self.apdus = 0
        self._credentials: list[tuple[Credential, CredentialState]] = [
            (credential, copy.copy(credential.state))
            for applet in card.filesystem.applets
            for credential in applet.credentials()
        ]
        self._errors = _ErrorRecords()
        logging.getLogger("mynacard.emulator").addHandler(self._errors)
        self._stats_path = stats_path
        self._started: float | None = None
        self._next_stats = 0.0

    def close(self) -> None:
        logging.getLogger("mynacard.emulator").removeHandler(self._errors)
        self.write_stats()

    def restore(self) -> None:
        """Every credential's counter and value as at personalisation; the card powered off and on."""
        self.card.power_off()
        for credential, state in self._credentials:
            credential.state = copy.copy(state)
        self.card.power_on()

    def run(self, data: bytes) -> list[bytes]:
        """One input; returns the responses; raises ``InvariantError`` at the first broken invariant."""
        now = time.perf_counter()
        if self._started is None:
            self._started = now
        self.restore()
        self._errors.records.clear()
        self.inputs += 1
        steps = decode(data)
        responses = []
        for index, step in enumerate(steps):
            if step is Event.WARM_RESET:
                self.card.reset()
                continue
            if step is Event.POWER_CYCLE:
                self.card.power_off()
                self.card.power_on()
                continue
            assert isinstance(step, bytes)
            self.apdus += 1
            try:
                response = self.card.process(step)
            except Exception as exc:
                raise InvariantError(self._report(data, steps, index, None, "raised")) from exc
            problem = self._problem(response)
            if problem is not None:
                raise InvariantError(self._report(data, steps, index, response, problem))
            responses.append(response)
        if self._stats_path is not None and now >= self._next_stats:
            self._next_stats = now + 1.0
            self.write_stats()
        return responses

    def _problem(self, response: object) -> str | None:
        if not isinstance(response, bytes):
            return f"returned {type(response).__name__}, not bytes"
        if len(response) < 2:
            return f"a response of {len(response)} byte(s) has no status word"
        sw = response[-2] << 8 | response[-1]
        if sw == SW.NO_PRECISE_DIAGNOSIS:
            return "answered 6F 00 (an internal error)"
        if any(r.exc_info for r in self._errors.records):
            return "logged a traceback"
        if not is_known(sw):
            return f"answered {describe(sw)}"
        return None

    def _report(
        self, data: bytes, steps: Sequence[Step], index: int, response: bytes | None, problem: str
    ) -> str:
        command = steps[index]
        assert isinstance(command, bytes)
        answer = "" if response is None else f" -> {_hex(response)}"
        lines = [
            f"Card.process {problem}: step {index + 1} of {len(steps)}: {_hex(command) or '(empty)'}{answer}",
            f"input ({len(data)} bytes): {data.hex()}",
            "steps:",
            describe_steps(steps),
        ]
        for record in self._errors.records:
            lines += ["logged:", self._errors.format(record)]
        return "\n".join(lines)

    def write_stats(self) -> None:
        if self._stats_path is None or self._started is None:
            return
        seconds = time.perf_counter() - self._started
        stats = {"inputs": self.inputs, "apdus": self.apdus, "seconds": seconds, "pid": os.getpid()}
        tmp = self._stats_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(stats))
        tmp.replace(self._stats_path)


def open_fuzz_card(profile: str = DEFAULT_PROFILE, persona: str = DEFAULT_PERSONA) -> Card:
    """An in-memory card, personalised once per process (about 0.6 s for legacy-2016)."""
    from mynacard.emulator.issuance.personalise import open_card

    card = open_card(profile, persona, None)
    card.power_on()
    return card
