"""Shared, session-cached TEST keys and PKI for the data-side tests.

Key generation is the slow part (~50-100 ms per RSA key), so every test module that needs a
PKI or card keys gets the same objects through these cached builders, created once per process.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

from mynacard.emulator.issuance.pki import PrivateKey, TestPki, generate_card_keys

PKI_EPOCH = datetime(2015, 10, 20, 3, 8, 13, tzinfo=UTC)
"""notBefore of the test roots: the 2015 J-LIS roots' date, so every persona's card fits."""


@cache
def shared_pki() -> TestPki:
    """One TEST PKI per test session."""
    return TestPki.create(now=PKI_EPOCH)


@cache
def _shared_card_keys() -> tuple[tuple[str, PrivateKey], ...]:
    return tuple(generate_card_keys().items())


def shared_card_keys() -> dict[str, PrivateKey]:
    """One set of card keys per test session (a fresh dict each call; the keys are shared)."""
    return dict(_shared_card_keys())
