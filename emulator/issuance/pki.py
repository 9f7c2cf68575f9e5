"""The TEST PKI (テスト用認証局): JPKI roots, end-entity certificates and the 券面 issuer keys.

Nothing here can chain to J-LIS: the roots are self-signed with today's DN pattern but
``O=JPKI-TEST`` (spec §6, §9.8; nextgen §5). Every key is a TEST key. Two generations:

* ``legacy-2016`` (today's card, the default): RSA-2048 roots with sha256WithRSAEncryption, 10 years;
  end-entity certificates to the 5th birthday after issuance; the card-verifiable certificates of the
  券面 APs under the test-hierarchy issuer ids ``6000023`` / ``6000033`` (spec §3.6).
* ``nextgen-2026`` (the task force's card, nextgen §1, §5): P-384 roots with ecdsa-with-SHA384, 20
  years; end-entity certificates aligned with the card (:data:`NEXTGEN_CERTIFICATE_PROFILE`); and,
  instead of the CV issuers, a card issuer (カード発行者) TEST CA that certifies each card's internal
  authentication key (内部認証鍵, 認証AP EF 0009) and the 券面 signing key (券面署名鍵, 券面等AP EF 0005),
  which signs the 券面 records and the integrity record.

ECDSA signatures (certificates and records) use deterministic nonces (RFC 6979), so the same keys and
persona give the same bytes, as RSA PKCS#1 v1.5 does for today's card.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from enum import StrEnum
from pathlib import Path
from typing import Final, Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils
from cryptography.x509.oid import NameOID

from mynacard.apdu.tlv import ber_encode
from mynacard.emulator.crypto import pkcs1_v15_sign
from mynacard.emulator.issuance.personas import (
    ADULT_AGE_FOR_TEN_YEAR_CARD,
    NEXTGEN_MONTHS_AFTER_BIRTHDAY,
    Persona,
    card_expiry_date,
    months_after,
    nth_birthday_after,
)

__all__ = [
    "CARD_KEY_IDS",
    "GENERATIONS",
    "LEGACY_2016",
    "NEXTGEN_2026",
    "NEXTGEN_CARD_KEY_IDS",
    "NEXTGEN_CERTIFICATE_PROFILE",
    "CardIssuer",
    "CertificateProfile",
    "CertifiedKey",
    "CvIssuer",
    "CvIssuers",
    "KeyType",
    "PkiGeneration",
    "PkiGenerationError",
    "PrivateKey",
    "SignatureHash",
    "TestPki",
    "cv_certificate",
    "cv_key_id",
    "generate_card_keys",
    "generate_key",
    "generate_nextgen_card_keys",
    "issue_auth_certificate",
    "issue_face_signer_certificate",
    "issue_ia_certificate",
    "issue_root",
    "issue_sign_certificate",
    "pki_generation",
    "rsa_public_key_template",
    "sign_digest_info",
    "sign_ecdsa_sha384",
    "sign_pkcs1_sha256",
]

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

PkiGeneration = Literal["legacy-2016", "nextgen-2026"]
"""Which card's TEST hierarchy: the profile's ``[personalisation] pki``."""
LEGACY_2016: Final = "legacy-2016"
NEXTGEN_2026: Final = "nextgen-2026"
GENERATIONS: tuple[PkiGeneration, ...] = (LEGACY_2016, NEXTGEN_2026)


class PkiGenerationError(ValueError):
    """A TEST PKI of one card generation was asked for what only the other one has."""


def pki_generation(name: str) -> PkiGeneration:
    """``name`` as a :data:`PkiGeneration`, or a ``ValueError`` naming the known ones."""
    for known in GENERATIONS:
        if name == known:
            return known
    raise ValueError(f"unknown TEST PKI generation {name!r}; known: {', '.join(GENERATIONS)}")


JST = timezone(timedelta(hours=9), "JST")
END_OF_DAY_JST = time(23, 59, 59, tzinfo=JST)
"""Certificates end at 23:59:59 JST (= 14:59:59Z, as the J-LIS roots do, spec §6)."""

# --- OIDs and names of spec §6 --------------------------------------------------------------

JPKI_ATTRIBUTE_ARC = "1.2.392.200149.8.5.5"
OID_NAME = f"{JPKI_ATTRIBUTE_ARC}.1"  # 氏名
OID_NAME_ALT_CHARS = f"{JPKI_ATTRIBUTE_ARC}.2"  # 氏名代替文字の使用位置情報
OID_SEX = f"{JPKI_ATTRIBUTE_ARC}.3"  # 性別
OID_BIRTH_DATE = f"{JPKI_ATTRIBUTE_ARC}.4"  # 生年月日
OID_ADDRESS = f"{JPKI_ATTRIBUTE_ARC}.5"  # 住所
OID_ADDRESS_ALT_CHARS = f"{JPKI_ATTRIBUTE_ARC}.6"  # 住所代替文字の使用位置情報

POLICY_SIGN_TEST = "1.2.392.200149.8.5.1.0.20"
"""Certificate policy of the 署名用 certificate in the test hierarchy (production: ``.1.1.20``)."""
POLICY_AUTH = "1.2.392.200149.8.5.1.3.30"
"""Certificate policy of the 利用者証明用 certificate (jpki-cp-auth-class30)."""
CPS_URI = "http://www.jpki.go.jp/cps.html"
"""CPS qualifier. ASSUMED: the URI of ZKM's synthetic fixture, not read from a real certificate."""

