"""Session-key delivery of the 特定在留カード (鍵配送, residence-card.md §9.2): a key establishment plug-in.

The reader draws an AES-128 key, wraps it with RSA-OAEP (PKCS#1 v2.2) under the card's published RSA-2048
delivery key (RSA配送鍵) and sends it in SET SESSION KEY (``80 AE 00 00``); both sides then run the ICAO SM
of ``session`` (AES-CBC with IV = E(K_enc, SSC), AES-CMAC, the SSC as message counter). The specification's
pages on the layout, the derivation and the counter were not reachable: everything past "RSA-OAEP wraps an
AES-128 key" is ASSUMED here, named so a profile can say which choice it makes:

- the data field of SET SESSION KEY is the OAEP ciphertext alone (256 bytes, so an extended Lc);
- K_enc = KDF(K, 1) and K_mac = KDF(K, 2) with the ICAO KDF (SHA-1 for AES-128), the SSC starts at 0.
"""

from __future__ import annotations

from typing import Literal

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from mynacard.apdu.command import CommandApdu
from mynacard.apdu.sm.ciphers import AES_128
from mynacard.apdu.sm.errors import SecureMessagingError
from mynacard.apdu.sm.kdf import KDF_ENC, KDF_MAC, kdf
from mynacard.apdu.sm.session import SessionKeys
from mynacard.apdu.status import SW

OaepHash = Literal["sha1", "sha256"]
SET_SESSION_KEY = (0x80, 0xAE, 0x00, 0x00)


def _oaep(hash_name: OaepHash) -> padding.OAEP:
    algorithm = hashes.SHA256() if hash_name == "sha256" else hashes.SHA1()
    return padding.OAEP(padding.MGF1(algorithm), algorithm, None)


def wrap_session_key(
    delivery_key: rsa.RSAPublicKey, session_key: bytes, hash_name: OaepHash = "sha256"
) -> bytes:
    """The reader's side: RSA-OAEP of the AES-128 session key under the card's delivery key."""
    return delivery_key.encrypt(session_key, _oaep(hash_name))


def set_session_key_command(
    delivery_key: rsa.RSAPublicKey, session_key: bytes, hash_name: OaepHash = "sha256"
) -> CommandApdu:
    """``80 AE 00 00 00 01 00 <OAEP ciphertext>`` (extended Lc)."""
    return CommandApdu(
        *SET_SESSION_KEY, wrap_session_key(delivery_key, session_key, hash_name), extended=True
    )


def unwrap_session_key(
    delivery_key: rsa.RSAPrivateKey, data: bytes, hash_name: OaepHash = "sha256", *, sw: int = SW.WRONG_DATA
) -> bytes:
    """The card's side: the AES-128 key inside ``data``; ``sw`` (a profile's choice) for a wrong padding
    or a key that is not 16 bytes."""
    try:
        session_key = delivery_key.decrypt(data, _oaep(hash_name))
    except ValueError:
        raise SecureMessagingError("the session key does not unwrap (OAEP padding)", sw=sw) from None
    if len(session_key) != AES_128.key_length:
        raise SecureMessagingError(f"a {len(session_key)}-byte key is not AES-128", sw=sw)
    return session_key


def delivered_keys(session_key: bytes) -> SessionKeys:
    """K_enc = KDF(K, 1), K_mac = KDF(K, 2) for AES-128 (ASSUMED: the ICAO derivation)."""
    return SessionKeys(kdf(session_key, KDF_ENC, AES_128), kdf(session_key, KDF_MAC, AES_128), AES_128)
