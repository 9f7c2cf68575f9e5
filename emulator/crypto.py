"""The card's private-key operations: RSA PKCS#1 v1.5 / PSS and ECDSA, as the signing commands need them.

``cryptography`` does the work. Its PKCS#1 v1.5 API always wraps the input in a DigestInfo itself, so a
host-built DigestInfo of a known hash is handed to it as a pre-hashed digest (identical bytes), and only
input that is no DigestInfo (P1 = 00 with arbitrary data, P1 = 01) takes the raw RSA path.
"""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

from mynacard.apdu.digestinfo import DIGEST_INFO_PREFIXES as DIGEST_INFO_PREFIX_OF
from mynacard.apdu.status import SW
from mynacard.emulator.errors import CardError

_HASHES: dict[str, hashes.HashAlgorithm] = {
    "sha1": hashes.SHA1(),
    "sha224": hashes.SHA224(),
    "sha256": hashes.SHA256(),
    "sha384": hashes.SHA384(),
    "sha512": hashes.SHA512(),
}
DIGEST_INFO_PREFIXES: dict[bytes, hashes.HashAlgorithm] = {
    DIGEST_INFO_PREFIX_OF[name]: algorithm for name, algorithm in _HASHES.items()
}
"""DER DigestInfo prefix → the hash it names (the prefixes are ``mynacard.apdu.digestinfo``'s)."""


def digest_info_hash(data: bytes) -> hashes.HashAlgorithm | None:
    """The hash named by ``data`` when it is exactly a DER DigestInfo of a known algorithm."""
    for prefix, algorithm in DIGEST_INFO_PREFIXES.items():
        if data.startswith(prefix) and len(data) == len(prefix) + algorithm.digest_size:
            return algorithm
    return None


def pkcs1_v15_sign(key: rsa.RSAPrivateKey, message: bytes) -> bytes:
    """PKCS#1 v1.5 type-1 padding around ``message`` (as given), then the RSA private operation.

    Raises ``ValueError`` when ``message`` does not fit (1..k-11 bytes).
    """
    k = (key.key_size + 7) // 8
    if not 1 <= len(message) <= k - 11:
        raise ValueError(f"PKCS#1 v1.5 input is 1..{k - 11} bytes, got {len(message)}")
    algorithm = digest_info_hash(message)
    if algorithm is not None:
        digest = message[-algorithm.digest_size :]
        return key.sign(digest, padding.PKCS1v15(), utils.Prehashed(algorithm))
    encoded = b"\x00\x01" + b"\xff" * (k - 3 - len(message)) + b"\x00" + message
    return _rsa_private(key, encoded)


def rsa_pkcs1_sign_encoded(key: rsa.RSAPrivateKey, message: bytes) -> bytes:
    """``pkcs1_v15_sign`` as the card answers it: input that does not fit is ``67 00``."""
    try:
        return pkcs1_v15_sign(key, message)
    except ValueError as exc:
        raise CardError(SW.WRONG_LENGTH, str(exc)) from None


def _rsa_private(key: rsa.RSAPrivateKey, encoded: bytes) -> bytes:
    """m^d mod n by the CRT, for the padded blocks ``cryptography`` will not take as they are."""
    numbers = key.private_numbers()
    m = int.from_bytes(encoded, "big")
    s1 = pow(m, numbers.dmp1, numbers.p)
    s2 = pow(m, numbers.dmq1, numbers.q)
    h = (numbers.iqmp * (s1 - s2)) % numbers.p
    s = s2 + h * numbers.q
    return s.to_bytes((key.key_size + 7) // 8, "big")


def rsa_sign_scheme(key: rsa.RSAPrivateKey, scheme: int, data: bytes) -> bytes:
    """The P1 signature schemes of ``80 2A`` measured on today's card (spec current-card §4.6)."""
    if scheme == 0x00:
        return rsa_pkcs1_sign_encoded(key, data)
    if scheme == 0x01:
        return rsa_pkcs1_sign_encoded(key, hashlib.sha256(data).digest())
    if scheme == 0x02:
        return key.sign(_sha256_length(data), padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))
    if scheme == 0x03:
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)
    if scheme == 0x04:
        return key.sign(_sha256_length(data), pss, utils.Prehashed(hashes.SHA256()))
    if scheme == 0x05:
        return key.sign(data, pss, hashes.SHA256())
    raise CardError(SW.INCORRECT_P1_P2, f"signature scheme {scheme:02X} not supported")


def _sha256_length(data: bytes) -> bytes:
    if len(data) != 32:
        raise CardError(SW.WRONG_LENGTH, f"a SHA-256 hash is 32 bytes, got {len(data)}")
    return data


def ecdsa_sign_raw(key: ec.EllipticCurvePrivateKey, data: bytes, algorithm: hashes.HashAlgorithm) -> bytes:
    """ECDSA over ``data`` hashed with ``algorithm``, as the plain ``r ‖ s`` concatenation."""
    return _plain_signature(key, key.sign(data, ec.ECDSA(algorithm)))


_DIGEST_ALGORITHMS: dict[int, hashes.HashAlgorithm] = {
    32: hashes.SHA256(),
    48: hashes.SHA384(),
    64: hashes.SHA512(),
}


def ecdsa_sign_prehashed(key: ec.EllipticCurvePrivateKey, digest: bytes) -> bytes:
    """ECDSA over a host-computed digest (its length names the hash), as ``r ‖ s``."""
    algorithm = _DIGEST_ALGORITHMS.get(len(digest))
    if algorithm is None:
        raise CardError(SW.WRONG_LENGTH, f"a digest of {len(digest)} bytes names no supported hash")
    return _plain_signature(key, key.sign(digest, ec.ECDSA(utils.Prehashed(algorithm))))


def _plain_signature(key: ec.EllipticCurvePrivateKey, der: bytes) -> bytes:
    """DER ``SEQUENCE { r, s }`` → fixed-size ``r ‖ s`` (BSI TR-03111 plain format), as cards answer."""
    r, s = utils.decode_dss_signature(der)
    size = (key.curve.key_size + 7) // 8
    return r.to_bytes(size, "big") + s.to_bytes(size, "big")


def hash_algorithm(name: str) -> hashes.HashAlgorithm:
    """The ``cryptography`` hash for a ``hashlib`` name (``sha384``)."""
    try:
        return _HASHES[name]
    except KeyError:
        raise ValueError(f"unsupported hash {name!r}") from None


def ecdsa_verify_plain(
    key: ec.EllipticCurvePublicKey, signature: bytes, data: bytes, algorithm: hashes.HashAlgorithm
) -> bool:
    """Whether a plain ``r ‖ s`` signature over ``data`` (hashed with ``algorithm``) verifies with ``key``."""
    size = (key.curve.key_size + 7) // 8
    if len(signature) != 2 * size:
        return False
    r, s = int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
    try:
        key.verify(utils.encode_dss_signature(r, s), data, ec.ECDSA(algorithm))
    except InvalidSignature:
        return False
    return True