ROOT_ORGANIZATION = "JPKI-TEST"
ROOT_AGENCY_UNIT = "Japan Agency for Local Authority Information Systems"
AUTH_ROOT_UNIT = "JPKI for user authentication"
SIGN_ROOT_UNIT = "JPKI for digital signature"
ISSUER_ALT_ORGANIZATION = "公的個人認証サービス"
CARD_ISSUER_UNIT = "Individual Number Card issuer"
"""OU of the next card's card issuer (カード発行者) TEST CA, in the roots' DN pattern. ASSUMED: no DN of
the real device CA is published (nextgen §2.1 EF 0009: "issued by the card issuer's test CA")."""
FACE_SIGNER_NAME = "Card face signing key (TEST)"
"""CN of the 券面署名鍵 certificate (券面等AP EF 0005). ASSUMED, as above."""

CARD_KEY_IDS = (
    "jpki.auth_key",
    "jpki.sign_key",
    "text.card_key",
    "text.session_key",
    "visual.card_key",
    "common.ia_key",
)
"""Keys personalisation generates per card (the ``keys`` mapping of ``records.build_contents``)."""

NEXTGEN_CARD_KEY_IDS = ("nextgen.auth_key", "nextgen.sign_key", "nextgen.ia_key")
"""The next card's keys (認証AP EF 0017, 001A, 0019), all P-384: the profile declares them with
``algorithm = "ec-p384"``."""


class KeyType(StrEnum):
    """Key algorithm of a generated key."""

    RSA_2048 = "rsa-2048"
    EC_P384 = "ec-p384"


class SignatureHash(StrEnum):
    """Hash of the certificate signature (sha256WithRSAEncryption today)."""

    SHA256 = "sha256"
    SHA384 = "sha384"

    def algorithm(self) -> hashes.SHA256 | hashes.SHA384:
        """The ``cryptography`` hash object."""
        return hashes.SHA256() if self is SignatureHash.SHA256 else hashes.SHA384()


