"""Where PACE takes its random values: the chip's nonce s and both sides' private keys.

The default draws from ``secrets`` (the OS CSPRNG). ``FixedRandom`` replays given values, so a test can
reproduce a published worked example (ICAO Doc 9303-11 Appendix G.1).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Protocol


class PaceRandom(Protocol):
    """A source of the nonce and of private keys in [1, n − 1]."""

    def nonce(self, length: int) -> bytes: ...

    def private_key(self, order: int) -> int: ...


class SystemRandom:
    """Random values from the operating system (``secrets``)."""

    def nonce(self, length: int) -> bytes:
        return secrets.token_bytes(length)

    def private_key(self, order: int) -> int:
        return 1 + secrets.randbelow(order - 1)


class FixedRandom:
    """Given values in order: the nonce (chip side) and the private keys (mapping key, then ephemeral key)."""

    def __init__(self, private_keys: Iterable[int], nonce: bytes | None = None) -> None:
        self._keys = list(private_keys)
        self._nonce = nonce

    def nonce(self, length: int) -> bytes:
        if self._nonce is None or len(self._nonce) != length:
            raise ValueError(f"no fixed nonce of {length} bytes")
        nonce, self._nonce = self._nonce, None
        return nonce

    def private_key(self, order: int) -> int:
        if not self._keys:
            raise ValueError("no fixed private key left")
        key = self._keys.pop(0)
        if not 1 <= key < order:
            raise ValueError("a fixed private key must be in [1, n - 1]")
        return key
