"""COMPUTE DIGITAL SIGNATURE (``80 2A``) and INTERNAL AUTHENTICATE (``00 88``) through any reader.

The signature is checked with the public key of the certificate read from the card, as a relying party
would (spec current-card §4.6, §4.7, §6, §7.2; issue 2 items 3 and 5).
"""

from __future__ import annotations

import hashlib

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from mynacard.apdu.readers.base import Reader
from mynacard.tools.harness.suites.helpers import (
    AUTH_PIN,
    OK,
    SIGN_PASSWORD,
    apdu,
    certificate_key,
    expect,
    hx,
    read_ef,
    select_ef,
    select_jpki,
    sha256_digest_info,
    verify,
)

pytestmark = [
    pytest.mark.applies_to("legacy-2016"),
    pytest.mark.capability("signatures"),
    pytest.mark.clause("current-card §4.6, §6 (COMPUTE DIGITAL SIGNATURE, INTERNAL AUTHENTICATE)"),
]

MESSAGE = b"mynacard conformance: sign this"
AUTH, SIGN = 0x98, 0x9B

DIGEST_INFO_PREFIXES: dict[str, tuple[bytes, hashes.HashAlgorithm]] = {
    "sha1": (hx("30 21 30 09 06 05 2B 0E 03 02 1A 05 00 04 14"), hashes.SHA1()),
    "sha256": (hx("30 31 30 0D 06 09 60 86 48 01 65 03 04 02 01 05 00 04 20"), hashes.SHA256()),
    "sha384": (hx("30 41 30 0D 06 09 60 86 48 01 65 03 04 02 02 05 00 04 30"), hashes.SHA384()),
    "sha512": (hx("30 51 30 0D 06 09 60 86 48 01 65 03 04 02 03 05 00 04 40"), hashes.SHA512()),
}


def auth_public_key(reader: Reader) -> rsa.RSAPublicKey:
    """Public key of the user-authentication certificate, EF 000A (free to read)."""
    return certificate_key(read_ef(reader, 0x000A))


def sign_public_key(reader: Reader) -> rsa.RSAPublicKey:
    """Public key of the signature certificate, EF 0001 (needs the signature password verified)."""
    return certificate_key(read_ef(reader, 0x0001))


def sign(reader: Reader, p2: int, data: bytes, sw: int = OK) -> bytes:
    return expect(reader, apdu(f"80 2A 00 {p2:02X}", data, "00"), sw).data


def check(key: rsa.RSAPublicKey, signature: bytes, message: bytes = MESSAGE) -> None:
    """Raises ``InvalidSignature`` unless ``signature`` is PKCS#1 v1.5 with SHA-256 over ``message``."""
    assert len(signature) == 256
    key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())


def test_opensc_auth_signature_flow(shared_reader: Reader) -> None:
    """pkcs11-tool --sign -m SHA256-RSA-PKCS: the exact APDUs of spec §7.2."""
    select_jpki(shared_reader)
    key = auth_public_key(shared_reader)
    expect(shared_reader, "00 A4 02 0C 02 00 18", OK, b"")
    expect(shared_reader, "00 20 00 80 04 31 32 33 34", OK, b"")
    expect(shared_reader, "00 A4 02 0C 02 00 17", OK, b"")
    digest_info = sha256_digest_info(MESSAGE)
    assert len(digest_info) == 0x33
    signature = expect(shared_reader, hx("80 2A 00 80 33") + digest_info + hx("00"), OK).data
    check(key, signature)


def test_auth_signature_is_identical_through_80_and_97(shared_reader: Reader) -> None:
    """PKCS#1 v1.5 is deterministic: the SFI form signs with the same key (spec §4.6, MC)."""
    select_jpki(shared_reader)
    key = auth_public_key(shared_reader)
    verify(shared_reader, AUTH, AUTH_PIN)
    direct = sign(shared_reader, 0x97, sha256_digest_info(MESSAGE))  # no SELECT of 0017 needed
    select_ef(shared_reader, 0x0017)
    via_current = sign(shared_reader, 0x80, sha256_digest_info(MESSAGE))
    assert direct == via_current
    check(key, direct)


def test_sign_key_signature_verifies_with_the_sign_certificate(shared_reader: Reader) -> None:
    select_jpki(shared_reader)
    verify(shared_reader, SIGN, SIGN_PASSWORD)
    key = sign_public_key(shared_reader)
    direct = sign(shared_reader, 0x9A, sha256_digest_info(MESSAGE))
    select_ef(shared_reader, 0x001A)
    assert sign(shared_reader, 0x80, sha256_digest_info(MESSAGE)) == direct
    check(key, direct)
    with pytest.raises(InvalidSignature):  # and the two keys differ
        check(auth_public_key(shared_reader), direct)


@pytest.mark.parametrize("name", sorted(DIGEST_INFO_PREFIXES))
def test_the_host_chooses_the_hash(shared_reader: Reader, name: str) -> None:
    prefix, algorithm = DIGEST_INFO_PREFIXES[name]
    digest = hashlib.new(name, MESSAGE).digest()
    select_jpki(shared_reader)
    key = auth_public_key(shared_reader)
    verify(shared_reader, AUTH, AUTH_PIN)
    signature = sign(shared_reader, 0x97, prefix + digest)
    key.verify(signature, MESSAGE, padding.PKCS1v15(), algorithm)