def generate_key(key_type: KeyType = KeyType.RSA_2048) -> PrivateKey:
    """A fresh TEST key (RSA-2048 with e = 65537, or EC P-384)."""
    if key_type is KeyType.EC_P384:
        return ec.generate_private_key(ec.SECP384R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def generate_card_keys(key_type: KeyType = KeyType.RSA_2048) -> dict[str, PrivateKey]:
    """One fresh key per :data:`CARD_KEY_IDS` entry (the 券面 AP keys are RSA whatever ``key_type``)."""
    jpki = {"jpki.auth_key", "jpki.sign_key"}
    return {kid: generate_key(key_type if kid in jpki else KeyType.RSA_2048) for kid in CARD_KEY_IDS}


def generate_nextgen_card_keys() -> dict[str, PrivateKey]:
    """One fresh P-384 key per :data:`NEXTGEN_CARD_KEY_IDS` entry."""
    return {kid: generate_key(KeyType.EC_P384) for kid in NEXTGEN_CARD_KEY_IDS}


@dataclass(frozen=True)
class CertificateProfile:
    """What differs between card generations in the X.509 certificates. The defaults are today's."""

    signature_hash: SignatureHash = SignatureHash.SHA256
    end_entity_validity_years: int = 5
    """Valid until this birthday after issuance. Today: the 5th, for every holder (spec §6 ASSUMED;
    J-LIS: "電子証明書発行の日から5回目の誕生日まで")."""
    root_validity_years: int = 10
    sign_policy_oid: str = POLICY_SIGN_TEST
    auth_policy_oid: str = POLICY_AUTH
    cps_uri: str = CPS_URI
    minor_validity_years: int | None = None
    """The birthday that ends a certificate issued to a holder under ``adult_age``; None = as adults."""
    adult_age: int = ADULT_AGE_FOR_TEN_YEAR_CARD
    months_after_birthday: int = 0
    """Calendar months after that birthday (personas.months_after) the certificates run on."""

    def last_day(self, birth: date, issued: date) -> date:
        """The JST day on whose 23:59:59 an end-entity certificate issued on ``issued`` ends."""
        if self.minor_validity_years is None:
            last = nth_birthday_after(birth, issued, self.end_entity_validity_years)
            return months_after(last, self.months_after_birthday)
        return card_expiry_date(
            birth,
            issued,
            adult_age=self.adult_age,
            adult_years=self.end_entity_validity_years,
            minor_years=self.minor_validity_years,
            months_after_birthday=self.months_after_birthday,
        )


NEXTGEN_CERTIFICATE_PROFILE = CertificateProfile(
    signature_hash=SignatureHash.SHA384,
    end_entity_validity_years=10,
    root_validity_years=20,
    minor_validity_years=5,
    months_after_birthday=NEXTGEN_MONTHS_AFTER_BIRTHDAY,
)
"""The next card's certificates (nextgen §1, §5, SOURCED): ecdsa-with-SHA384; "10 years (5 if under 18 at
issuance), aligned with the card"; CA certificates 20 years.

"Aligned with the card" is read as: a certificate ends when the card does. The card ends one month after
the 10th birthday after issuance (nextgen §1), and a card issued under 18 runs 5 years, by today's rule to
the 5th birthday (``personas.card_expiry_date``); the spec states the one-month rule once, for "the card",
so it applies to the 5-year card too. Hence: under 18 at issuance, one month after the 5th birthday after
issuance. Rejected readings: 5 calendar years from issuance (no birthday: the certificate would end on
another day than the card, against "aligned"), and the 5th birthday itself (a month before the card).
"""


@dataclass(frozen=True)
class CertifiedKey:
    """A TEST private key with its certificate."""

    key: PrivateKey
    certificate: x509.Certificate


# ---------------------------------------------------------------------------------------------
# X.509
# ---------------------------------------------------------------------------------------------


def root_name(unit: str) -> x509.Name:
    """``C=JP, O=JPKI-TEST, OU=<unit>, OU=Japan Agency for Local Authority Information Systems``."""
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ROOT_ORGANIZATION),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ROOT_AGENCY_UNIT),
        ]
    )


def _years_later(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February
        return moment.replace(year=moment.year + years, day=28)


def _end_of_day_jst(day: date) -> datetime:
    return datetime.combine(day, END_OF_DAY_JST).astimezone(UTC)


def _signed(
    builder: x509.CertificateBuilder, key: PrivateKey, profile: CertificateProfile
) -> x509.Certificate:
    """Sign with ``profile``'s hash."""
    return sign_with(builder, key, profile.signature_hash.algorithm())


def sign_with(
    builder: x509.CertificateBuilder, key: PrivateKey, algorithm: hashes.SHA256 | hashes.SHA384
) -> x509.Certificate:
    """Sign ``builder``; an EC key signs with an RFC 6979 nonce, so TEST certificates keep their bytes."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return builder.sign(key, algorithm, ecdsa_deterministic=True)
    return builder.sign(key, algorithm)


def issue_root(
    unit: str,
    key: PrivateKey,
    *,
    not_before: datetime,
    profile: CertificateProfile = CertificateProfile(),
    serial: int = 1,
) -> x509.Certificate:
    """A self-signed TEST root CA (auth: ``unit`` = AUTH_ROOT_UNIT, sign: SIGN_ROOT_UNIT)."""
    name = root_name(unit)
    not_after = _end_of_day_jst(_years_later(not_before, profile.root_validity_years).date())
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(key_usage(key_cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    return _signed(builder, key, profile)


def key_usage(
    *, digital_signature: bool = False, non_repudiation: bool = False, key_cert_sign: bool = False
) -> x509.KeyUsage:
    """keyUsage with the bits asked for; a CA's ``key_cert_sign`` brings ``crl_sign``."""
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=non_repudiation,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=key_cert_sign,
        crl_sign=key_cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _other_name(oid: str, text: str) -> x509.OtherName:
    """``[0] { OID, [0] EXPLICIT UTF8String }``: cryptography adds the EXPLICIT wrapper."""
    utf8 = text.encode("utf-8")
    return x509.OtherName(x509.ObjectIdentifier(oid), ber_encode(0x0C, utf8))


def sign_certificate_attributes(persona: Persona) -> list[tuple[str, str]]:
    """The subjectAltName otherNames in today's order: 5.5.1, 5.5.4, 5.5.3, 5.5.5, 5.5.2, 5.5.6."""
    return [
        (OID_NAME, persona.name),
        (OID_BIRTH_DATE, persona.birth_date_cert_form),
        (OID_SEX, persona.sex_cert_form),
        (OID_ADDRESS, persona.address),
        (OID_NAME_ALT_CHARS, persona.name_alt_chars),
        (OID_ADDRESS_ALT_CHARS, persona.address_alt_chars),
    ]


def _opaque_id(persona: Persona, purpose: str, digits: int) -> str:
    """A stable pseudo-random decimal id (the real ones are opaque serial-like numbers)."""
    seed = hashlib.sha256(f"{persona.id}/{persona.my_number}/{purpose}".encode()).digest()
    return str(int.from_bytes(seed, "big") % 10**digits).zfill(digits)


def _serial(persona: Persona, purpose: str) -> int:
    """A positive 4-byte serial like the observed ``0705d990``, stable for a persona."""
    return int(_opaque_id(persona, f"serial/{purpose}", 9)) % 0x7FFFFFFF + 1


def _policies(oid: str, cps_uri: str) -> x509.CertificatePolicies:
    return x509.CertificatePolicies([x509.PolicyInformation(x509.ObjectIdentifier(oid), [cps_uri])])


def _issuer_alt_name() -> x509.IssuerAlternativeName:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ISSUER_ALT_ORGANIZATION),
        ]
    )
    return x509.IssuerAlternativeName([x509.DirectoryName(name)])


