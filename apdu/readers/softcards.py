"""Trivial software cards: transport baselines for benchmarks and test doubles for readers and bridges.

They answer like a card (response data + SW) and know nothing of any application.
"""

from __future__ import annotations

from mynacard.apdu.status import SW

JPKI_ATR = bytes.fromhex("3B E0 00 FF 81 31 FE 45 14")
_OK = SW.OK.bytes
_PATTERN = bytes(range(256))


class StaticCard:
    """A card with an ATR and no state to clear: the power operations do nothing."""

    def __init__(self, atr: bytes = JPKI_ATR) -> None:
        self._atr = atr

    @property
    def atr(self) -> bytes:
        return self._atr

    def power_on(self) -> bytes:
        return self._atr

    def power_off(self) -> None:
        pass

    def reset(self) -> bytes:
        return self._atr

    def process(self, command: bytes) -> bytes:
        return _OK


class FixedAnswerCard(StaticCard):
    """Answers every command with one prepared response (a same-size baseline for a card's answer)."""

    def __init__(self, response: bytes, atr: bytes = JPKI_ATR) -> None:
        super().__init__(atr)
        self._response = response

    def process(self, command: bytes) -> bytes:
        return self._response


class PatternCard(StaticCard):
    """``90 00`` to everything; to a short case 2 command, Le bytes ``00 01 02 ..`` (256 for Le 00)."""

    def process(self, command: bytes) -> bytes:
        if len(command) == 5:
            return _PATTERN[: command[4] or 256] + _OK
        return _OK


class EchoCard(PatternCard):
    """``PatternCard`` that also echoes a short case 3/4 data field and counts power events."""

    ATR = JPKI_ATR

    def __init__(self, atr: bytes = JPKI_ATR) -> None:
        super().__init__(atr)
        self.power_ons = 0
        self.resets = 0
        self.power_offs = 0

    def power_on(self) -> bytes:
        self.power_ons += 1
        return self._atr

    def power_off(self) -> None:
        self.power_offs += 1

    def reset(self) -> bytes:
        self.resets += 1
        return self._atr

    def process(self, command: bytes) -> bytes:
        if len(command) > 5 and command[4]:
            return command[5 : 5 + command[4]] + _OK
        return super().process(command)


class T0StyleCard(EchoCard):
    """Answers the way a T=0 card does: data only through GET RESPONSE, exact Le through ``6C``.

    ``80 2A …`` → ``61 20``, then ``00 C0 00 00 20`` gives ``SIGNATURE``; ``00 B0 …`` with any Le but 4 →
    ``6C 04``, and with Le 4 → ``30 82 01 23``.
    """

    SIGNATURE = bytes(range(0x10, 0x30))

    def process(self, command: bytes) -> bytes:
        if command[:2] == b"\x80\x2a":
            return b"\x61\x20"
        if command == bytes.fromhex("00C0000020"):
            return self.SIGNATURE + _OK
        if command[:2] == b"\x00\xb0":
            return bytes.fromhex("6C04") if command[4] != 4 else bytes.fromhex("30820123") + _OK
        return super().process(command)
