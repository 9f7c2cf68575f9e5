"""The next card's TEST PKI (nextgen-2026 §1, §5): P-384 roots and certificates with ecdsa-with-SHA384,
validity aligned with the card, the card issuer CA, and save/load.

Validity dates are checked against the birthday rule written out again here (``expected_last_day``), not
by calling the code under test, and against hand-worked dates for the shipped personas.
"""

from __future__ import annotations

import calendar
import json
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from asn1crypto import core as asn1_core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from mynacard.emulator.issuance.personas import Persona, load_persona
from mynacard.emulator.issuance.pki import (
    NEXTGEN_CERTIFICATE_PROFILE,
    KeyType,
    PkiGenerationError,
    TestPki,
    issue_auth_certificate,
    issue_ia_certificate,
    issue_sign_certificate,
)

EPOCH = datetime(2015, 10, 20, 3, 8, 13, tzinfo=UTC)
JST = timezone(timedelta(hours=9))
AGENCY = "Japan Agency for Local Authority Information Systems"


@pytest.fixture(scope="module")
def pki() -> TestPki:
    return TestPki.create(generation="nextgen-2026", now=EPOCH)


@pytest.fixture(scope="module")
def user_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP384R1())


def parsed(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def extension(cert: asn1_x509.Certificate, name: str) -> asn1_x509.Extension:
    for ext in cert["tbs_certificate"]["extensions"]:
        if ext["extn_id"].native == name:
            return ext
    raise AssertionError(f"no {name} extension")


def dn(cert: asn1_x509.Certificate, which: str = "subject") -> list[tuple[str, str]]:
    return [(rdn[0]["type"].native, rdn[0]["value"].native) for rdn in getattr(cert, which).chosen]


def issued_at(persona: Persona) -> datetime:
    """Issuance as the records make it: the persona's issue date, 10:00 JST."""
    return datetime(persona.issue_date.year, persona.issue_date.month, persona.issue_date.day, 10, tzinfo=JST)


# --- the rule, written out independently ------------------------------------------------------------


def birthday_in(birth: date, year: int) -> date:
    """29 February is 28 February in a common year (年齢計算ニ関スル法律 / 道路交通法 92条の2)."""
    if birth.month == 2 and birth.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return date(year, birth.month, birth.day)


def plus_one_month(day: date) -> date:
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def expected_last_day(birth: date, issued: date) -> date:
    """One month after the 10th birthday after issuance; the 5th if under 18 at issuance."""
    age = issued.year - birth.year - (1 if (issued.month, issued.day) < (birth.month, birth.day) else 0)
    wanted = 10 if age >= 18 else 5
    year, seen = issued.year, 0
    while True:
        if birthday_in(birth, year) > issued:
            seen += 1
            if seen == wanted:
                return plus_one_month(birthday_in(birth, year))
        year += 1


def end_of_day_jst(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=JST).astimezone(UTC)


# --- roots and the card issuer CA ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("which", "unit"),
    [
        ("auth_root", "JPKI for user authentication"),
        ("sign_root", "JPKI for digital signature"),
        ("card_issuer_ca", "Individual Number Card issuer"),
    ],
)
def test_roots_are_self_signed_p384_for_20_years(pki: TestPki, which: str, unit: str) -> None:
    root = pki.card_issuer.ca if which == "card_issuer_ca" else getattr(pki, which)
    cert = parsed(root.certificate)
    assert dn(cert) == [
        ("country_name", "JP"),
        ("organization_name", "JPKI-TEST"),
        ("organizational_unit_name", unit),
        ("organizational_unit_name", AGENCY),
    ]
    assert cert.issuer == cert.subject
    assert cert["signature_algorithm"]["algorithm"].native == "sha384_ecdsa"
    assert cert.public_key["algorithm"]["parameters"].chosen.native == "secp384r1"
    basic = extension(cert, "basic_constraints")
    assert basic["critical"].native is True and basic["extn_value"].parsed["ca"].native is True
    usage = extension(cert, "key_usage")
    assert usage["critical"].native is True
    assert usage["extn_value"].parsed.native == {"key_cert_sign", "crl_sign"}
    root.certificate.verify_directly_issued_by(root.certificate)
    assert root.certificate.not_valid_before_utc == EPOCH
    # 20 years: 2015-10-20 + 20 = 2035-10-20, ending 23:59:59 JST = 14:59:59Z.
    assert root.certificate.not_valid_after_utc == datetime(2035, 10, 20, 14, 59, 59, tzinfo=UTC)
    assert isinstance(root.key, ec.EllipticCurvePrivateKey) and isinstance(root.key.curve, ec.SECP384R1)


