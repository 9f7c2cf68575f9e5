"""Answer-to-reset built from profile fields (ISO/IEC 7816-3 §8.2), with a computed TCK."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class InterfaceGroup:
    """Interface bytes TAi, TBi, TCi and, when a next group follows, the protocol T announced in TDi."""

    ta: int | None = None
    tb: int | None = None
    tc: int | None = None
    next_protocol: int | None = None


def build_atr(groups: Sequence[InterfaceGroup], historical: bytes = b"", ts: int = 0x3B) -> bytes:
    """TS, T0, the interface groups, the historical bytes and TCK (present when T≠0 is offered)."""
    if len(historical) > 15:
        raise ValueError(f"at most 15 historical bytes, got {len(historical)}")
    for index, group in enumerate(groups):
        if (group.next_protocol is None) != (index == len(groups) - 1):
            raise ValueError("every interface group but the last announces the protocol of the next one")
    body = (
        bytearray((_presence(groups[0]) << 4 | len(historical),)) if groups else bytearray((len(historical),))
    )
    for index, group in enumerate(groups):
        body += bytes(b for b in (group.ta, group.tb, group.tc) if b is not None)
        if group.next_protocol is not None:
            body.append(_presence(groups[index + 1]) << 4 | group.next_protocol)
    body += historical
    offered = {g.next_protocol for g in groups if g.next_protocol is not None}
    atr = bytes((ts,)) + bytes(body)
    if offered - {0}:
        atr += bytes((checksum(bytes(body)),))
    return atr


def _presence(group: InterfaceGroup) -> int:
    """The Y nibble: which of TA, TB, TC, TD follow."""
    bits = 0
    for bit, value in enumerate((group.ta, group.tb, group.tc, group.next_protocol)):
        if value is not None:
            bits |= 1 << bit
    return bits


def checksum(body: bytes) -> int:
    """TCK: the XOR of T0 up to the last historical byte."""
    tck = 0
    for b in body:
        tck ^= b
    return tck