@pytest.mark.parametrize("size", [1, 36, 245])
def test_p1_00_pads_any_data_as_given(shared_reader: Reader, size: int) -> None:
    """``-m RSA-PKCS``: the data is sent exactly as given; the card adds type-1 padding (spec §4.6)."""
    data = bytes((i * 13 + 7) & 0xFF for i in range(size))
    select_jpki(shared_reader)
    key = auth_public_key(shared_reader)
    verify(shared_reader, AUTH, AUTH_PIN)
    signature = sign(shared_reader, 0x97, data)
    numbers = key.public_numbers()
    block = pow(int.from_bytes(signature, "big"), numbers.e, numbers.n).to_bytes(256, "big")
    assert block == b"\x00\x01" + b"\xff" * (256 - 3 - size) + b"\x00" + data


def test_data_longer_than_k_minus_11_is_67_00(shared_reader: Reader) -> None:
    select_jpki(shared_reader)
    verify(shared_reader, AUTH, AUTH_PIN)
    sign(shared_reader, 0x97, bytes(246), 0x6700)


def test_nothing_to_sign_is_67_00(shared_reader: Reader) -> None:
    select_jpki(shared_reader)
    verify(shared_reader, AUTH, AUTH_PIN)
    expect(shared_reader, "80 2A 00 97 00", 0x6700, b"")


@pytest.mark.parametrize("p2", [0x97, 0x9A])
def test_sign_without_the_credential_is_69_82(shared_reader: Reader, p2: int) -> None:
    select_jpki(shared_reader)
    sign(shared_reader, p2, sha256_digest_info(MESSAGE), 0x6982)
    select_ef(shared_reader, p2 & 0x1F)  # EF 0017 / 001A
    sign(shared_reader, 0x80, sha256_digest_info(MESSAGE), 0x6982)


def test_each_key_needs_its_own_credential(shared_reader: Reader) -> None:
    select_jpki(shared_reader)
    verify(shared_reader, AUTH, AUTH_PIN)
    sign(shared_reader, 0x9A, sha256_digest_info(MESSAGE), 0x6982)
    select_jpki(shared_reader)
    verify(shared_reader, SIGN, SIGN_PASSWORD)
    sign(shared_reader, 0x97, sha256_digest_info(MESSAGE), 0x6982)


def test_reselecting_the_ap_logs_out(shared_reader: Reader) -> None:
    select_jpki(shared_reader)
    verify(shared_reader, AUTH, AUTH_PIN)
    sign(shared_reader, 0x97, sha256_digest_info(MESSAGE))
    select_jpki(shared_reader)
    sign(shared_reader, 0x97, sha256_digest_info(MESSAGE), 0x6982)


@pytest.mark.parametrize("p1", ["06", "07", "10", "80", "FF"])
def test_unsupported_signature_scheme_is_6a86(shared_reader: Reader, p1: str) -> None:
    select_jpki(shared_reader)
    verify(shared_reader, AUTH, AUTH_PIN)
    expect(shared_reader, apdu(f"80 2A {p1} 97", sha256_digest_info(MESSAGE), "00"), 0x6A86, b"")


def test_sign_without_a_current_ef_is_69_86(shared_reader: Reader) -> None:
    select_jpki(shared_reader)
    verify(shared_reader, AUTH, AUTH_PIN)
    sign(shared_reader, 0x80, sha256_digest_info(MESSAGE), 0x6986)


@pytest.mark.parametrize("fid", [0x000A, 0x0018])
def test_sign_with_a_current_ef_that_is_no_key_is_69_81(shared_reader: Reader, fid: int) -> None:
    select_jpki(shared_reader)
    verify(shared_reader, AUTH, AUTH_PIN)
    select_ef(shared_reader, fid)
    sign(shared_reader, 0x80, sha256_digest_info(MESSAGE), 0x6981)


@pytest.mark.parametrize("cla", ["00", "84", "90"])
def test_the_signature_is_a_cla_80_command(shared_reader: Reader, cla: str) -> None:
    select_jpki(shared_reader)
    verify(shared_reader, AUTH, AUTH_PIN)
    # other class; SM (this card has none); a chained part, held until its last part: nothing is signed yet
    answer = {"00": 0x6E00, "84": 0x6882, "90": 0x9000}[cla]
    expect(shared_reader, apdu(f"{cla} 2A 00 97", sha256_digest_info(MESSAGE), "00"), answer, b"")


def test_internal_authenticate_on_a_jpki_key_is_69_82(shared_reader: Reader) -> None:
    """INTERNAL AUTHENTICATE on a PIN-protected key answers ``69 82`` (spec §4.7, MC ``card.rs``)."""
    select_jpki(shared_reader)
    for p2 in ("97", "9A"):
        expect(shared_reader, f"00 88 00 {p2} 04 01 02 03 04 00", 0x6982, b"")