def test_never_the_real_jpki_organisation(pki: TestPki) -> None:
    for root in (pki.auth_root, pki.sign_root, pki.card_issuer.ca, pki.card_issuer.face_signer):
        organisations = root.certificate.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)
        assert [o.value for o in organisations] == ["JPKI-TEST"]


def test_face_signer_certificate(pki: TestPki) -> None:
    signer = pki.card_issuer.face_signer
    signer.certificate.verify_directly_issued_by(pki.card_issuer.ca.certificate)
    cert = parsed(signer.certificate)
    assert dn(cert) == [
        ("country_name", "JP"),
        ("organization_name", "JPKI-TEST"),
        ("organizational_unit_name", "Individual Number Card issuer"),
        ("common_name", "Card face signing key (TEST)"),
    ]
    assert cert["signature_algorithm"]["algorithm"].native == "sha384_ecdsa"
    usage = extension(cert, "key_usage")
    assert usage["critical"].native is True and usage["extn_value"].parsed.native == {"digital_signature"}
    assert signer.certificate.public_key() == signer.key.public_key()
    ca = pki.card_issuer.ca.certificate
    assert (signer.certificate.not_valid_before_utc, signer.certificate.not_valid_after_utc) == (
        ca.not_valid_before_utc,
        ca.not_valid_after_utc,
    )


# --- end-entity certificates --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sign_cert(pki: TestPki, user_key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    persona = load_persona("default")
    return issue_sign_certificate(
        persona, user_key.public_key(), pki.sign_root, not_before=issued_at(persona), profile=pki.profile
    )


@pytest.fixture(scope="module")
def auth_cert(pki: TestPki, user_key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    persona = load_persona("default")
    return issue_auth_certificate(
        persona, user_key.public_key(), pki.auth_root, not_before=issued_at(persona), profile=pki.profile
    )


def test_sign_certificate_chains_and_verifies(pki: TestPki, sign_cert: x509.Certificate) -> None:
    sign_cert.verify_directly_issued_by(pki.sign_root.certificate)
    assert isinstance(sign_cert.signature_hash_algorithm, hashes.SHA384)
    root_key = pki.sign_root.certificate.public_key()
    assert isinstance(root_key, ec.EllipticCurvePublicKey)
    root_key.verify(sign_cert.signature, sign_cert.tbs_certificate_bytes, ec.ECDSA(hashes.SHA384()))
    with pytest.raises((ValueError, InvalidSignature)):
        sign_cert.verify_directly_issued_by(pki.auth_root.certificate)
    key = sign_cert.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP384R1)


def test_sign_certificate_other_names_in_todays_order(sign_cert: x509.Certificate) -> None:
    names = extension(parsed(sign_cert), "subject_alt_name")["extn_value"].parsed
    decoded = []
    for general_name in names:
        assert general_name.name == "other_name"
        value = general_name.chosen["value"]
        assert isinstance(value.parsed, asn1_core.UTF8String)
        decoded.append((general_name.chosen["type_id"].dotted, value.parsed.native))
    arc = "1.2.392.200149.8.5.5"
    assert decoded == [
        (f"{arc}.1", "試験\u3000太郎"),
        (f"{arc}.4", "319800217"),  # 昭和 (3) + 1980-02-17
        (f"{arc}.3", "1"),
        (f"{arc}.5", "東京都千代田区試験町１丁目２番３号"),
        (f"{arc}.2", "00000"),
        (f"{arc}.6", "0" * 17),
    ]


def test_sign_certificate_policy_and_usage(sign_cert: x509.Certificate) -> None:
    cert = parsed(sign_cert)
    policies = extension(cert, "certificate_policies")
    assert policies["critical"].native is True
    [policy] = policies["extn_value"].parsed
    assert policy["policy_identifier"].dotted == "1.2.392.200149.8.5.1.0.20"
    usage = extension(cert, "key_usage")
    assert usage["critical"].native is True
    assert usage["extn_value"].parsed.native == {"digital_signature", "non_repudiation"}
    assert dn(cert, "issuer") == [
        ("country_name", "JP"),
        ("organization_name", "JPKI-TEST"),
        ("organizational_unit_name", "JPKI for digital signature"),
        ("organizational_unit_name", AGENCY),
    ]