def _end_entity(
    subject: x509.Name,
    public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey,
    issuer: CertifiedKey,
    *,
    persona: Persona,
    not_before: datetime,
    serial: int,
    profile: CertificateProfile,
) -> x509.CertificateBuilder:
    if not_before < issuer.certificate.not_valid_before_utc:
        raise ValueError(
            f"notBefore {not_before.isoformat()} precedes the issuing root's "
            f"({issuer.certificate.not_valid_before_utc.isoformat()}); create the TestPki earlier"
        )
    last_day = profile.last_day(persona.birth_date, not_before.astimezone(JST).date())
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.certificate.subject)
        .public_key(public_key)
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(_end_of_day_jst(last_day))
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(_issuer_alt_name(), critical=False)
    )


def issue_sign_certificate(
    persona: Persona,
    public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey,
    root: CertifiedKey,
    *,
    not_before: datetime,
    profile: CertificateProfile = CertificateProfile(),
    common_name: str | None = None,
    serial: int | None = None,
) -> x509.Certificate:
    """署名用電子証明書: the 4 basic attributes in subjectAltName, critical policy, nonRepudiation.

    Subject ``C=JP, L=<prefecture>, L=<city>, CN=<opaque id>`` (ASSUMED, spec §6: one source).
    """
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.LOCALITY_NAME, persona.prefecture),
            x509.NameAttribute(NameOID.LOCALITY_NAME, persona.city),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name or _opaque_id(persona, "sign", 20)),
        ]
    )
    alt_names = [_other_name(oid, value) for oid, value in sign_certificate_attributes(persona)]
    builder = _end_entity(
        subject,
        public_key,
        root,
        persona=persona,
        not_before=not_before,
        serial=serial if serial is not None else _serial(persona, "sign"),
        profile=profile,
    )
    builder = (
        builder.add_extension(key_usage(digital_signature=True, non_repudiation=True), critical=True)
        .add_extension(_policies(profile.sign_policy_oid, profile.cps_uri), critical=True)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
    )
    return _signed(builder, root.key, profile)


def issue_auth_certificate(
    persona: Persona,
    public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey,
    root: CertifiedKey,
    *,
    not_before: datetime,
    profile: CertificateProfile = CertificateProfile(),
    common_name: str | None = None,
    serial: int | None = None,
) -> x509.Certificate:
    """利用者証明用電子証明書: no personal attributes, subject ``C=JP, CN=<opaque ~20-digit id>``."""
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name or _opaque_id(persona, "auth", 20)),
        ]
    )
    builder = _end_entity(
        subject,
        public_key,
        root,
        persona=persona,
        not_before=not_before,
        serial=serial if serial is not None else _serial(persona, "auth"),
        profile=profile,
    )
    builder = builder.add_extension(key_usage(digital_signature=True), critical=True).add_extension(
        _policies(profile.auth_policy_oid, profile.cps_uri), critical=True
    )
    return _signed(builder, root.key, profile)


# ---------------------------------------------------------------------------------------------
# The next card's issuer side: card issuer CA, 券面 signing key, internal-authentication certificates
# ---------------------------------------------------------------------------------------------


def _card_issuer_name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "JP"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ROOT_ORGANIZATION),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, CARD_ISSUER_UNIT),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _issued_by(
    ca: CertifiedKey, subject: x509.Name, public_key: ec.EllipticCurvePublicKey, serial: int
) -> x509.CertificateBuilder:
    """A digitalSignature-only certificate (critical key usage) of ``public_key``, issued by ``ca``."""
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(ca.certificate.subject)
        .public_key(public_key)
        .serial_number(serial)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(key_usage(digital_signature=True), critical=True)
    )


