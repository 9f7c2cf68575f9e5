"""The TEST PKI: root and end-entity certificate structure (checked with asn1crypto), chains,
CV certificates, and PEM persistence."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from asn1crypto import core as asn1_core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from data_fixtures import shared_card_keys, shared_pki

from mynacard.emulator.issuance.personas import Persona, load_persona
from mynacard.emulator.issuance.pki import (
    CertificateProfile,
    CertifiedKey,
    KeyType,
    SignatureHash,
    TestPki,
    cv_key_id,
    generate_key,
    issue_auth_certificate,
    issue_root,
    issue_sign_certificate,
    rsa_public_key_template,
    sign_digest_info,
)

ISSUED = datetime(2025, 3, 1, 1, 0, tzinfo=UTC)


def parsed(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def extension(cert: asn1_x509.Certificate, name: str) -> asn1_x509.Extension:
    for ext in cert["tbs_certificate"]["extensions"]:
        if ext["extn_id"].native == name:
            return ext
    raise AssertionError(f"no {name} extension")


@pytest.fixture(scope="module")
def pki() -> TestPki:
    return shared_pki()


@pytest.fixture(scope="module")
def persona() -> Persona:
    return load_persona("long-address")


@pytest.fixture(scope="module")
def sign_cert(pki: TestPki, persona: Persona) -> x509.Certificate:
    key = shared_card_keys()["jpki.sign_key"]
    return issue_sign_certificate(persona, key.public_key(), pki.sign_root, not_before=ISSUED)


@pytest.fixture(scope="module")
def auth_cert(pki: TestPki, persona: Persona) -> x509.Certificate:
    key = shared_card_keys()["jpki.auth_key"]
    return issue_auth_certificate(persona, key.public_key(), pki.auth_root, not_before=ISSUED)


@pytest.mark.parametrize(
    ("which", "unit"),
    [("auth_root", "JPKI for user authentication"), ("sign_root", "JPKI for digital signature")],
)
def test_roots(pki: TestPki, which: str, unit: str) -> None:
    root: CertifiedKey = getattr(pki, which)
    cert = parsed(root.certificate)
    expected = [
        ("country_name", "JP"),
        ("organization_name", "JPKI-TEST"),
        ("organizational_unit_name", unit),
        ("organizational_unit_name", "Japan Agency for Local Authority Information Systems"),
    ]
    subject = [(rdn[0]["type"].native, rdn[0]["value"].native) for rdn in cert.subject.chosen]
    assert subject == expected
    assert cert.issuer == cert.subject
    assert cert["signature_algorithm"]["algorithm"].native == "sha256_rsa"
    assert cert.public_key.bit_size == 2048
    basic = extension(cert, "basic_constraints")
    assert basic["critical"].native is True and basic["extn_value"].parsed["ca"].native is True
    usage = extension(cert, "key_usage")
    assert usage["critical"].native is True
    assert usage["extn_value"].parsed.native == {"key_cert_sign", "crl_sign"}
    root.certificate.verify_directly_issued_by(root.certificate)


def test_sign_certificate_other_names(sign_cert: x509.Certificate, persona: Persona) -> None:
    cert = parsed(sign_cert)
    names = extension(cert, "subject_alt_name")["extn_value"].parsed
    decoded = []
    for general_name in names:
        assert general_name.name == "other_name"
        other = general_name.chosen
        value = other["value"]  # [0] EXPLICIT UTF8String
        assert isinstance(value.parsed, asn1_core.UTF8String)
        decoded.append((other["type_id"].dotted, value.parsed.native))
    arc = "1.2.392.200149.8.5.5"
    assert decoded == [
        (f"{arc}.1", persona.name),
        (f"{arc}.4", persona.birth_date_cert_form),
        (f"{arc}.3", "2"),
        (f"{arc}.5", persona.address),
        (f"{arc}.2", persona.name_alt_chars),
        (f"{arc}.6", persona.address_alt_chars),
    ]


def test_other_name_encoding_is_explicit_utf8(sign_cert: x509.Certificate) -> None:
    san = sign_cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    first = san.get_values_for_type(x509.OtherName)[0]
    assert first.value[0] == 0x0C  # UTF8String inside the [0] EXPLICIT wrapper
    der = sign_cert.public_bytes(serialization.Encoding.DER)
    # otherName = A0 <len> { OID 1.2.392.200149.8.5.5.1, A0 <len> 0C <len> <UTF-8> }
    oid = asn1_core.ObjectIdentifier("1.2.392.200149.8.5.5.1").dump()
    at = der.index(oid)
    assert der[at - 2] == 0xA0
    assert der[at + len(oid)] == 0xA0 and der[at + len(oid) + 2] == 0x0C


def test_sign_certificate_extensions(sign_cert: x509.Certificate, persona: Persona) -> None:
    cert = parsed(sign_cert)
    policies = extension(cert, "certificate_policies")
    assert policies["critical"].native is True
    [policy] = policies["extn_value"].parsed
    assert policy["policy_identifier"].dotted == "1.2.392.200149.8.5.1.0.20"
    [qualifier] = policy["policy_qualifiers"]
    assert qualifier["policy_qualifier_id"].native == "certification_practice_statement"
    assert qualifier["qualifier"].native == "http://www.jpki.go.jp/cps.html"
    usage = extension(cert, "key_usage")
    assert usage["critical"].native is True
    assert usage["extn_value"].parsed.native == {"digital_signature", "non_repudiation"}
    [issuer_alt] = extension(cert, "issuer_alt_name")["extn_value"].parsed
    assert issuer_alt.name == "directory_name"
    assert issuer_alt.chosen.native == {"country_name": "JP", "organization_name": "公的個人認証サービス"}
    subject = [(rdn[0]["type"].native, rdn[0]["value"].native) for rdn in cert.subject.chosen]
    assert subject[:3] == [
        ("country_name", "JP"),
        ("locality_name", "北海道"),
        ("locality_name", "試験郡架空町"),
    ]
    assert subject[3][0] == "common_name" and subject[3][1].isdigit()


def test_auth_certificate(auth_cert: x509.Certificate) -> None:
    cert = parsed(auth_cert)
    subject = [(rdn[0]["type"].native, rdn[0]["value"].native) for rdn in cert.subject.chosen]
    assert [t for t, _ in subject] == ["country_name", "common_name"]
    assert subject[1][1].isdigit() and len(subject[1][1]) == 20
    names = [ext["extn_id"].native for ext in cert["tbs_certificate"]["extensions"]]
    assert "subject_alt_name" not in names
    usage = extension(cert, "key_usage")
    assert usage["critical"].native is True and usage["extn_value"].parsed.native == {"digital_signature"}
    policies = extension(cert, "certificate_policies")
    assert policies["critical"].native is True
    assert policies["extn_value"].parsed[0]["policy_identifier"].dotted == "1.2.392.200149.8.5.1.3.30"
    assert extension(cert, "issuer_alt_name")["extn_value"].parsed[0].name == "directory_name"


def test_validity_until_fifth_birthday(sign_cert: x509.Certificate, auth_cert: x509.Certificate) -> None:
    for cert in (sign_cert, auth_cert):
        assert cert.not_valid_before_utc == ISSUED
        # long-address is born 11-03; the 5th birthday after 2025-03-01 is 2029-11-03, 23:59:59 JST.
        assert cert.not_valid_after_utc == datetime(2029, 11, 3, 14, 59, 59, tzinfo=UTC)


def test_chains_validate(pki: TestPki, sign_cert: x509.Certificate, auth_cert: x509.Certificate) -> None:
    sign_cert.verify_directly_issued_by(pki.sign_root.certificate)
    auth_cert.verify_directly_issued_by(pki.auth_root.certificate)
    with pytest.raises((ValueError, Exception)):
        auth_cert.verify_directly_issued_by(pki.sign_root.certificate)


def test_certificates_fit_opensc_length_probe(sign_cert: x509.Certificate) -> None:
    der = sign_cert.public_bytes(serialization.Encoding.DER)
    assert der[:2] == b"\x30\x82" and int.from_bytes(der[2:4], "big") + 4 == len(der)


def test_nextgen_parameters() -> None:
    """EC P-384 keys, SHA-384 and 10-year certificates for the next-generation profile."""
    profile = CertificateProfile(signature_hash=SignatureHash.SHA384, end_entity_validity_years=10)
    root_key = generate_key(KeyType.EC_P384)
    root = CertifiedKey(
        root_key, issue_root("JPKI for digital signature", root_key, not_before=ISSUED, profile=profile)
    )
    user_key = generate_key(KeyType.EC_P384)
    assert isinstance(user_key, ec.EllipticCurvePrivateKey)
    cert = issue_sign_certificate(
        load_persona("default"), user_key.public_key(), root, not_before=ISSUED, profile=profile
    )
    cert.verify_directly_issued_by(root.certificate)
    assert isinstance(cert.signature_hash_algorithm, hashes.SHA384)
    assert cert.not_valid_after_utc.year == 2035


def test_cv_certificate(pki: TestPki) -> None:
    cv = pki.text_issuer.cv_certificate()
    assert len(cv) == 568
    assert cv[:10] == bytes.fromhex("7f218202335f4e820129")
    body = cv[10 : 10 + 297]
    assert body[:16] == b"6000033\x08\x05001\x00\x00\x00\x00"
    assert body[16:32] == pki.text_issuer.signer_key_id
    signer = pki.text_issuer.signer_key.public_key()
    assert isinstance(signer, rsa.RSAPublicKey)
    assert body[32:] == rsa_public_key_template(signer)
    assert cv[307:312] == bytes.fromhex("5f37820100")
    ca = pki.text_issuer.ca_key.public_key()
    assert isinstance(ca, rsa.RSAPublicKey)
    ca.verify(cv[312:], body, padding.PKCS1v15(), hashes.SHA256())
    assert pki.visual_issuer.cv_certificate()[10:17] == b"6000023"


def test_key_id_and_template() -> None:
    assert cv_key_id("6000023") == bytes.fromhex("36303030303233 0805 303031 00000000".replace(" ", ""))
    with pytest.raises(ValueError):
        cv_key_id("600002")
    key = shared_card_keys()["visual.card_key"].public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    template = rsa_public_key_template(key)
    assert len(template) == 265 and template[:9] == bytes.fromhex("900301000191820100")


def test_sign_digest_info_matches_library_pkcs1() -> None:
    key = shared_card_keys()["text.card_key"]
    assert isinstance(key, rsa.RSAPrivateKey)
    digest = hashes.Hash(hashes.SHA256())
    digest.update(b"mynacard")
    info = bytes.fromhex("3031300d060960864801650304020105000420") + digest.finalize()
    assert sign_digest_info(key, info) == key.sign(b"mynacard", padding.PKCS1v15(), hashes.SHA256())


def test_save_and_load(tmp_path: Path, pki: TestPki) -> None:
    pki.save(tmp_path)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert all(name.startswith("TEST-") for name in names)
    assert "TEST KEY" in (tmp_path / "TEST-jpki-sign-root.key.pem").read_text()
    loaded = TestPki.load(tmp_path)
    assert loaded.auth_root.certificate == pki.auth_root.certificate
    assert loaded.text_issuer.ca_key_id == pki.text_issuer.ca_key_id
    assert loaded.text_issuer.cv_certificate() == pki.text_issuer.cv_certificate()
    assert loaded.visual_issuer.signer_key.public_key() == pki.visual_issuer.signer_key.public_key()
    assert loaded.profile == pki.profile


def test_end_entity_cannot_predate_root(pki: TestPki, persona: Persona) -> None:
    too_early = pki.sign_root.certificate.not_valid_before_utc.replace(year=2010)
    key = shared_card_keys()["jpki.sign_key"]
    with pytest.raises(ValueError, match="precedes the issuing root"):
        issue_sign_certificate(persona, key.public_key(), pki.sign_root, not_before=too_early)


def test_fresh_pki_covers_past_issue_dates() -> None:
    """Without ``now``, roots start years back so every shipped persona can be issued for."""
    root = issue_root("JPKI for user authentication", shared_card_keys()["common.ia_key"], not_before=ISSUED)
    assert root.not_valid_after_utc.year == 2035
    pki_start = TestPki.create().auth_root.certificate.not_valid_before_utc
    assert 5 * 365 <= (datetime.now(UTC) - pki_start).days <= 5 * 366
