"""PACEInfo in EF.CardAccess (ICAO Doc 9303-11 §9.2; BSI TR-03110-3).

    SecurityInfos ::= SET OF SecurityInfo
    PACEInfo ::= SEQUENCE { protocol OBJECT IDENTIFIER, version INTEGER (2), parameterId INTEGER OPTIONAL }

EF.CardAccess (FID ``01 1C`` under the MF) is free to read; a terminal reads it before MSE:Set AT.
Decoding keeps the PACEInfos of the protocols supported here and skips every other SecurityInfo
(PACEDomainParameterInfo, ChipAuthenticationInfo, other mappings), as a terminal must.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mynacard.apdu.sm.curves import STANDARDIZED_DOMAIN_PARAMETERS, DomainParameters, domain_parameters
from mynacard.apdu.sm.errors import PaceDataError
from mynacard.apdu.sm.oid import decode_oid
from mynacard.apdu.sm.protocols import PACE_PROTOCOLS, PaceProtocol
from mynacard.apdu.tlv import Tlv, TlvError, ber_decode, ber_encode

FID_EF_CARD_ACCESS = 0x011C
PACE_VERSION = 2

_SET, _SEQUENCE, _OID, _INTEGER = 0x31, 0x30, 0x06, 0x02


def _integer(n: int) -> bytes:
    """DER INTEGER of a non-negative ``n`` (minimal two's complement)."""
    return ber_encode(_INTEGER, n.to_bytes((n.bit_length() + 8) // 8, "big"))


def _decode_integer(tlv: Tlv) -> int:
    if tlv.tag != _INTEGER or not tlv.value or tlv.value[0] & 0x80:
        raise PaceDataError("PACEInfo: a non-negative INTEGER expected")
    return int.from_bytes(tlv.value, "big")


@dataclass(frozen=True, slots=True)
class PaceInfo:
    """One PACEInfo: the protocol, version 2 and the standardized domain parameter id."""

    protocol: PaceProtocol
    parameter_id: int
    version: int = PACE_VERSION

    @property
    def parameters(self) -> DomainParameters:
        return domain_parameters(self.parameter_id)

    def encode(self) -> bytes:
        oid = ber_encode(_OID, self.protocol.oid_value)
        return ber_encode(_SEQUENCE, oid + _integer(self.version) + _integer(self.parameter_id))


def encode_card_access(infos: Sequence[PaceInfo]) -> bytes:
    """The content of EF.CardAccess: ``31 L { PACEInfo … }`` (DER: SET OF sorted by encoding)."""
    return ber_encode(_SET, b"".join(sorted(info.encode() for info in infos)))


def _pace_info(info: Tlv) -> PaceInfo | None:
    fields = info.children()
    if len(fields) < 2 or fields[0].tag != _OID:
        raise PaceDataError("SecurityInfo: a SEQUENCE starting with an OID expected")
    try:
        dotted = decode_oid(fields[0].value)
    except ValueError:
        raise PaceDataError("SecurityInfo: malformed OID") from None
    protocol = next((p for p in PACE_PROTOCOLS if p.oid == dotted), None)
    if protocol is None:
        return None
    if len(fields) != 3 or _decode_integer(fields[1]) != PACE_VERSION:
        return None  # another version, or proprietary parameters without a standardized id
    return PaceInfo(protocol, _decode_integer(fields[2]))


def decode_card_access(data: bytes) -> list[PaceInfo]:
    """The supported PACEInfos of EF.CardAccess, in file order; ``PaceDataError`` when it is malformed."""
    try:
        outer = ber_decode(data)
        if outer.tag != _SET or outer.end != len(data):
            raise PaceDataError("EF.CardAccess must be one SET OF SecurityInfo")
        infos = outer.children()
        if any(info.tag != _SEQUENCE for info in infos):
            raise PaceDataError("SecurityInfo must be a SEQUENCE")
        found = [_pace_info(info) for info in infos]
    except TlvError as error:
        raise PaceDataError(f"EF.CardAccess is not DER: {error}") from None
    supported = STANDARDIZED_DOMAIN_PARAMETERS
    return [info for info in found if info is not None and info.parameter_id in supported]