def issue_face_signer_certificate(
    public_key: ec.EllipticCurvePublicKey, ca: CertifiedKey, *, profile: CertificateProfile
) -> x509.Certificate:
    """The certificate of the 券面署名鍵 (券面等AP EF 0005): ``C=JP, O=JPKI-TEST, OU=<card issuer>,
    CN=Card face signing key (TEST)``, valid as long as its CA (ASSUMED: it signs the records of every
    card issued while the CA lives)."""
    builder = (
        _issued_by(ca, _card_issuer_name(FACE_SIGNER_NAME), public_key, serial=2)
        .not_valid_before(ca.certificate.not_valid_before_utc)
        .not_valid_after(ca.certificate.not_valid_after_utc)
    )
    return _signed(builder, ca.key, profile)


def issue_ia_certificate(
    persona: Persona,
    public_key: ec.EllipticCurvePublicKey,
    ca: CertifiedKey,
    *,
    not_before: datetime,
    profile: CertificateProfile,
) -> x509.Certificate:
    """内部認証鍵の証明書 (認証AP EF 0009): subject ``C=JP, O=JPKI-TEST, OU=<card issuer>,
    CN=<カード製造番号>``, no personal attributes (the key proves the card, not the holder); valid from
    issuance to the card's expiry by ``profile`` (ASSUMED: the device certificate lives as long as the
    card)."""
    if not_before < ca.certificate.not_valid_before_utc:
        raise ValueError(f"notBefore {not_before.isoformat()} precedes the card issuer CA's")
    last_day = profile.last_day(persona.birth_date, not_before.astimezone(JST).date())
    builder = (
        _issued_by(ca, _card_issuer_name(persona.card_serial), public_key, _serial(persona, "ia"))
        .not_valid_before(not_before)
        .not_valid_after(_end_of_day_jst(last_day))
    )
    return _signed(builder, ca.key, profile)


def sign_ecdsa_sha384(key: PrivateKey, data: bytes) -> bytes:
    """ECDSA P-384 with SHA-384 over ``data``, as the plain ``r ‖ s`` (96 bytes, BSI TR-03111), with an
    RFC 6979 nonce: the 券面 records' and the integrity record's signature (nextgen §2)."""
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP384R1):
        raise TypeError("the next card's records are signed with a P-384 key")
    der = key.sign(data, ec.ECDSA(hashes.SHA384(), deterministic_signing=True))
    r, s = utils.decode_dss_signature(der)
    return r.to_bytes(48, "big") + s.to_bytes(48, "big")


# ---------------------------------------------------------------------------------------------
# Raw RSA signatures and the card-verifiable certificate (券面 APs, spec §3.6)
# ---------------------------------------------------------------------------------------------


def _rsa(key: PrivateKey) -> rsa.RSAPrivateKey:
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError("the 券面 AP records and CV certificates are RSA-only")
    return key


def sign_pkcs1_sha256(key: PrivateKey, data: bytes) -> bytes:
    """RSASSA-PKCS1-v1_5 with SHA-256 over ``data``."""
    return _rsa(key).sign(data, padding.PKCS1v15(), hashes.SHA256())


def sign_digest_info(key: PrivateKey, digest_info: bytes) -> bytes:
    """PKCS#1 v1.5 over an arbitrary DigestInfo, as the card's own signing path does it.

    Needed because the card face (券面事項確認AP EF 0002) signs a DigestInfo holding three
    concatenated SHA-256 digests, which no hash-bound signing API accepts.
    """
    return pkcs1_v15_sign(_rsa(key), digest_info)


def rsa_public_key_template(public_key: rsa.RSAPublicKey) -> bytes:
    """The card's RSA public key form: ``90 03 <e> 91 82 01 00 <modulus>`` (265 bytes for 2048)."""
    numbers = public_key.public_numbers()
    size = (public_key.key_size + 7) // 8
    exponent = numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")
    modulus = numbers.n.to_bytes(size, "big")
    return ber_encode(0x90, exponent) + ber_encode(0x91, modulus)


def cv_key_id(number: str, group: str = "001", padding_bytes: bytes = b"\x00" * 4) -> bytes:
    """A 16-byte key id: 7 ASCII digits, ``08 05``, 3 ASCII digits, 4 padding bytes (spec §3.6)."""
    if len(number) != 7 or not number.isdigit() or len(group) != 3 or not group.isdigit():
        raise ValueError("a key id is 7 digits + 3 digits")
    if len(padding_bytes) != 4:
        raise ValueError("a key id ends with 4 padding bytes")
    return number.encode("ascii") + b"\x08\x05" + group.encode("ascii") + padding_bytes


