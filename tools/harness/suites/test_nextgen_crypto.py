"""nextgen-2026: ECDSA P-384 signatures, INTERNAL AUTHENTICATE and 住基-terminal authentication
(spec nextgen-2026 §2.1, §3), each answer checked with the keys of the certificates read off the card.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature

from mynacard.apdu.applets import nextgen
from mynacard.apdu.readers.base import Reader
from mynacard.emulator.card import Card
from mynacard.emulator.issuance.personas import load_persona
from mynacard.tools.harness.suites.helpers import (
    OK,
    SECURITY_NOT_SATISFIED,
    apdu,
    expect,
    juki_signature,
    read_current_ef,
    select_aid,
    select_ef,
    send,
)

pytestmark = [
    pytest.mark.applies_to("nextgen-2026"),
    pytest.mark.capability("signatures"),
    pytest.mark.clause("nextgen-2026 §2.1, §3 (ECDSA P-384, internal authentication)"),
]

PERSONA = load_persona("default")
MESSAGE = "mynacard: 次期カードの署名".encode()
WRONG_LENGTH = 0x6700
NO_CHALLENGE = 0x6985
AUTH_FAILED = 0x6300


@pytest.fixture
def reader(make_card: Callable[..., Card], reader_for: Callable[[Card], Reader]) -> Reader:
    reader = reader_for(make_card())
    select_aid(reader, nextgen.AUTH_AID)
    return reader


def public_key(reader: Reader, fid: int) -> ec.EllipticCurvePublicKey:
    select_ef(reader, fid)
    certificate = x509.load_der_x509_certificate(read_current_ef(reader))
    key = certificate.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP384R1)
    assert isinstance(certificate.signature_hash_algorithm, hashes.SHA384)
    return key


def check(key: ec.EllipticCurvePublicKey, signature: bytes, data: bytes, algorithm: object) -> None:
    """Verify a plain ``r ‖ s`` (96 bytes) signature; raises InvalidSignature."""
    assert len(signature) == 96
    der = encode_dss_signature(int.from_bytes(signature[:48], "big"), int.from_bytes(signature[48:], "big"))
    key.verify(der, data, ec.ECDSA(algorithm))  # type: ignore[arg-type]


def verify_pin(reader: Reader) -> None:
    pin = PERSONA.auth_pin.encode("ascii")
    expect(reader, apdu(f"00 20 00 {nextgen.reference(nextgen.PIN):02X}", pin), OK, b"")


@pytest.mark.parametrize("digest", [hashes.SHA384(), hashes.SHA256(), hashes.SHA512()], ids=lambda d: d.name)
def test_the_user_authentication_key_signs_a_host_hash(reader: Reader, digest: hashes.HashAlgorithm) -> None:
    key = public_key(reader, nextgen.AUTH_CERTIFICATE)
    verify_pin(reader)
    hashed = hashlib.new(digest.name, MESSAGE).digest()
    select_ef(reader, nextgen.AUTH_KEY)
    signature = expect(reader, apdu("80 2A 00 80", hashed, "00"), OK).data
    check(key, signature, hashed, Prehashed(digest))


def test_the_card_hashes_with_sha384_when_p1_is_01(reader: Reader) -> None:
    key = public_key(reader, nextgen.AUTH_CERTIFICATE)
    verify_pin(reader)
    signature = expect(
        reader, apdu(f"80 2A 01 {nextgen.reference(nextgen.AUTH_KEY):02X}", MESSAGE, "00"), OK
    ).data
    check(key, signature, MESSAGE, hashes.SHA384())


def test_the_signature_key_signs_after_the_password(reader: Reader) -> None:
    password = PERSONA.sign_password.encode("ascii")
    expect(reader, apdu(f"00 20 00 {nextgen.reference(nextgen.SIGN_PASSWORD):02X}", password), OK, b"")
    key = public_key(reader, nextgen.SIGN_CERTIFICATE)
    hashed = hashlib.sha384(MESSAGE).digest()
    signature = expect(
        reader, apdu(f"80 2A 00 {nextgen.reference(nextgen.SIGN_KEY):02X}", hashed, "00"), OK
    ).data
    check(key, signature, hashed, Prehashed(hashes.SHA384()))


@pytest.mark.parametrize("length", [0, 20, 47, 49, 65])
def test_a_hash_of_the_wrong_length_is_refused(reader: Reader, length: int) -> None:
    verify_pin(reader)
    command = apdu(f"80 2A 00 {nextgen.reference(nextgen.AUTH_KEY):02X}", bytes(length), "00")
    assert send(reader, command).sw == WRONG_LENGTH


def test_internal_authenticate_proves_the_card(
    reader: Reader, make_card: Callable[..., Card], reader_for: Callable[[Card], Reader]
) -> None:
    """No credential needed; the answer verifies with the key in EF 0009, and another card's does not."""
    key = public_key(reader, nextgen.IA_CERTIFICATE)
    challenge = bytes(range(16))
    command = apdu(f"00 88 00 {nextgen.reference(nextgen.IA_KEY):02X}", challenge, "00")
    check(key, expect(reader, command, OK).data, challenge, hashes.SHA384())
    other = reader_for(make_card(persona="long-address"))
    select_aid(other, nextgen.AUTH_AID)
    with pytest.raises(InvalidSignature):
        check(key, expect(other, command, OK).data, challenge, hashes.SHA384())


