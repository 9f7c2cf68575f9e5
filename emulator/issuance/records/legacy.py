"""Byte-exact builders for every EF content of today's card (spec §3).

Pure functions: a persona, the card's keys and the TEST PKI in; bytes out. The lead's
personalisation calls :func:`build_contents` once and stores each value under its source name.
Values the spec marks ASSUMED are fields of :class:`RecordOptions` (or :class:`TokenInfoFields`)
with the observed/assumed value as default.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from mynacard.emulator.issuance.imaging import (
    DEFAULT_IMAGE_SIZES,
    ImageSizes,
    render_address,
    render_my_number,
    render_name,
    render_photo,
    render_security_code,
)
from mynacard.emulator.issuance.personas import Persona
from mynacard.emulator.issuance.pki import (
    JST,
    PrivateKey,
    TestPki,
    cv_key_id,
    issue_auth_certificate,
    issue_sign_certificate,
    rsa_public_key_template,
    sign_digest_info,
    sign_pkcs1_sha256,
)
from mynacard.emulator.issuance.records.common import (
    LengthForm,
    attributes_digest_source,
    basic_attribute_fields,
    sha256,
    tlv,
    with_offset_table,
)
from mynacard.emulator.issuance.records.residence import ResidenceOptions

__all__ = [
    "JpkiCertificates",
    "RecordOptions",
    "TokenInfoFields",
    "attributes_digest_source",
    "build_contents",
    "card_face_digest_info",
    "certificate_availability",
    "common_card_info",
    "issue_jpki_certificates",
    "jpki_contents",
    "text_ap_info",
    "text_attributes",
    "text_contents",
    "text_integrity",
    "text_my_number",
    "text_session_key_public",
    "text_signed_public_key",
    "token_info",
    "visual_age_record",
    "visual_ap_basic",
    "visual_card_face",
    "visual_contents",
    "visual_my_number_image",
]

# ---------------------------------------------------------------------------------------------
# Options
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenInfoFields:
    """``CK_TOKEN_INFO`` of JPKI EF 0006 apart from the label.

    ASSUMED throughout: MC's unit-test sample (spec §3.1), not a dump of a production card. The
    version slots hold ASCII as physical cards do; ``utc_time`` (unused by clients) is blank.
    """

    manufacturer_id: str = "00000000000000000000000000000001"
    model: str = "E16R01NJ"
    serial_number: str = "0000000020500003"
    flags: int = 0x0000040D
    max_session_count: int = 1
    session_count: int = 0
    max_rw_session_count: int = 1
    rw_session_count: int = 0
    max_pin_len: int = 16
    min_pin_len: int = 6
    total_public_memory: int = 0xFFFFFFFF
    free_public_memory: int = 0xFFFFFFFF
    total_private_memory: int = 0xFFFFFFFF
    free_private_memory: int = 0xFFFFFFFF
    hardware_version: bytes = b"03"
    firmware_version: bytes = b"01"
    utc_time: bytes = b" " * 16


@dataclass(frozen=True)
class RecordOptions:
    """Per-profile choices for :func:`build_contents`."""

    token_label: str = "JPKIAPICCTOKEN2"
    """JPKI EF 0006 label: ``JPKIAPICCTOKEN2`` = My Number card (``JPKIAPICCTOKEN`` = 住基カード)."""
    token_info: TokenInfoFields = field(default_factory=TokenInfoFields)
    attributes_length_form: LengthForm = "short"
    """Outer length of 券面事項入力補助AP EF 0002 (spec §9.5): ``short`` = minimal BER (``FF 20 65``
    on the test card; ``81 LL``/``82 HH LL`` once the value outgrows 127/255 bytes), ``long`` =
    always ``FF 20 82 HH LL`` (what MNB's fixed offsets need)."""
    issued_at: datetime | None = None
    """notBefore of the JPKI certificates; None = the persona's issue date, 10:00 JST."""
    residence: ResidenceOptions | None = None
    """The residence card's choices (``[residence]``); None on other cards."""
    certificate_present: int = 0x8F
    """Byte of JPKI EF 0008 for a certificate the card holds (observed ``8F``)."""
    certificate_absent: int = 0x00
    """Byte of JPKI EF 0008 for a missing signature certificate. ASSUMED (MC unit test)."""
    my_number_filler: bytes = b"\xff\xff"
    """Bytes after the 15-byte 個人番号 object in text EF 0001 (observed: ``FF FF``, 17 bytes)."""
    text_ap_identification: bytes = bytes.fromhex("01030e01")
    """Text EF 0005 DF41 (observed ``01 03 0E 01``)."""
    text_ap_key_number: str = "6000034"
    """Text EF 0005 DF42 key id number. ASSUMED: production cards show ``x000034``."""
    text_ap_trailer_data: bytes | None = None
    """First 32 bytes of text EF 0005 DF43 (purpose UNKNOWN); None = derived from the card serial."""
    visual_ap_identification: bytes = bytes.fromhex("06030e01")
    """Visual EF 0003 DF31 (observed ``06 03 0E 01``)."""
    visual_ap_key_number: str = "6000024"
    """Visual EF 0003 DF32 key id number. ASSUMED: production cards show ``x000024``."""
    visual_ap_version: int = 0x01
    """Visual EF 0003 DF33 (one byte). ASSUMED: the value is not documented."""
    visual_ap_reference_key_number: str = "6000025"
    """Key id at the start of visual EF 0003 DF35. ASSUMED; the 256 bytes after it are opaque."""
    image_sizes: ImageSizes = field(default_factory=ImageSizes)

    def issuance(self, persona: Persona) -> datetime:
        """The moment the certificates are issued."""
        if self.issued_at is not None:
            return self.issued_at.astimezone(UTC)
        return datetime.combine(persona.issue_date, time(10, 0, tzinfo=JST)).astimezone(UTC)


# ---------------------------------------------------------------------------------------------
# 公的個人認証AP (JPKI-AP)
# ---------------------------------------------------------------------------------------------

TOKEN_INFO_LENGTH = 160


def _padded(text: str | bytes, size: int, what: str) -> bytes:
    raw = text.encode("ascii") if isinstance(text, str) else text
    if len(raw) > size:
        raise ValueError(f"{what}: {len(raw)} bytes, at most {size}")
    return raw.ljust(size, b" ")


def token_info(label: str = "JPKIAPICCTOKEN2", fields: TokenInfoFields = TokenInfoFields()) -> bytes:
    """JPKI EF 0006: ``CK_TOKEN_INFO`` with 32-bit big-endian integers, 160 bytes.

    Label, manufacturerID, model and serialNumber are blank-padded as PKCS#11 requires, so the
    label reads ``JPKIAPICCTOKEN2`` + 17 × ``20``.
    """
    content = (
        _padded(label, 32, "label")
        + _padded(fields.manufacturer_id, 32, "manufacturer_id")
        + _padded(fields.model, 16, "model")
        + _padded(fields.serial_number, 16, "serial_number")
        + struct.pack(
            ">11I",
            fields.flags,
            fields.max_session_count,
            fields.session_count,
            fields.max_rw_session_count,
            fields.rw_session_count,
            fields.max_pin_len,
            fields.min_pin_len,
            fields.total_public_memory,
            fields.free_public_memory,
            fields.total_private_memory,
            fields.free_private_memory,
        )
        + _padded(fields.hardware_version, 2, "hardware_version")
        + _padded(fields.firmware_version, 2, "firmware_version")
        + _padded(fields.utc_time, 16, "utc_time")
    )
    assert len(content) == TOKEN_INFO_LENGTH
    return content


def certificate_availability(has_sign: bool, *, present: int = 0x8F, absent: int = 0x00) -> bytes:
    """JPKI EF 0008: ``8F 8F 00`` (both certificates) or ``00 8F 00`` (no signature certificate)."""
    return bytes([present if has_sign else absent, present, 0x00])


@dataclass(frozen=True)
class JpkiCertificates:
    """The four certificates of the JPKI-AP (``sign`` is None for a holder under 15)."""

    sign: x509.Certificate | None
    sign_ca: x509.Certificate
    auth: x509.Certificate
    auth_ca: x509.Certificate

    def pem(self) -> dict[str, bytes]:
        """PEM of each certificate, keyed like :func:`build_contents`."""
        named = {
            "jpki.sign_certificate": self.sign,
            "jpki.sign_ca_certificate": self.sign_ca,
            "jpki.auth_certificate": self.auth,
            "jpki.auth_ca_certificate": self.auth_ca,
        }
        return {k: c.public_bytes(serialization.Encoding.PEM) for k, c in named.items() if c is not None}


def _public(key: PrivateKey) -> rsa.RSAPublicKey | ec.EllipticCurvePublicKey:
    return key.public_key()


def issue_jpki_certificates(
    persona: Persona, keys: Mapping[str, PrivateKey], pki: TestPki, options: RecordOptions = RecordOptions()
) -> JpkiCertificates:
    """署名用/利用者証明用 certificates for the persona's card keys, with their CA certificates."""
    when = options.issuance(persona)
    sign = None
    if persona.signature_certificate:
        sign = issue_sign_certificate(
            persona, _public(keys["jpki.sign_key"]), pki.sign_root, not_before=when, profile=pki.profile
        )
    auth = issue_auth_certificate(
        persona, _public(keys["jpki.auth_key"]), pki.auth_root, not_before=when, profile=pki.profile
    )
    return JpkiCertificates(sign, pki.sign_root.certificate, auth, pki.auth_root.certificate)


def _der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


def jpki_contents(
    persona: Persona, keys: Mapping[str, PrivateKey], pki: TestPki, options: RecordOptions = RecordOptions()
) -> dict[str, bytes]:
    """Every JPKI-AP EF content, keyed by source name."""
    certificates = issue_jpki_certificates(persona, keys, pki, options)
    contents = {
        "jpki.sign_ca_certificate": _der(certificates.sign_ca),
        "jpki.auth_certificate": _der(certificates.auth),
        "jpki.auth_ca_certificate": _der(certificates.auth_ca),
        "jpki.token_info": token_info(options.token_label, options.token_info),
        "jpki.certificate_availability": certificate_availability(
            certificates.sign is not None,
            present=options.certificate_present,
            absent=options.certificate_absent,
        ),
    }
    if certificates.sign is not None:
        contents["jpki.sign_certificate"] = _der(certificates.sign)
    return contents


# ---------------------------------------------------------------------------------------------
# 券面事項入力補助AP (text input support AP)
# ---------------------------------------------------------------------------------------------

TAG_MY_NUMBER = 0xFF10
TAG_ATTRIBUTES = 0xFF20
TAG_INTEGRITY = 0xFF30
TAG_TEXT_AP_INFO = 0xFF40
TAG_SIGNED_PUBLIC_KEY = 0xFF50
TAG_SESSION_KEY = 0xA1


def text_my_number(persona: Persona, filler: bytes = b"\xff\xff") -> bytes:
    """Text EF 0001 (個人番号): ``FF 10 0C`` + 12 ASCII digits + filler (17 bytes physical)."""
    return tlv(TAG_MY_NUMBER, persona.my_number.encode("ascii")) + filler


def text_attributes(persona: Persona, form: LengthForm = "short") -> bytes:
    """Text EF 0002 (基本4情報): ``FF 20 L { DF 21 <4 offsets> DF 22 氏名 DF 23 住所 DF 24 生年月日
    DF 25 性別 }``; offsets count from the start of the file and point at each tag."""
    return with_offset_table(TAG_ATTRIBUTES, basic_attribute_fields(persona), form)


def text_integrity(my_number_file: bytes, attributes: bytes, signer: PrivateKey) -> bytes:
    """Text EF 0003 (336 bytes): ``FF 30 82 01 4B { DF 31 20 <SHA-256 of EF 0001, filler included>
    DF 32 20 <SHA-256 of EF 0002 after DF21> DF 33 82 01 00 <signature> }``.

    The signature is PKCS#1 v1.5 SHA-256 over the DF31 and DF32 objects, by the key the AP's CV
    certificate (EF 0004) certifies.
    """
    signed = tlv(0xDF31, sha256(my_number_file)) + tlv(0xDF32, sha256(attributes_digest_source(attributes)))
    return tlv(TAG_INTEGRITY, signed + tlv(0xDF33, sign_pkcs1_sha256(signer, signed)), "long")


def text_ap_info(key_id: bytes, identification: bytes, trailer_data: bytes) -> bytes:
    """Text EF 0005 (AP basic info): ``FF 40 L { DF 41 04 <id> DF 42 10 <key id> DF 43 81 80
    <32 data bytes + 96 × FF> }``. Nothing in it is signed; the data bytes' meaning is UNKNOWN."""
    if len(identification) != 4 or len(key_id) != 16 or len(trailer_data) != 32:
        raise ValueError("text AP info wants a 4-byte identification, 16-byte key id, 32 data bytes")
    trailer = trailer_data + b"\xff" * 96
    return tlv(TAG_TEXT_AP_INFO, tlv(0xDF41, identification) + tlv(0xDF42, key_id) + tlv(0xDF43, trailer))


def text_session_key_public(key: PrivateKey) -> bytes:
    """Text EF 0006: ``A1 82 01 09 { 90 03 01 00 01 91 82 01 00 <modulus> }``."""
    return tlv(TAG_SESSION_KEY, rsa_public_key_template(_rsa_public(key)))


def text_signed_public_key(card_key: PrivateKey, signer: PrivateKey) -> bytes:
    """Text EF 0007: ``FF 50 82 02 13 { DF 51 82 01 09 <key 0013> DF 52 82 01 00 <signature> }``,
    the signature (PKCS#1 v1.5 SHA-256 over the DF51 object) by the EF 0004-certified key."""
    signed = tlv(0xDF51, rsa_public_key_template(_rsa_public(card_key)))
    return tlv(TAG_SIGNED_PUBLIC_KEY, signed + tlv(0xDF52, sign_pkcs1_sha256(signer, signed)), "long")


def _rsa_public(key: PrivateKey) -> rsa.RSAPublicKey:
    public = key.public_key()
    if not isinstance(public, rsa.RSAPublicKey):
        raise TypeError("the 券面 AP keys are RSA-2048")
    return public


def _derived_bytes(persona: Persona, purpose: str, length: int) -> bytes:
    """Stable filler for opaque fields whose real meaning is UNKNOWN."""
    out, counter = b"", 0
    while len(out) < length:
        out += sha256(f"mynacard/{purpose}/{persona.card_serial}/{counter}".encode())
        counter += 1
    return out[:length]


def text_contents(
    persona: Persona, keys: Mapping[str, PrivateKey], pki: TestPki, options: RecordOptions = RecordOptions()
) -> dict[str, bytes]:
    """Every 券面事項入力補助AP EF content, keyed by source name."""
    my_number = text_my_number(persona, options.my_number_filler)
    attributes = text_attributes(persona, options.attributes_length_form)
    signer = pki.text_issuer.signer_key
    trailer = options.text_ap_trailer_data or _derived_bytes(persona, "text-ap-info", 32)
    return {
        "text.my_number": my_number,
        "text.attributes": attributes,
        "text.integrity": text_integrity(my_number, attributes, signer),
        "text.cv_certificate": pki.text_issuer.cv_certificate(),
        "text.ap_info": text_ap_info(
            cv_key_id(options.text_ap_key_number), options.text_ap_identification, trailer
        ),
        "text.session_key_public": text_session_key_public(keys["text.session_key"]),
        "text.signed_public_key": text_signed_public_key(keys["text.card_key"], signer),
    }


# ---------------------------------------------------------------------------------------------
# 券面事項確認AP (card-face AP)
# ---------------------------------------------------------------------------------------------

TAG_AGE_RECORD = 0xFF10
TAG_CARD_FACE = 0xFF20
TAG_VISUAL_AP_BASIC = 0xFF30
TAG_MY_NUMBER_IMAGE = 0xFF40
SHA256_ALGORITHM_IDENTIFIER = bytes.fromhex("300d06096086480165030402010500")
"""AlgorithmIdentifier { sha256, NULL } of a DigestInfo."""


def _signed_record(tag: int, signed: bytes, signature_tag: int, signer: PrivateKey) -> bytes:
    """``<tag> 82 HH LL { signed <signature_tag> 82 01 00 <PKCS#1 v1.5 SHA-256 over signed> }``."""
    return tlv(tag, signed + tlv(signature_tag, sign_pkcs1_sha256(signer, signed)), "long")


def visual_age_record(persona: Persona, card_key: PrivateKey, signer: PrivateKey) -> bytes:
    """Visual EF 0001 (年齢確認): ``FF 10 82 02 1E { DF 11 08 YYYYMMDD DF 12 82 01 09 <key 001A>
    DF 13 82 01 00 <signature over DF11 ‖ DF12> }``."""
    signed = tlv(0xDF11, f"{persona.birth_date:%Y%m%d}".encode("ascii")) + tlv(
        0xDF12, rsa_public_key_template(_rsa_public(card_key))
    )
    return _signed_record(TAG_AGE_RECORD, signed, 0xDF13, signer)


def card_face_digest_info(face_fields: Mapping[int, bytes]) -> bytes:
    """DigestInfo(SHA-256) whose digest is SHA-256(DF22‖DF23‖DF24) ‖ SHA-256(DF25‖DF26) ‖
    SHA-256(DF27), each over the complete TLVs (tag, length and value) as stored."""
    groups = ((0xDF22, 0xDF23, 0xDF24), (0xDF25, 0xDF26), (0xDF27,))
    digest = b"".join(sha256(b"".join(face_fields[tag] for tag in group)) for group in groups)
    return tlv(0x30, SHA256_ALGORITHM_IDENTIFIER + tlv(0x04, digest))


def visual_card_face(
    persona: Persona, card_key: PrivateKey, signer: PrivateKey, sizes: ImageSizes = DEFAULT_IMAGE_SIZES
) -> bytes:
    """Visual EF 0002 (券面): ``FF 20 82 HH LL { DF 21 12 <9 offsets> DF 22 生年月日 DF 23 性別
    DF 24 <key 001A> DF 25 氏名 PNG DF 26 住所 PNG DF 27 顔写真 JP2 DF 28 <signature>
    DF 29 有効期限 DF 2A セキュリティコード PNG }``. DF29 and DF2A follow the signature, unsigned."""
    face = {
        0xDF22: tlv(0xDF22, f"{persona.birth_date:%Y%m%d}".encode("ascii")),
        0xDF23: tlv(0xDF23, str(int(persona.sex)).encode("ascii")),
        0xDF24: tlv(0xDF24, rsa_public_key_template(_rsa_public(card_key))),
        0xDF25: tlv(0xDF25, render_name(persona, sizes)),
        0xDF26: tlv(0xDF26, render_address(persona, sizes)),
        0xDF27: tlv(0xDF27, render_photo(persona, sizes)),
    }
    face[0xDF28] = tlv(0xDF28, sign_digest_info(signer, card_face_digest_info(face)))
    face[0xDF29] = tlv(0xDF29, f"{persona.card_expiry:%Y%m%d}".encode("ascii"))
    face[0xDF2A] = tlv(0xDF2A, render_security_code(persona, sizes))
    return with_offset_table(TAG_CARD_FACE, [face[tag] for tag in sorted(face)], "short")


def visual_ap_basic(
    municipality_code: str, key_id: bytes, identification: bytes, version: int, reference: bytes
) -> bytes:
    """Visual EF 0003 (AP basic data): ``FF 30 82 01 3B { DF 31 04 <id> DF 32 10 <key id>
    DF 33 01 <version> DF 34 05 <全国地方公共団体コード> DF 35 82 01 10 <16-byte key id + 256 opaque> }``."""
    if len(reference) != 16 + 256:
        raise ValueError("DF35 is a 16-byte key id followed by 256 bytes")
    value = (
        tlv(0xDF31, identification)
        + tlv(0xDF32, key_id)
        + tlv(0xDF33, bytes([version]))
        + tlv(0xDF34, municipality_code.encode("ascii"))
        + tlv(0xDF35, reference)
    )
    return tlv(TAG_VISUAL_AP_BASIC, value)


def visual_my_number_image(
    persona: Persona, card_key: PrivateKey, signer: PrivateKey, sizes: ImageSizes = DEFAULT_IMAGE_SIZES
) -> bytes:
    """Visual EF 0005: ``FF 40 L { DF 41 <個人番号 PNG 72×12> DF 42 <key 001A> DF 43 <signature
    over DF41 ‖ DF42> }``."""
    signed = tlv(0xDF41, render_my_number(persona, sizes)) + tlv(
        0xDF42, rsa_public_key_template(_rsa_public(card_key))
    )
    return _signed_record(TAG_MY_NUMBER_IMAGE, signed, 0xDF43, signer)


def visual_contents(
    persona: Persona, keys: Mapping[str, PrivateKey], pki: TestPki, options: RecordOptions = RecordOptions()
) -> dict[str, bytes]:
    """Every 券面事項確認AP EF content, keyed by source name."""
    card_key, signer, sizes = keys["visual.card_key"], pki.visual_issuer.signer_key, options.image_sizes
    reference = cv_key_id(options.visual_ap_reference_key_number) + _derived_bytes(
        persona, "visual-df35", 256
    )
    return {
        "visual.age_record": visual_age_record(persona, card_key, signer),
        "visual.card_face": visual_card_face(persona, card_key, signer, sizes),
        "visual.ap_basic": visual_ap_basic(
            persona.municipality_code,
            cv_key_id(options.visual_ap_key_number),
            options.visual_ap_identification,
            options.visual_ap_version,
            reference,
        ),
        "visual.cv_certificate": pki.visual_issuer.cv_certificate(),
        "visual.my_number_image": visual_my_number_image(persona, card_key, signer, sizes),
    }


# ---------------------------------------------------------------------------------------------
# 共通カードAP (common card AP)
# ---------------------------------------------------------------------------------------------


def common_card_info(persona: Persona) -> bytes:
    """Common EF 0001 record 1 (simple-TLV): ``01 1C`` + card serial (15) + 全国地方公共団体コード (5)
    + 有効期限 ``YYYYMMDD`` (8), all ASCII digits."""
    digits = f"{persona.card_serial}{persona.municipality_code}{persona.card_expiry:%Y%m%d}".encode("ascii")
    return bytes([0x01, len(digits)]) + digits


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------


def build_contents(
    persona: Persona, keys: Mapping[str, PrivateKey], pki: TestPki, options: RecordOptions = RecordOptions()
) -> dict[str, bytes]:
    """Every EF content of today's card for ``persona``, keyed by source name.

    ``keys`` maps the ids of ``emulator.pki.CARD_KEY_IDS`` to the card's private keys.
    ``jpki.sign_certificate`` is absent for a holder without a signature certificate.
    """
    return (
        jpki_contents(persona, keys, pki, options)
        | text_contents(persona, keys, pki, options)
        | visual_contents(persona, keys, pki, options)
        | {"common.card_info": common_card_info(persona)}
    )