def cv_certificate(
    issuer_key: PrivateKey, issuer_key_id: bytes, subject_key: rsa.RSAPublicKey, subject_key_id: bytes
) -> bytes:
    """``7F 21 82 02 33 { 5F 4E 82 01 29 <ids ‖ key> 5F 37 82 01 00 <sig> }`` (568 bytes).

    The signature is PKCS#1 v1.5 SHA-256 over the 297-byte body (how MC verifies it).
    """
    body = issuer_key_id + subject_key_id + rsa_public_key_template(subject_key)
    signature = sign_pkcs1_sha256(issuer_key, body)
    inner = ber_encode(0x5F4E, body, two_byte_length=True) + ber_encode(
        0x5F37, signature, two_byte_length=True
    )
    return ber_encode(0x7F21, inner, two_byte_length=True)


@dataclass(frozen=True)
class CvIssuer:
    """The issuer side of one 券面 AP: the test CA key (証明者鍵) and the record-signing key it
    certifies (被証明者鍵) in the AP's EF 0004. Records (integrity record, card face, …) are
    signed by ``signer_key``, as MC observed ("signed by the key certified in 0004")."""

    ca_key: PrivateKey
    ca_key_id: bytes
    signer_key: PrivateKey
    signer_key_id: bytes

    def cv_certificate(self) -> bytes:
        """EF 0004 content: the CV certificate of ``signer_key`` issued by ``ca_key``."""
        signer = _rsa(self.signer_key).public_key()
        return cv_certificate(self.ca_key, self.ca_key_id, signer, self.signer_key_id)


TEXT_CV_ISSUER_NUMBER = "6000033"
"""証明者鍵ID of 券面事項入力補助AP in the test hierarchy (production ``5000033``)."""
VISUAL_CV_ISSUER_NUMBER = "6000023"
"""証明者鍵ID of 券面事項確認AP in the test hierarchy (production ``5000023``)."""
TEXT_CV_SIGNER_NUMBER = "6100033"
"""被証明者鍵ID of the text AP record signer. ASSUMED: real cards name a municipality's key."""
VISUAL_CV_SIGNER_NUMBER = "6100023"
"""被証明者鍵ID of the visual AP record signer. ASSUMED, as above."""


def _new_cv_issuer(ca_number: str, signer_number: str) -> CvIssuer:
    return CvIssuer(
        ca_key=generate_key(KeyType.RSA_2048),
        ca_key_id=cv_key_id(ca_number),
        signer_key=generate_key(KeyType.RSA_2048),
        signer_key_id=cv_key_id(signer_number),
    )


# ---------------------------------------------------------------------------------------------
# The whole test PKI, with PEM persistence
# ---------------------------------------------------------------------------------------------

ROOT_BACKDATE_YEARS = 5
"""How far before creation a fresh PKI's roots start when no ``now`` is given."""

_PEM_NOTE = "TEST KEY of the mynacard test PKI (JPKI-TEST). Not a J-LIS key. Never use outside tests.\n"
_MANIFEST = "TEST-pki.json"


@dataclass(frozen=True)
class CvIssuers:
    """Today's 券面 AP issuers (legacy-2016): 券面事項入力補助AP and 券面事項確認AP, RSA CV certificates."""

    text: CvIssuer
    visual: CvIssuer


@dataclass(frozen=True)
class CardIssuer:
    """The next card's issuer side (nextgen-2026): the card issuer (カード発行者) TEST CA, self-signed P-384
    for 20 years, and the 券面署名鍵 it certifies. The CA also issues each card's internal-authentication
    certificate (:func:`issue_ia_certificate`)."""

    ca: CertifiedKey
    face_signer: CertifiedKey