def test_auth_certificate_has_no_personal_attributes(pki: TestPki, auth_cert: x509.Certificate) -> None:
    auth_cert.verify_directly_issued_by(pki.auth_root.certificate)
    cert = parsed(auth_cert)
    assert cert["signature_algorithm"]["algorithm"].native == "sha384_ecdsa"
    assert "subject_alt_name" not in [ext["extn_id"].native for ext in cert["tbs_certificate"]["extensions"]]
    assert [t for t, _ in dn(cert)] == ["country_name", "common_name"]
    usage = extension(cert, "key_usage")
    assert usage["critical"].native is True and usage["extn_value"].parsed.native == {"digital_signature"}


# --- validity: aligned with the card ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona_id", "last_day"),
    [
        ("default", date(2035, 3, 17)),  # adult: 10th birthday after 2025-03-01 is 2035-02-17, + 1 month
        ("minor-16", date(2030, 9, 20)),  # 16 at issuance: 5th birthday after 2025-09-01 is 2030-08-20
        ("leap-day", date(2035, 3, 28)),  # 29 Feb: 2035 is common, so 2035-02-28, + 1 month
        ("child-under-15", date(2029, 7, 15)),
        ("long-address", date(2033, 12, 3)),
        ("multi-part-name", date(2033, 2, 8)),
    ],
)
def test_validity_dates(
    pki: TestPki, user_key: ec.EllipticCurvePrivateKey, persona_id: str, last_day: date
) -> None:
    persona = load_persona(persona_id)
    assert expected_last_day(persona.birth_date, persona.issue_date) == last_day
    when = issued_at(persona)
    for issue, root in ((issue_sign_certificate, pki.sign_root), (issue_auth_certificate, pki.auth_root)):
        cert = issue(persona, user_key.public_key(), root, not_before=when, profile=pki.profile)
        assert cert.not_valid_before_utc == when.astimezone(UTC)
        assert cert.not_valid_after_utc == end_of_day_jst(last_day)


@pytest.mark.parametrize(
    ("birth", "issued"),
    [
        (date(2004, 2, 29), date(2026, 4, 1)),  # 10th birthday in 2036, a leap year: 29 Feb, then 29 Mar
        (date(2004, 2, 29), date(2025, 2, 28)),  # issued on the common-year birthday: it does not count
        (date(2012, 2, 29), date(2025, 3, 1)),  # 13: 5 years, 2030-02-28 + 1 month
        (date(1990, 1, 31), date(2024, 6, 1)),  # 31 January + 1 month = last day of February
        (date(1990, 12, 15), date(2024, 6, 1)),  # December + 1 month crosses the year
        (date(2007, 6, 1), date(2025, 6, 1)),  # 18 on the issue day itself: adult, 10 years
        (date(2007, 6, 2), date(2025, 6, 1)),  # 18 tomorrow: under 18, 5 years
    ],
)
def test_validity_rule_edge_cases(
    pki: TestPki, user_key: ec.EllipticCurvePrivateKey, birth: date, issued: date
) -> None:
    persona = load_persona("default").model_copy(update={"birth_date": birth, "issue_date": issued})
    cert = issue_auth_certificate(
        persona, user_key.public_key(), pki.auth_root, not_before=issued_at(persona), profile=pki.profile
    )
    assert cert.not_valid_after_utc == end_of_day_jst(expected_last_day(birth, issued))


def test_worked_edge_dates() -> None:
    """The independent rule itself, on dates worked by hand."""
    assert expected_last_day(date(2004, 2, 29), date(2026, 4, 1)) == date(2036, 3, 29)
    assert expected_last_day(date(1990, 1, 31), date(2024, 6, 1)) == date(2034, 2, 28)
    assert expected_last_day(date(1990, 12, 15), date(2024, 6, 1)) == date(2034, 1, 15)
    # Issued the day before the 18th birthday: under 18, and the 1st birthday after issuance is the next
    # day, so the 5th is 2029-06-02 (the first "year" lasts one day, as today's cards do).
    assert expected_last_day(date(2007, 6, 2), date(2025, 6, 1)) == date(2029, 7, 2)


# --- the internal-authentication key's certificate -------------------------------------------------


