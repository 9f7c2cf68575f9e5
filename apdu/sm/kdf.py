"""Key derivation of PACE and the password key K_π (ICAO Doc 9303-11 §9.7.1; BSI TR-03110-3).

KDF(K, c) = H(K ‖ c) with the 32-bit big-endian counter c (1 = K_enc, 2 = K_mac, 3 = K_π), truncated to the
key length: SHA-1 for 3DES (16 bytes: K_a ‖ K_b; DES parity bits are ignored by the cipher) and AES-128,
SHA-256 for AES-192 and AES-256.

The password key is K_π = KDF(f(π), 3): f(π) = SHA-1(MRZ information) for the MRZ, and the password's bytes
for a CAN, PIN or PUK. The My Number card's 照合番号B, 4-digit PIN and 照合番号A are all used like a CAN:
their ASCII digits.
"""

from __future__ import annotations

import hashlib
from enum import IntEnum
from typing import Protocol

from mynacard.apdu.sm.ciphers import CipherSuite

KDF_ENC = 1
KDF_MAC = 2
KDF_PI = 3


def kdf(secret: bytes, counter: int, suite: CipherSuite) -> bytes:
    """KDF(secret, counter) for the key length of ``suite``."""
    digest = hashlib.sha1 if suite.key_length <= 16 else hashlib.sha256
    return digest(secret + counter.to_bytes(4, "big")).digest()[: suite.key_length]


class PasswordReference(IntEnum):
    """The password of MSE:Set AT tag ``83`` (ICAO Doc 9303-11 §4.4; BSI TR-03110-3)."""

    MRZ = 0x01
    CAN = 0x02
    """Card access number; on the next My Number card 照合番号B (nextgen-2026 §4)."""
    PIN = 0x03
    """On the My Number card the 4-digit PIN of the 認証AP (nextgen-2026 §4)."""
    PUK = 0x04
    VERIFICATION_CODE_A = 0x81
    """照合番号A: a proprietary reference (nextgen-2026 §4, ASSUMED)."""


class PasswordKey(Protocol):
    """What a PACE party needs of its password: the reference and K_π for a suite."""

    @property
    def reference(self) -> PasswordReference: ...

    def key(self, suite: CipherSuite) -> bytes: ...


PACE_KEY_SEEDS_LENGTH = 20 + 32
"""SHA-1 and SHA-256 of f(π) ‖ 00 00 00 03: K_π for every suite is a prefix of one of them."""


def pace_key_seeds(encoded_password: bytes) -> bytes:
    """What a card keeps instead of the password: both KDF hashes for counter 3, from which K_π of any
    suite is cut (``StoredPassword``). The password itself cannot be read back from them."""
    counter = KDF_PI.to_bytes(4, "big")
    return (
        hashlib.sha1(encoded_password + counter).digest()
        + hashlib.sha256(encoded_password + counter).digest()
    )


class StoredPassword:
    """A card's PACE password as it stores it: the reference and the key seeds of ``pace_key_seeds``."""

    __slots__ = ("_seeds", "reference")

    def __init__(self, reference: PasswordReference, seeds: bytes) -> None:
        if len(seeds) != PACE_KEY_SEEDS_LENGTH:
            raise ValueError(f"PACE key seeds are {PACE_KEY_SEEDS_LENGTH} bytes")
        self.reference = reference
        self._seeds = bytes(seeds)

    def key(self, suite: CipherSuite) -> bytes:
        """K_π = KDF(f(π), 3), cut from the stored SHA-1 or SHA-256 hash as ``kdf`` would."""
        seed = self._seeds[:20] if suite.key_length <= 16 else self._seeds[20:]
        return seed[: suite.key_length]

    def __repr__(self) -> str:
        return f"StoredPassword({self.reference.name}, secret masked)"


class PacePassword:
    """A PACE password: its reference and secret; ``repr`` and ``str`` never show the secret."""

    __slots__ = ("_secret", "reference")

    def __init__(self, reference: PasswordReference, secret: bytes) -> None:
        if not secret:
            raise ValueError("a PACE password is not empty")
        self.reference = reference
        self._secret = bytes(secret)

    @classmethod
    def digits(cls, reference: PasswordReference, digits: str) -> PacePassword:
        """A CAN-like password (照合番号A/B, PIN, PUK) from its decimal digits, used as ASCII."""
        if not digits.isascii() or not digits.isdigit():
            raise ValueError("the password must be ASCII digits")
        return cls(reference, digits.encode("ascii"))

    @classmethod
    def mrz(cls, mrz_information: str) -> PacePassword:
        """The MRZ password from document number, birth date and expiry, each with its check digit."""
        return cls(PasswordReference.MRZ, mrz_information.encode("ascii"))

    def encoded(self) -> bytes:
        """f(π): SHA-1 of the MRZ information for the MRZ, the password bytes otherwise."""
        if self.reference is PasswordReference.MRZ:
            return hashlib.sha1(self._secret).digest()
        return self._secret

    def key(self, suite: CipherSuite) -> bytes:
        """K_π = KDF(f(π), 3)."""
        return kdf(self.encoded(), KDF_PI, suite)

    def __repr__(self) -> str:
        return f"PacePassword({self.reference.name}, secret masked)"

    __str__ = __repr__