@dataclass(frozen=True)
class TestPki:
    """Everything the issuer side owns, all TEST keys: two JPKI roots (署名用, 利用者証明用) and the
    generation's 券面 issuers (:class:`CvIssuers` today, :class:`CardIssuer` for the next card)."""

    __test__ = False  # not a pytest test class, despite the name

    auth_root: CertifiedKey
    sign_root: CertifiedKey
    issuers: CvIssuers | CardIssuer
    profile: CertificateProfile = field(default_factory=CertificateProfile)

    @property
    def generation(self) -> str:
        """``legacy-2016`` or ``nextgen-2026`` (one of :data:`GENERATIONS`): which card this hierarchy
        issues for, as the profile's ``[personalisation] pki`` names it."""
        return LEGACY_2016 if isinstance(self.issuers, CvIssuers) else NEXTGEN_2026

    @property
    def text_issuer(self) -> CvIssuer:
        """券面事項入力補助AP issuer (legacy-2016 only)."""
        return self._cv_issuers().text

    @property
    def visual_issuer(self) -> CvIssuer:
        """券面事項確認AP issuer (legacy-2016 only)."""
        return self._cv_issuers().visual

    @property
    def card_issuer(self) -> CardIssuer:
        """The card issuer CA and the 券面署名鍵 (nextgen-2026 only)."""
        if not isinstance(self.issuers, CardIssuer):
            raise PkiGenerationError(
                f"a {self.generation} TEST PKI has no card issuer CA (nextgen-2026 only)"
            )
        return self.issuers

    def _cv_issuers(self) -> CvIssuers:
        if not isinstance(self.issuers, CvIssuers):
            raise PkiGenerationError(f"a {self.generation} TEST PKI has no RSA CV issuers (legacy-2016 only)")
        return self.issuers

    @classmethod
    def create(
        cls,
        *,
        generation: str = LEGACY_2016,
        now: datetime | None = None,
        key_type: KeyType | None = None,
        profile: CertificateProfile | None = None,
        text_signer_number: str = TEXT_CV_SIGNER_NUMBER,
        visual_signer_number: str = VISUAL_CV_SIGNER_NUMBER,
    ) -> TestPki:
        """A fresh PKI of ``generation`` (legacy: six RSA keys, roughly half a second; nextgen: four P-384).

        The roots' notBefore is ``now`` when given, else :data:`ROOT_BACKDATE_YEARS` before the
        current time, so personas issued in the past get certificates inside the roots' validity.
        ``key_type`` and ``profile`` default to the generation's (RSA-2048 and today's profile;
        P-384 and :data:`NEXTGEN_CERTIFICATE_PROFILE`); the next card's keys are P-384 only.
        """
        chosen = pki_generation(generation)
        start = now or _years_later(datetime.now(UTC), -ROOT_BACKDATE_YEARS)
        start = start.replace(microsecond=0)
        if chosen == LEGACY_2016:
            legacy = profile or CertificateProfile()
            auth_root, sign_root = _roots(start, key_type or KeyType.RSA_2048, legacy)
            issuers = CvIssuers(
                _new_cv_issuer(TEXT_CV_ISSUER_NUMBER, text_signer_number),
                _new_cv_issuer(VISUAL_CV_ISSUER_NUMBER, visual_signer_number),
            )
            return cls(auth_root, sign_root, issuers, legacy)
        if key_type not in (None, KeyType.EC_P384):
            raise ValueError(f"the nextgen-2026 TEST PKI is P-384 only, not {key_type}")
        nextgen = profile or NEXTGEN_CERTIFICATE_PROFILE
        auth_root, sign_root = _roots(start, KeyType.EC_P384, nextgen)
        return cls(auth_root, sign_root, _new_card_issuer(start, nextgen), nextgen)

    def _keys(self) -> Mapping[str, PrivateKey]:
        keys = {"jpki-auth-root": self.auth_root.key, "jpki-sign-root": self.sign_root.key}
        if isinstance(self.issuers, CvIssuers):
            return keys | {
                "text-cv-ca": self.issuers.text.ca_key,
                "text-cv-signer": self.issuers.text.signer_key,
                "visual-cv-ca": self.issuers.visual.ca_key,
                "visual-cv-signer": self.issuers.visual.signer_key,
            }
        return keys | {"card-issuer-ca": self.issuers.ca.key, "face-signer": self.issuers.face_signer.key}

    def _certificates(self) -> Mapping[str, x509.Certificate]:
        certificates = {
            "jpki-auth-root": self.auth_root.certificate,
            "jpki-sign-root": self.sign_root.certificate,
        }
        if isinstance(self.issuers, CardIssuer):
            certificates |= {
                "card-issuer-ca": self.issuers.ca.certificate,
                "face-signer": self.issuers.face_signer.certificate,
            }
        return certificates

    def save(self, directory: Path) -> None:
        """Write PEM files (keys PKCS#8, unencrypted, TEST-labelled; certificates) and a JSON manifest."""
        directory.mkdir(parents=True, exist_ok=True)
        for name, key in self._keys().items():
            pem = key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
            (directory / f"TEST-{name}.key.pem").write_bytes(_PEM_NOTE.encode() + pem)
        for name, certificate in self._certificates().items():
            pem = certificate.public_bytes(serialization.Encoding.PEM)
            (directory / f"TEST-{name}.crt.pem").write_bytes(pem)
        manifest: dict[str, object] = {"note": _PEM_NOTE.strip(), "generation": self.generation}
        if isinstance(self.issuers, CvIssuers):
            manifest |= {
                "text_issuer": _issuer_ids(self.issuers.text),
                "visual_issuer": _issuer_ids(self.issuers.visual),
            }
        manifest["profile"] = _profile_json(self.profile)
        (directory / _MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, directory: Path) -> TestPki:
        """Read back what :meth:`save` wrote (a manifest without ``generation`` is a legacy-2016 PKI)."""
        manifest = json.loads((directory / _MANIFEST).read_text(encoding="utf-8"))
        generation = pki_generation(str(manifest.get("generation", LEGACY_2016)))
        issuers: CvIssuers | CardIssuer
        if generation == LEGACY_2016:
            issuers = CvIssuers(
                _load_issuer(directory, "text", manifest["text_issuer"]),
                _load_issuer(directory, "visual", manifest["visual_issuer"]),
            )
        else:
            issuers = CardIssuer(
                _load_certified(directory, "card-issuer-ca"), _load_certified(directory, "face-signer")
            )
        return cls(
            auth_root=_load_certified(directory, "jpki-auth-root"),
            sign_root=_load_certified(directory, "jpki-sign-root"),
            issuers=issuers,
            profile=_profile_from_json(manifest["profile"]),
        )