@pytest.mark.parametrize("length", [0, 7, 65, 300])
def test_internal_authenticate_challenge_bounds(reader: Reader, length: int) -> None:
    p2 = nextgen.reference(nextgen.IA_KEY)
    if length == 0:
        command = bytes.fromhex(f"00 88 00 {p2:02X} 00")
    elif length > 255:
        command = bytes.fromhex(f"00 88 00 {p2:02X} 00") + length.to_bytes(2, "big") + bytes(length) + b"\0\0"
    else:
        command = apdu(f"00 88 00 {p2:02X}", bytes(length), "00")
    assert send(reader, command).sw == WRONG_LENGTH


def _read_resident_code(reader: Reader) -> int:
    return send(reader, f"00 B0 {0x80 | nextgen.RESIDENT_CODE:02X} 00 00").sw


def test_the_resident_code_needs_the_pin_and_a_juki_terminal(reader: Reader) -> None:
    verify_pin(reader)
    assert _read_resident_code(reader) == SECURITY_NOT_SATISFIED
    challenge = expect(reader, "00 84 00 00 08", OK).data
    expect(reader, apdu(f"00 82 00 {nextgen.JUKI_TERMINAL_KEY:02X}", juki_signature(challenge)), OK, b"")
    response = send(reader, f"00 B0 {0x80 | nextgen.RESIDENT_CODE:02X} 00 00")
    assert (response.data, response.sw) == (PERSONA.resident_code.encode("ascii"), OK)


def test_external_authenticate_without_a_challenge(reader: Reader) -> None:
    signature = juki_signature(bytes(8))
    expect(reader, apdu(f"00 82 00 {nextgen.JUKI_TERMINAL_KEY:02X}", signature), NO_CHALLENGE, b"")


def test_a_challenge_is_used_once(reader: Reader) -> None:
    challenge = expect(reader, "00 84 00 00 08", OK).data
    command = apdu(f"00 82 00 {nextgen.JUKI_TERMINAL_KEY:02X}", juki_signature(challenge))
    expect(reader, command, OK, b"")
    expect(reader, command, NO_CHALLENGE, b"")  # the same signature again: the challenge is stale


def test_a_wrong_terminal_signature(reader: Reader) -> None:
    verify_pin(reader)
    challenge = expect(reader, "00 84 00 00 08", OK).data
    forged = juki_signature(challenge, ec.generate_private_key(ec.SECP384R1()))
    expect(reader, apdu(f"00 82 00 {nextgen.JUKI_TERMINAL_KEY:02X}", forged), AUTH_FAILED, b"")
    expect(
        reader,
        apdu(f"00 82 00 {nextgen.JUKI_TERMINAL_KEY:02X}", juki_signature(challenge)),
        NO_CHALLENGE,
        b"",
    )
    assert _read_resident_code(reader) == SECURITY_NOT_SATISFIED
