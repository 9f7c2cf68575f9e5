"""Byte-exact EF contents (spec §3) from emulator.records."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from data_fixtures import shared_card_keys, shared_pki

from emulator.persona import Persona, load_persona
from emulator.pki import PrivateKey, TestPki
from emulator.records import (
    RecordOptions,
    build_contents,
    certificate_availability,
    token_info,
)

JPKI_KEYS = {
    "jpki.sign_certificate",
    "jpki.sign_ca_certificate",
    "jpki.auth_certificate",
    "jpki.auth_ca_certificate",
    "jpki.token_info",
    "jpki.certificate_availability",
}


@pytest.fixture(scope="module")
def pki() -> TestPki:
    return shared_pki()


@pytest.fixture(scope="module")
def keys() -> dict[str, PrivateKey]:
    return shared_card_keys()


@pytest.fixture(scope="module")
def default_persona() -> Persona:
    return load_persona("default")


@pytest.fixture(scope="module")
def contents(default_persona: Persona, keys: dict[str, PrivateKey], pki: TestPki) -> dict[str, bytes]:
    return build_contents(default_persona, keys, pki)


# --- JPKI-AP ------------------------------------------------------------------------------------


def test_token_info_layout() -> None:
    info = token_info()
    assert len(info) == 160
    assert info[:32] == b"JPKIAPICCTOKEN2" + b" " * 17
    assert info[32:64] == b"00000000000000000000000000000001"
    assert info[64:80] == b"E16R01NJ" + b" " * 8
    assert info[80:96] == b"0000000020500003"
    assert info[96:100] == bytes.fromhex("0000040d")
    assert [int.from_bytes(info[o : o + 4], "big") for o in range(100, 124, 4)] == [1, 0, 1, 0, 16, 6]
    assert info[124:140] == b"\xff" * 16
    assert info[140:144] == b"0301"
    assert token_info("JPKIAPGPSETOKEN")[:32] == b"JPKIAPGPSETOKEN".ljust(32)
    with pytest.raises(ValueError, match="label"):
        token_info("X" * 33)


def test_certificate_availability() -> None:
    assert certificate_availability(True) == bytes.fromhex("8f8f00")
    assert certificate_availability(False) == bytes.fromhex("008f00")


def test_jpki_contents(contents: dict[str, bytes], pki: TestPki, default_persona: Persona) -> None:
    assert contents.keys() >= JPKI_KEYS
    assert contents["jpki.token_info"] == token_info()
    assert contents["jpki.certificate_availability"] == bytes.fromhex("8f8f00")
    sign = x509.load_der_x509_certificate(contents["jpki.sign_certificate"])
    auth = x509.load_der_x509_certificate(contents["jpki.auth_certificate"])
    sign.verify_directly_issued_by(x509.load_der_x509_certificate(contents["jpki.sign_ca_certificate"]))
    auth.verify_directly_issued_by(x509.load_der_x509_certificate(contents["jpki.auth_ca_certificate"]))
    assert contents["jpki.auth_ca_certificate"] == pki.auth_root.certificate.public_bytes(Encoding.DER)
    # Issued on the persona's issue date, 10:00 JST.
    assert auth.not_valid_before_utc == datetime(2025, 3, 1, 1, 0, tzinfo=UTC)


def test_child_has_no_sign_certificate(keys: dict[str, PrivateKey], pki: TestPki) -> None:
    contents = build_contents(load_persona("child-under-15"), keys, pki)
    assert "jpki.sign_certificate" not in contents
    assert contents["jpki.certificate_availability"] == bytes.fromhex("008f00")
    assert "jpki.sign_ca_certificate" in contents


def test_options(keys: dict[str, PrivateKey], pki: TestPki, default_persona: Persona) -> None:
    when = datetime(2025, 6, 1, 0, 0, tzinfo=UTC)
    contents = build_contents(
        default_persona, keys, pki, RecordOptions(token_label="JPKIAPICCTOKEN", issued_at=when)
    )
    assert contents["jpki.token_info"][:32] == b"JPKIAPICCTOKEN".ljust(32)
    assert x509.load_der_x509_certificate(contents["jpki.auth_certificate"]).not_valid_before_utc == when


def test_certificates_are_deterministic(
    keys: dict[str, PrivateKey], pki: TestPki, default_persona: Persona
) -> None:
    first = build_contents(default_persona, keys, pki)
    second = build_contents(default_persona, keys, pki)
    assert first == second