def _roots(
    start: datetime, key_type: KeyType, profile: CertificateProfile
) -> tuple[CertifiedKey, CertifiedKey]:
    """The 利用者証明用 and 署名用 TEST roots."""
    auth_key, sign_key = generate_key(key_type), generate_key(key_type)
    return (
        CertifiedKey(auth_key, issue_root(AUTH_ROOT_UNIT, auth_key, not_before=start, profile=profile)),
        CertifiedKey(sign_key, issue_root(SIGN_ROOT_UNIT, sign_key, not_before=start, profile=profile)),
    )


def _new_card_issuer(start: datetime, profile: CertificateProfile) -> CardIssuer:
    ca_key, signer_key = ec.generate_private_key(ec.SECP384R1()), ec.generate_private_key(ec.SECP384R1())
    ca = CertifiedKey(ca_key, issue_root(CARD_ISSUER_UNIT, ca_key, not_before=start, profile=profile))
    signer = issue_face_signer_certificate(signer_key.public_key(), ca, profile=profile)
    return CardIssuer(ca, CertifiedKey(signer_key, signer))


def _profile_json(profile: CertificateProfile) -> dict[str, object]:
    return {
        "signature_hash": profile.signature_hash.value,
        "end_entity_validity_years": profile.end_entity_validity_years,
        "root_validity_years": profile.root_validity_years,
        "sign_policy_oid": profile.sign_policy_oid,
        "auth_policy_oid": profile.auth_policy_oid,
        "cps_uri": profile.cps_uri,
        "minor_validity_years": profile.minor_validity_years,
        "adult_age": profile.adult_age,
        "months_after_birthday": profile.months_after_birthday,
    }


def _profile_from_json(data: Mapping[str, object]) -> CertificateProfile:
    """The manifest's profile; the fields added for the next card default to today's when absent."""
    default = CertificateProfile()
    minor = data.get("minor_validity_years")
    return CertificateProfile(
        signature_hash=SignatureHash(str(data["signature_hash"])),
        end_entity_validity_years=_int(data["end_entity_validity_years"]),
        root_validity_years=_int(data["root_validity_years"]),
        sign_policy_oid=str(data["sign_policy_oid"]),
        auth_policy_oid=str(data["auth_policy_oid"]),
        cps_uri=str(data["cps_uri"]),
        minor_validity_years=None if minor is None else _int(minor),
        adult_age=_int(data.get("adult_age", default.adult_age)),
        months_after_birthday=_int(data.get("months_after_birthday", default.months_after_birthday)),
    )


def _int(value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{_MANIFEST}: expected an integer, got {value!r}")
    return value


def _issuer_ids(issuer: CvIssuer) -> dict[str, str]:
    return {"ca_key_id": issuer.ca_key_id.hex(), "signer_key_id": issuer.signer_key_id.hex()}


def _load_key(directory: Path, name: str) -> PrivateKey:
    key = serialization.load_pem_private_key((directory / f"TEST-{name}.key.pem").read_bytes(), password=None)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError(f"TEST-{name}.key.pem: not an RSA or EC key")
    return key


def _load_certified(directory: Path, name: str) -> CertifiedKey:
    certificate = x509.load_pem_x509_certificate((directory / f"TEST-{name}.crt.pem").read_bytes())
    return CertifiedKey(_load_key(directory, name), certificate)


def _load_issuer(directory: Path, ap: str, ids: Mapping[str, str]) -> CvIssuer:
    return CvIssuer(
        ca_key=_load_key(directory, f"{ap}-cv-ca"),
        ca_key_id=bytes.fromhex(ids["ca_key_id"]),
        signer_key=_load_key(directory, f"{ap}-cv-signer"),
        signer_key_id=bytes.fromhex(ids["signer_key_id"]),
    )
