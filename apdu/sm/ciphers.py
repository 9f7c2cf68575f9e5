"""The two cipher suites of ICAO SM: 3DES (CBC, retail MAC) and AES (CBC, CMAC); ICAO Doc 9303-11 §9.8.

- 3DES: two-key TDES in CBC mode with a zero IV; the MAC is ISO/IEC 9797-1 MAC algorithm 3
  ("retail MAC", DES with the second key only on the last block); SSC of 8 bytes.
- AES (also BSI TR-03110-3, secure messaging): AES-CBC with IV = E(K_enc, SSC); AES-CMAC (NIST SP 800-38B)
  truncated to 8 bytes; SSC of 16 bytes; keys of 128, 192 or 256 bits.

The nonce of PACE is encrypted with K_π and a zero IV in CBC mode (§4.4), for both suites. All ciphers
come from ``cryptography``; only the composition of the retail MAC out of DES blocks is done here.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import cmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

MAC_LENGTH = 8
"""Every SM MAC and PACE authentication token is 8 bytes (ICAO Doc 9303-11 §9.8 and §4.4)."""


def _cbc(algorithm: algorithms.AES | TripleDES, iv: bytes, data: bytes, *, encrypt: bool) -> bytes:
    cipher = Cipher(algorithm, modes.CBC(iv))
    context = cipher.encryptor() if encrypt else cipher.decryptor()
    return context.update(data) + context.finalize()


def _ecb(algorithm: algorithms.AES | TripleDES, block: bytes, *, encrypt: bool) -> bytes:
    cipher = Cipher(algorithm, modes.ECB())
    context = cipher.encryptor() if encrypt else cipher.decryptor()
    return context.update(block) + context.finalize()


class CipherSuite(ABC):
    """Block cipher and MAC of one SM suite; data given to them is already padded (see ``padding``)."""

    name: str
    block_size: int
    key_length: int
    """Length in bytes of K_enc, K_mac and K_π."""

    @property
    def ssc_length(self) -> int:
        """The send-sequence counter is one block long."""
        return self.block_size

    @abstractmethod
    def encrypt(self, k_enc: bytes, ssc: bytes, data: bytes) -> bytes:
        """The SM cryptogram of padded ``data`` for the current SSC."""

    @abstractmethod
    def decrypt(self, k_enc: bytes, ssc: bytes, data: bytes) -> bytes:
        """The padded plaintext of an SM cryptogram for the current SSC."""

    @abstractmethod
    def mac(self, k_mac: bytes, data: bytes) -> bytes:
        """The 8-byte MAC of ``data`` (for SM the caller puts the SSC in front and pads)."""

    @abstractmethod
    def encrypt_nonce(self, k_pi: bytes, nonce: bytes) -> bytes:
        """PACE: z = E(K_π, s), CBC with a zero IV (ICAO Doc 9303-11 §4.4)."""

    @abstractmethod
    def decrypt_nonce(self, k_pi: bytes, z: bytes) -> bytes:
        """PACE: s = D(K_π, z)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name})"


class AesSuite(CipherSuite):
    """AES-CBC with IV = E(K_enc, SSC) and AES-CMAC (ICAO Doc 9303-11 §9.8, BSI TR-03110-3)."""

    block_size = 16

    def __init__(self, key_bits: int) -> None:
        if key_bits not in (128, 192, 256):
            raise ValueError(f"AES keys are 128, 192 or 256 bits, not {key_bits}")
        self.key_length = key_bits // 8
        self.name = f"AES-CBC-CMAC-{key_bits}"

    def _iv(self, k_enc: bytes, ssc: bytes) -> bytes:
        return _ecb(algorithms.AES(k_enc), ssc, encrypt=True)

    def encrypt(self, k_enc: bytes, ssc: bytes, data: bytes) -> bytes:
        return _cbc(algorithms.AES(k_enc), self._iv(k_enc, ssc), data, encrypt=True)

    def decrypt(self, k_enc: bytes, ssc: bytes, data: bytes) -> bytes:
        return _cbc(algorithms.AES(k_enc), self._iv(k_enc, ssc), data, encrypt=False)

    def mac(self, k_mac: bytes, data: bytes) -> bytes:
        c = cmac.CMAC(algorithms.AES(k_mac))
        c.update(data)
        return c.finalize()[:MAC_LENGTH]

    def encrypt_nonce(self, k_pi: bytes, nonce: bytes) -> bytes:
        return _cbc(algorithms.AES(k_pi), bytes(16), nonce, encrypt=True)

    def decrypt_nonce(self, k_pi: bytes, z: bytes) -> bytes:
        return _cbc(algorithms.AES(k_pi), bytes(16), z, encrypt=False)


def _des(key8: bytes) -> TripleDES:
    """Single DES as TDES with K1 = K2 = K3 (``cryptography`` deprecates bare 8-byte keys)."""
    return TripleDES(key8 * 3)


def _tdes(key16: bytes) -> TripleDES:
    """Two-key TDES (K1, K2, K1) given as three keys (``cryptography`` deprecates 16-byte keys)."""
    return TripleDES(key16 + key16[:8])


class TdesSuite(CipherSuite):
    """Two-key TDES-CBC with a zero IV and the ISO/IEC 9797-1 MAC algorithm 3 (ICAO Doc 9303-11 §9.8)."""

    block_size = 8
    key_length = 16
    name = "3DES-CBC-CBC"

    def encrypt(self, k_enc: bytes, ssc: bytes, data: bytes) -> bytes:
        return _cbc(_tdes(k_enc), bytes(8), data, encrypt=True)

    def decrypt(self, k_enc: bytes, ssc: bytes, data: bytes) -> bytes:
        return _cbc(_tdes(k_enc), bytes(8), data, encrypt=False)

    def mac(self, k_mac: bytes, data: bytes) -> bytes:
        """Retail MAC: DES-CBC under K_a over every block, then D(K_b) and E(K_a) on the last one."""
        if not data or len(data) % 8:
            raise ValueError("the retail MAC takes padded data")
        k_a, k_b = k_mac[:8], k_mac[8:16]
        chained = _cbc(_des(k_a), bytes(8), data, encrypt=True)[-8:]
        return _ecb(_des(k_a), _ecb(_des(k_b), chained, encrypt=False), encrypt=True)

    def encrypt_nonce(self, k_pi: bytes, nonce: bytes) -> bytes:
        return self.encrypt(k_pi, b"", nonce)

    def decrypt_nonce(self, k_pi: bytes, z: bytes) -> bytes:
        return self.decrypt(k_pi, b"", z)


TDES = TdesSuite()
AES_128 = AesSuite(128)
AES_192 = AesSuite(192)
AES_256 = AesSuite(256)
