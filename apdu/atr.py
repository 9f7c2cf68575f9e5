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


class AtrError(ValueError):
    """An answer-to-reset that ISO/IEC 7816-3 §8.2 cannot read (short, bad TS, a wrong TCK)."""


@dataclass(frozen=True, slots=True)
class ParsedAtr:
    """An ATR as a reader's user reads it: the convention, the interface groups, the historical bytes."""

    ts: int
    groups: tuple[InterfaceGroup, ...]
    historical: bytes
    tck: int | None

    @property
    def protocols(self) -> tuple[int, ...]:
        """The protocols offered (T=0 when no TD names one), in order, without repeats."""
        named = [g.next_protocol for g in self.groups if g.next_protocol is not None]
        return tuple(dict.fromkeys(named or [0]))


def parse_atr(atr: bytes) -> ParsedAtr:
    """Reads TS, T0, every interface group (TDi announces the next), K historical bytes and TCK, which must
    be present exactly when a protocol other than T=0 is offered and make the XOR of T0…TCK zero."""
    if len(atr) < 2 or atr[0] not in (0x3B, 0x3F):
        raise AtrError(f"TS must be 3B or 3F: {atr.hex(' ').upper() or 'empty'}")
    position, presence, groups = 2, atr[1] >> 4, []
    while True:
        values = []
        for bit in range(3):
            values.append(_byte_at(atr, position) if presence >> bit & 1 else None)
            position += presence >> bit & 1
        td = _byte_at(atr, position) if presence & 0x8 else None
        position += td is not None
        ta, tb, tc = values
        groups.append(InterfaceGroup(ta, tb, tc, next_protocol=None if td is None else td & 0x0F))
        if td is None:
            break
        presence = td >> 4
    historical = atr[position : position + (atr[1] & 0x0F)]
    if len(historical) != atr[1] & 0x0F:
        raise AtrError(f"T0 announces {atr[1] & 0x0F} historical bytes, {len(historical)} follow")
    position += len(historical)
    parsed = ParsedAtr(atr[0], tuple(groups), historical, atr[position] if position < len(atr) else None)
    _check_tck(atr, parsed, position)
    return parsed


def _byte_at(atr: bytes, position: int) -> int:
    if position >= len(atr):
        raise AtrError(f"the ATR ends at byte {position} where an interface byte is due")
    return atr[position]


def _check_tck(atr: bytes, parsed: ParsedAtr, end: int) -> None:
    needed = bool(set(parsed.protocols) - {0})
    if needed and parsed.tck is None:
        raise AtrError("TCK missing: a protocol other than T=0 is offered")
    if len(atr) > end + needed:
        raise AtrError(f"{len(atr) - end - needed} bytes after the ATR's end")
    if needed and checksum(atr[1 : end + 1]) != 0:
        raise AtrError(f"TCK {parsed.tck:02X} is wrong: T0…TCK XOR to {checksum(atr[1 : end + 1]):02X}")
