"""The SM data objects of a protected command or response (ISO/IEC 7816-4 §10, ICAO Doc 9303-11 §9.8).

- ``87``: padding-content indicator ``01`` then the cryptogram of the padded data (even INS, and responses);
- ``85``: the cryptogram without indicator (odd INS: the plain data is BER-TLV and is sent as it is padded);
- ``97``: Le, one byte (``00`` = 256) or two (``00 00`` = 65536);
- ``99``: the status word of a response, two bytes;
- ``8E``: the MAC, 8 bytes, always last.

Parsing is strict: objects in this order, each at most once, nothing else. A missing ``8E`` raises
``SmObjectsMissingError`` (``69 87``); anything else ill-formed raises ``SmObjectsIncorrectError``
(``69 88``). Whether a response lacks ``99`` is checked after its MAC (by the session), so that tampering
always reads as ``69 88``.
"""

from __future__ import annotations

from dataclasses import dataclass

from mynacard.apdu.sm.ciphers import MAC_LENGTH
from mynacard.apdu.sm.errors import SmObjectsIncorrectError, SmObjectsMissingError
from mynacard.apdu.tlv import Tlv, TlvError, ber_decode_all, ber_encode

TAG_CRYPTOGRAM_PADDED = 0x87
TAG_CRYPTOGRAM_PLAIN_TLV = 0x85
TAG_LE = 0x97
TAG_STATUS = 0x99
TAG_MAC = 0x8E

PADDING_INDICATOR = 0x01
"""Padding-content indicator of ``87``: padding method 2 of ISO/IEC 9797-1 (ISO/IEC 7816-4 §10)."""


def cryptogram_object(cryptogram: bytes, *, odd_ins: bool) -> bytes:
    """``87 L 01 ‖ cryptogram`` for an even INS (and every response), ``85 L cryptogram`` for an odd one."""
    if odd_ins:
        return ber_encode(TAG_CRYPTOGRAM_PLAIN_TLV, cryptogram)
    return ber_encode(TAG_CRYPTOGRAM_PADDED, bytes((PADDING_INDICATOR,)) + cryptogram)


def le_object(ne: int, *, extended: bool) -> bytes:
    """``97 01 Le`` (short) or ``97 02 Le Le`` (extended); ``ne`` 256 → ``00``, 65536 → ``00 00``."""
    if extended:
        return ber_encode(TAG_LE, (ne & 0xFFFF).to_bytes(2, "big"))
    if not 1 <= ne <= 256:
        raise ValueError(f"a short Le encodes 1..256, not {ne}")
    return ber_encode(TAG_LE, bytes((ne & 0xFF,)))


def status_object(sw: int) -> bytes:
    """``99 02 SW1 SW2``."""
    return ber_encode(TAG_STATUS, sw.to_bytes(2, "big"))


def mac_object(mac: bytes) -> bytes:
    """``8E 08 MAC``."""
    return ber_encode(TAG_MAC, mac)


@dataclass(frozen=True, slots=True)
class ProtectedObjects:
    """The decoded objects of a protected body; ``mac_input`` is the encoding of all objects before ``8E``."""

    cryptogram: bytes | None
    cryptogram_tag: int | None
    le: bytes | None
    status: bytes | None
    mac: bytes
    mac_input: bytes


_COMMAND_ORDER = {TAG_CRYPTOGRAM_PADDED: 0, TAG_CRYPTOGRAM_PLAIN_TLV: 0, TAG_LE: 1, TAG_MAC: 2}
_RESPONSE_ORDER = {TAG_CRYPTOGRAM_PADDED: 0, TAG_CRYPTOGRAM_PLAIN_TLV: 0, TAG_STATUS: 1, TAG_MAC: 2}
"""Rank of each allowed tag; ``85`` and ``87`` share a rank, so at most one of them appears."""


def _decode(body: bytes) -> list[Tlv]:
    try:
        return ber_decode_all(body)
    except TlvError as error:
        raise SmObjectsIncorrectError(f"SM body is not BER-TLV: {error}") from None


def _check_order(objects: list[Tlv], order: dict[int, int]) -> None:
    """Tags only from ``order``, by rising rank, each once."""
    rank = -1
    for tlv in objects:
        position = order.get(tlv.tag)
        if position is None:
            raise SmObjectsIncorrectError(f"unexpected SM data object {tlv.tag:02X}")
        if position <= rank:
            raise SmObjectsIncorrectError(f"SM data object {tlv.tag:02X} repeated or out of order")
        rank = position


def _cryptogram(tlv: Tlv) -> bytes:
    if tlv.tag == TAG_CRYPTOGRAM_PLAIN_TLV:
        if not tlv.value:
            raise SmObjectsIncorrectError("empty cryptogram in 85")
        return tlv.value
    if len(tlv.value) < 2 or tlv.value[0] != PADDING_INDICATOR:
        raise SmObjectsIncorrectError("87 needs the padding-content indicator 01 and a cryptogram")
    return tlv.value[1:]


def parse_protected(body: bytes, *, response: bool) -> ProtectedObjects:
    """Split a protected command data field or response body into its SM objects (strictly)."""
    objects = _decode(body)
    _check_order(objects, _RESPONSE_ORDER if response else _COMMAND_ORDER)
    found = {tlv.tag: tlv for tlv in objects}
    if TAG_MAC not in found:
        raise SmObjectsMissingError("no MAC object 8E")
    mac = found[TAG_MAC]  # last: it has the highest rank
    if len(mac.value) != MAC_LENGTH:
        raise SmObjectsIncorrectError(f"8E holds {len(mac.value)} bytes, not {MAC_LENGTH}")
    crypto = found.get(TAG_CRYPTOGRAM_PADDED) or found.get(TAG_CRYPTOGRAM_PLAIN_TLV)
    le = found.get(TAG_LE)
    status = found.get(TAG_STATUS)
    if le is not None and len(le.value) not in (1, 2):
        raise SmObjectsIncorrectError(f"97 holds {len(le.value)} bytes, not 1 or 2")
    if status is not None and len(status.value) != 2:
        raise SmObjectsIncorrectError(f"99 holds {len(status.value)} bytes, not 2")
    return ProtectedObjects(
        cryptogram=_cryptogram(crypto) if crypto else None,
        cryptogram_tag=crypto.tag if crypto else None,
        le=le.value if le else None,
        status=status.value if status else None,
        mac=mac.value,
        mac_input=body[: mac.offset],
    )


def decode_le(value: bytes) -> int:
    """Ne from the value of ``97``: ``00`` → 256, ``00 00`` → 65536."""
    n = int.from_bytes(value, "big")
    return n or (256 if len(value) == 1 else 65536)
