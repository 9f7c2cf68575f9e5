"""DER DigestInfo (RFC 8017 §9.2): what a host sends to a card that signs with PKCS#1 v1.5.

Hosts hash the message and wrap the digest in a DigestInfo; the card pads and signs it. The prefixes are
RFC 8017's note 1 values, each followed by the bare hash.
"""

from __future__ import annotations

import hashlib

DIGEST_INFO_PREFIXES: dict[str, bytes] = {
    "sha1": bytes.fromhex("3021300906052b0e03021a05000414"),
    "sha224": bytes.fromhex("302d300d06096086480165030402040500041c"),
    "sha256": bytes.fromhex("3031300d060960864801650304020105000420"),
    "sha384": bytes.fromhex("3041300d060960864801650304020205000430"),
    "sha512": bytes.fromhex("3051300d060960864801650304020305000440"),
}
"""Hash name (as ``hashlib`` spells it) → the DER prefix of its DigestInfo."""

SHA256_DIGEST_INFO_PREFIX = DIGEST_INFO_PREFIXES["sha256"]


def digest_info(hash_name: str, digest: bytes) -> bytes:
    """The DigestInfo of an already computed ``digest``."""
    if len(digest) != hashlib.new(hash_name).digest_size:
        raise ValueError(
            f"a {hash_name} digest is {hashlib.new(hash_name).digest_size} bytes, not {len(digest)}"
        )
    return DIGEST_INFO_PREFIXES[hash_name] + digest


def sha256_digest_info(message: bytes) -> bytes:
    """The 51-byte DigestInfo of SHA-256(``message``) that JPKI hosts send to ``80 2A`` (Lc 33)."""
    return SHA256_DIGEST_INFO_PREFIX + hashlib.sha256(message).digest()
