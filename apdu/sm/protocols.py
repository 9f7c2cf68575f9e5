"""PACE protocols supported: ECDH generic mapping with 3DES or AES (ICAO Doc 9303-11 §9.2, BSI TR-03110-3).

``id-PACE-ECDH-GM`` is ``bsi-de protocols(2) smartcard(2) pace(4) ecdh-GM(2)``, ``0.4.0.127.0.7.2.2.4.2``;
the last arc names the suite: 1 = 3DES-CBC-CBC, 2/3/4 = AES-CBC-CMAC-128/192/256.
"""

from __future__ import annotations

from dataclasses import dataclass

from mynacard.apdu.sm.ciphers import AES_128, AES_192, AES_256, TDES, CipherSuite
from mynacard.apdu.sm.errors import PaceDataError
from mynacard.apdu.sm.oid import decode_oid, encode_oid

ID_PACE_ECDH_GM = "0.4.0.127.0.7.2.2.4.2"


@dataclass(frozen=True, slots=True)
class PaceProtocol:
    """One PACE protocol OID with the cipher suite it names."""

    name: str
    oid: str
    suite: CipherSuite

    @property
    def oid_value(self) -> bytes:
        """The DER content octets of the OID (what follows ``06 L`` and ``80 L``)."""
        return encode_oid(self.oid)

    def __repr__(self) -> str:
        return f"PaceProtocol({self.name})"


def _gm(suffix: str, arc: int, suite: CipherSuite) -> PaceProtocol:
    return PaceProtocol(f"id-PACE-ECDH-GM-{suffix}", f"{ID_PACE_ECDH_GM}.{arc}", suite)


ID_PACE_ECDH_GM_3DES_CBC_CBC = _gm("3DES-CBC-CBC", 1, TDES)
ID_PACE_ECDH_GM_AES_CBC_CMAC_128 = _gm("AES-CBC-CMAC-128", 2, AES_128)
ID_PACE_ECDH_GM_AES_CBC_CMAC_192 = _gm("AES-CBC-CMAC-192", 3, AES_192)
ID_PACE_ECDH_GM_AES_CBC_CMAC_256 = _gm("AES-CBC-CMAC-256", 4, AES_256)

PACE_PROTOCOLS: tuple[PaceProtocol, ...] = (
    ID_PACE_ECDH_GM_3DES_CBC_CBC,
    ID_PACE_ECDH_GM_AES_CBC_CMAC_128,
    ID_PACE_ECDH_GM_AES_CBC_CMAC_192,
    ID_PACE_ECDH_GM_AES_CBC_CMAC_256,
)


def protocol_by_oid(value: bytes) -> PaceProtocol:
    """The protocol of OID content octets; ``PaceDataError`` (``6A 80``) for one not supported."""
    try:
        dotted = decode_oid(value)
    except ValueError:
        raise PaceDataError("the protocol is not a well-formed OID") from None
    for protocol in PACE_PROTOCOLS:
        if protocol.oid == dotted:
            return protocol
    raise PaceDataError(f"PACE protocol {dotted} is not supported")


def protocol_by_name(name: str) -> PaceProtocol:
    """The protocol of an ICAO name such as ``id-PACE-ECDH-GM-AES-CBC-CMAC-256``; ``ValueError`` otherwise."""
    for protocol in PACE_PROTOCOLS:
        if protocol.name == name:
            return protocol
    raise ValueError(f"unknown PACE protocol {name!r}; known: {', '.join(p.name for p in PACE_PROTOCOLS)}")
