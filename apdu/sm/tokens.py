"""PACE authentication tokens (ICAO Doc 9303-11 §4.4; BSI TR-03110-3).

T = MAC(K_mac, public key data object of the other side's ephemeral key), where the data object is
``7F49 L { 06 L protocol-OID, 86 L 04‖x‖y }``. With AES the MAC is AES-CMAC of the object as it is (CMAC pads
by itself); with 3DES it is the retail MAC of the object padded by ISO/IEC 9797-1 method 2. 8 bytes.
"""

from __future__ import annotations

from mynacard.apdu.sm.ciphers import AesSuite
from mynacard.apdu.sm.padding import pad
from mynacard.apdu.sm.protocols import PaceProtocol
from mynacard.apdu.tlv import ber_encode

TAG_PUBLIC_KEY = 0x7F49
TAG_OID = 0x06
TAG_EC_PUBLIC_POINT = 0x86


def public_key_data_object(protocol: PaceProtocol, encoded_point: bytes) -> bytes:
    """``7F49 { 06 OID, 86 point }`` (BSI TR-03110-3, elliptic-curve public key data object)."""
    body = ber_encode(TAG_OID, protocol.oid_value) + ber_encode(TAG_EC_PUBLIC_POINT, encoded_point)
    return ber_encode(TAG_PUBLIC_KEY, body)


def authentication_token(protocol: PaceProtocol, k_mac: bytes, encoded_point: bytes) -> bytes:
    """The 8-byte token over the other side's ephemeral public key."""
    data = public_key_data_object(protocol, encoded_point)
    suite = protocol.suite
    return suite.mac(k_mac, data if isinstance(suite, AesSuite) else pad(data, suite.block_size))
