"""Padding method 2 of ISO/IEC 9797-1: append ``80``, then ``00`` up to a multiple of the block.

ISO/IEC 7816-4 §10 and ICAO Doc 9303-11 §9.8 use it for every cryptogram and MAC input of SM.
"""

from __future__ import annotations

from mynacard.apdu.sm.errors import SmObjectsIncorrectError


def pad(data: bytes, block_size: int) -> bytes:
    """``data ‖ 80 ‖ 00…`` to the next multiple of ``block_size`` (always at least one byte added)."""
    padded = data + b"\x80"
    return padded + bytes(-len(padded) % block_size)


def unpad(data: bytes, block_size: int) -> bytes:
    """Remove method-2 padding; ``SmObjectsIncorrectError`` (``69 88``) when it is not there."""
    if not data or len(data) % block_size:
        raise SmObjectsIncorrectError(f"padded data of {len(data)} bytes is not a multiple of {block_size}")
    end = data.rstrip(b"\x00")
    if not end or end[-1] != 0x80 or len(data) - len(end) >= block_size:
        raise SmObjectsIncorrectError("padding 80 00… not found")
    return end[:-1]
