"""The card's key operations: RSA PKCS#1 v1.5 over host-built or arbitrary data, and plain ECDSA."""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

from mynacard.apdu.digestinfo import SHA256_DIGEST_INFO_PREFIX
from mynacard.emulator.crypto import (
    _rsa_private,
    ecdsa_sign_prehashed,
    ecdsa_sign_raw,
    rsa_pkcs1_sign_encoded,
)
from mynacard.emulator.errors import CardError

MESSAGE = b"mynacard"


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def p384_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP384R1())


def test_digest_info_path_and_raw_path_give_the_same_signature(rsa_key: rsa.RSAPrivateKey) -> None:
    digest_info = SHA256_DIGEST_INFO_PREFIX + hashlib.sha256(MESSAGE).digest()
    fast = rsa_pkcs1_sign_encoded(rsa_key, digest_info)  # recognised DigestInfo: cryptography signs
    rsa_key.public_key().verify(fast, MESSAGE, padding.PKCS1v15(), hashes.SHA256())
    encoded = b"\x00\x01" + b"\xff" * (256 - 3 - len(digest_info)) + b"\x00" + digest_info
    assert _rsa_private(rsa_key, encoded) == fast  # the CRT path agrees byte for byte
    odd = b"\x01" * 245  # k - 11: the longest input PKCS#1 v1.5 allows, no DigestInfo
    recovered = pow(
        int.from_bytes(rsa_pkcs1_sign_encoded(rsa_key, odd), "big"),
        rsa_key.public_key().public_numbers().e,
        rsa_key.public_key().public_numbers().n,
    ).to_bytes(256, "big")
    assert recovered == b"\x00\x01" + b"\xff" * 8 + b"\x00" + odd


def test_pkcs1_input_longer_than_k_minus_11_is_wrong_length(rsa_key: rsa.RSAPrivateKey) -> None:
    with pytest.raises(CardError) as error:
        rsa_pkcs1_sign_encoded(rsa_key, b"\x01" * 246)
    assert error.value.sw == 0x6700


def test_ecdsa_signatures_are_plain_r_s_that_verify(p384_key: ec.EllipticCurvePrivateKey) -> None:
    public = p384_key.public_key()
    for signature, check in (
        (ecdsa_sign_raw(p384_key, MESSAGE, hashes.SHA384()), ec.ECDSA(hashes.SHA384())),
        (
            ecdsa_sign_prehashed(p384_key, hashlib.sha384(MESSAGE).digest()),
            ec.ECDSA(utils.Prehashed(hashes.SHA384())),
        ),
    ):
        assert len(signature) == 96
        r, s = int.from_bytes(signature[:48], "big"), int.from_bytes(signature[48:], "big")
        payload = MESSAGE if isinstance(check.algorithm, hashes.SHA384) else hashlib.sha384(MESSAGE).digest()
        public.verify(utils.encode_dss_signature(r, s), payload, check)


def test_ecdsa_digest_of_no_known_length_is_wrong_length(p384_key: ec.EllipticCurvePrivateKey) -> None:
    with pytest.raises(CardError) as error:
        ecdsa_sign_prehashed(p384_key, b"\x00" * 20)
    assert error.value.sw == 0x6700
