"""The timing model at work (応答時間モデル): a card whose answers take as long as a real card's would.

``TimedCard`` wraps any software card. Each ``process`` measures what the card itself took and sleeps the
rest of ``expected_seconds``: the command and response bytes at the profile's bit rate, the per-APDU
overhead, and the named operation's time when the answer is a success (``90 00`` or ``61 xx``). The sleep
is injectable, so tests read the delays instead of waiting for them. Profile section: ``profiles/timing.py``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from mynacard.apdu.readers.base import SoftCard
from mynacard.profiles.timing import OPERATION_INS, TimingSpec

Sleep = Callable[[float], None]


def expected_seconds(spec: TimingSpec, command: bytes, response: bytes) -> float:
    """How long a real card of this timing class takes for one exchange."""
    wire = (len(command) + len(response)) * spec.bits_per_byte / spec.bit_rate
    operation = 0.0
    if len(command) >= 2 and len(response) >= 2 and _succeeded(response):
        for name, milliseconds in spec.operation_ms.items():
            if command[1] == OPERATION_INS[name]:
                operation = milliseconds / 1000
    return spec.apdu_overhead_ms / 1000 + wire + operation


def _succeeded(response: bytes) -> bool:
    return response[-2:] == b"\x90\x00" or response[-2] == 0x61


class TimedCard:
    """``card`` with the answers of ``spec``'s timing class; everything else is the card's own."""

    def __init__(self, card: SoftCard, spec: TimingSpec, sleep: Sleep = time.sleep) -> None:
        self.card = card
        self.spec = spec
        self._sleep = sleep

    def process(self, command: bytes) -> bytes:
        started = time.perf_counter()
        response = self.card.process(command)
        remaining = expected_seconds(self.spec, command, response) - (time.perf_counter() - started)
        if remaining > 0:
            self._sleep(remaining)
        return response

    def power_on(self) -> bytes:
        return self.card.power_on()

    def power_off(self) -> None:
        self.card.power_off()

    def reset(self) -> bytes:
        return self.card.reset()

    @property
    def atr(self) -> bytes:
        return self.card.atr


def with_timing(card: SoftCard, spec: TimingSpec, *, force: bool = False) -> SoftCard:
    """``card`` itself when the profile's timing is off (and not forced on), else a ``TimedCard``."""
    if not (spec.enabled or force):
        return card
    return TimedCard(card, spec)