def test_ia_certificate(pki: TestPki, user_key: ec.EllipticCurvePrivateKey) -> None:
    persona = load_persona("minor-16")
    cert = issue_ia_certificate(
        persona, user_key.public_key(), pki.card_issuer.ca, not_before=issued_at(persona), profile=pki.profile
    )
    cert.verify_directly_issued_by(pki.card_issuer.ca.certificate)
    asn1 = parsed(cert)
    assert asn1["signature_algorithm"]["algorithm"].native == "sha384_ecdsa"
    assert dn(asn1) == [
        ("country_name", "JP"),
        ("organization_name", "JPKI-TEST"),
        ("organizational_unit_name", "Individual Number Card issuer"),
        ("common_name", "900000000000005"),
    ]
    assert "subject_alt_name" not in [ext["extn_id"].native for ext in asn1["tbs_certificate"]["extensions"]]
    assert extension(asn1, "key_usage")["extn_value"].parsed.native == {"digital_signature"}
    assert cert.not_valid_after_utc == end_of_day_jst(date(2030, 9, 20))  # the card's expiry
    with pytest.raises((ValueError, InvalidSignature)):
        cert.verify_directly_issued_by(pki.auth_root.certificate)


def test_certificates_are_deterministic(pki: TestPki, user_key: ec.EllipticCurvePrivateKey) -> None:
    persona = load_persona("default")

    def issue() -> bytes:
        return issue_sign_certificate(
            persona, user_key.public_key(), pki.sign_root, not_before=issued_at(persona), profile=pki.profile
        ).public_bytes(serialization.Encoding.DER)

    assert issue() == issue()


# --- generations ----------------------------------------------------------------------------------


def test_generation_attribute(pki: TestPki) -> None:
    assert pki.generation == "nextgen-2026"
    assert pki.profile == NEXTGEN_CERTIFICATE_PROFILE
    assert TestPki.create(now=EPOCH).generation == "legacy-2016"


def test_each_generation_has_only_its_own_issuers(pki: TestPki) -> None:
    with pytest.raises(PkiGenerationError, match="legacy-2016 only"):
        _ = pki.text_issuer
    with pytest.raises(PkiGenerationError, match="legacy-2016 only"):
        _ = pki.visual_issuer
    with pytest.raises(PkiGenerationError, match="nextgen-2026 only"):
        _ = TestPki.create(now=EPOCH).card_issuer


def test_unknown_generation_and_rsa_next_card_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown TEST PKI generation 'nextgen-2027'"):
        TestPki.create(generation="nextgen-2027")
    with pytest.raises(ValueError, match="P-384 only"):
        TestPki.create(generation="nextgen-2026", key_type=KeyType.RSA_2048)


# --- save / load ------------------------------------------------------------------------------------


def test_save_and_load(tmp_path: Path, pki: TestPki) -> None:
    pki.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "TEST-card-issuer-ca.crt.pem",
        "TEST-card-issuer-ca.key.pem",
        "TEST-face-signer.crt.pem",
        "TEST-face-signer.key.pem",
        "TEST-jpki-auth-root.crt.pem",
        "TEST-jpki-auth-root.key.pem",
        "TEST-jpki-sign-root.crt.pem",
        "TEST-jpki-sign-root.key.pem",
        "TEST-pki.json",
    ]
    for key_file in tmp_path.glob("*.key.pem"):
        assert key_file.read_text().startswith("TEST KEY of the mynacard test PKI (JPKI-TEST)")
    manifest = json.loads((tmp_path / "TEST-pki.json").read_text("utf-8"))
    assert manifest["generation"] == "nextgen-2026"
    assert "text_issuer" not in manifest
    loaded = TestPki.load(tmp_path)
    assert loaded.generation == "nextgen-2026"
    assert loaded.profile == pki.profile
    for name in ("auth_root", "sign_root"):
        assert getattr(loaded, name).certificate == getattr(pki, name).certificate
        assert getattr(loaded, name).key.public_key() == getattr(pki, name).key.public_key()
    for pair in ("ca", "face_signer"):
        assert getattr(loaded.card_issuer, pair).certificate == getattr(pki.card_issuer, pair).certificate
        assert (
            getattr(loaded.card_issuer, pair).key.public_key()
            == getattr(pki.card_issuer, pair).key.public_key()
        )


def test_a_manifest_from_before_generations_loads_as_legacy(tmp_path: Path) -> None:
    legacy = TestPki.create(now=EPOCH)
    legacy.save(tmp_path)
    manifest_path = tmp_path / "TEST-pki.json"
    manifest = json.loads(manifest_path.read_text("utf-8"))
    del manifest["generation"]
    for added in ("minor_validity_years", "adult_age", "months_after_birthday"):
        del manifest["profile"][added]
    manifest_path.write_text(json.dumps(manifest), "utf-8")
    loaded = TestPki.load(tmp_path)
    assert loaded.generation == "legacy-2016"
    assert loaded.profile == legacy.profile
    assert loaded.text_issuer.cv_certificate() == legacy.text_issuer.cv_certificate()
