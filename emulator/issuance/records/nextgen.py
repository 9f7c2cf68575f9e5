"""Byte-exact EF contents of the next card, ``nextgen-2026`` (spec nextgen-2026 §2).

Pure functions like ``records/legacy.py``: a persona, the card's keys and a nextgen-2026 TEST PKI in;
bytes out. No layout below is published: every one is ASSUMED (nextgen §2.2: "layout ASSUMED"), modelled
on today's records (spec current-card §3.2, §3.3). Hex lengths are for the fixed-size parts.

Signatures: ECDSA P-384 with SHA-384, as the plain ``r ‖ s`` (96 bytes, BSI TR-03111, as the card's own
signing answers, nextgen §3), RFC 6979 nonces, by the 券面署名鍵 whose certificate is 券面等AP EF 0005.
Every signature covers **the record's outer value up to its signature object** (offset table and every
field before it, tags and lengths included): today's rule for the age record and the 個人番号 image ("each
signature covers the bytes before DF13/DF43", MC), now for every record, so nothing in a record is left
unsigned (today's card face leaves 有効期限 unsigned) and the verifier needs no digest grouping.

認証AP (authentication AP)
  * EF 0003 個人番号 (LEGACY format, spec §2.1): ``FF 10 0C`` + 12 ASCII digits + ``FF FF`` (17 bytes).
  * EF 0004 attributes: ``FF 20 L { DF 21 0C <6 offsets> DF 22 氏名 DF 23 住所 DF 24 生年月日 YYYYMMDD
    DF 25 性別 DF 26 フリガナ DF 27 ローマ字氏名 }`` (DF26/27 SOURCED content, tags ASSUMED by the spec).
    DF 22/23/26 are UTF-8, DF 24/25/27 ASCII; each offset counts from the start of the file and points at
    a field's tag, as today. Outer length: ``[personalisation] attributes_length_form`` (today's §9.5).
  * EF 0005 integrity record, 206 bytes: ``FF 30 82 00 C9 { DF 31 30 <SHA-384 of EF 0003, all 17 bytes>
    DF 32 30 <SHA-384 of EF 0004's outer value after the DF21 table> DF 33 60 <r ‖ s over DF31 ‖ DF32> }``:
    today's DF31/DF32/DF33 with 48-byte digests and a 96-byte signature; the fixed ``82 HH LL`` outer
    length as today's 336-byte record has it.
  * EF 0006 token information: today's 160-byte ``CK_TOKEN_INFO`` with the label ``JPKIAPICCTOKEN3`` +
    17 spaces (label ASSUMED, spec §2.1; the other fields are today's MC sample values).
  * EF 0007 住民票コード: the 11 ASCII digits, nothing else (spec §2.1 "11 ASCII digits").
  * EF 0001/0002/000A/000B and 0009: DER X.509 certificates (see ``pki``).

券面等AP (card-face AP). Tag rule: a tag keeps the meaning it has in today's record of the same kind
(券面事項確認AP EF 0002 card face, EF 0005 個人番号 image; 入力補助AP EF 0002 4情報), so a parser of
today's records still finds the fields both cards share; a tag whose content changed kind (today's RSA
public key DF24/DF42, RSA signature DF28/DF43) or that has no content (DF2A セキュリティコード image: the
next card has no security code) is left unused rather than given a new meaning; new fields take the next
numbers, and the signature comes last.

  * EF 0001 front record: ``FF 20 L { DF 21 16 <11 offsets> DF 22 生年月日 YYYYMMDD (western calendar)
    DF 23 性別 DF 25 氏名 image (1-bit PNG) DF 26 住所 image (1-bit PNG) DF 27 顔写真 (greyscale JPEG 2000,
    JP2) DF 29 有効期限 YYYYMMDD DF 2B 氏名 (UTF-8) DF 2C 住所 (UTF-8) DF 2D フリガナ (UTF-8)
    DF 2E ローマ字氏名 (ASCII) DF 2F 60 <r ‖ s> }``. 性別 is chip data only (off the printed face, §1).
  * EF 0002 back record: ``FF 40 L { DF 41 個人番号 image (1-bit PNG, 72×12) DF 44 0C <12 ASCII digits>
    DF 45 60 <r ‖ s> }``.
  * EF 0003 4情報 + signature: ``FF 20 L { DF 21 0A <5 offsets> DF 22 氏名 DF 23 住所 DF 24 生年月日
    DF 25 性別 DF 28 60 <r ‖ s> }``: today's 入力補助 EF 0002 fields; DF28 because DF26/DF27 mean
    フリガナ/ローマ字氏名 in 認証AP EF 0004.
  * EF 0004 個人番号 + signature, 117 bytes: ``FF 40 72 { DF 44 0C <12 ASCII digits> DF 45 60 <r ‖ s> }``:
    the back record without its image, so one parser reads both.
  * EF 0005: DER X.509 certificate of the 券面署名鍵, issued by the card issuer TEST CA.

The 券面等AP records use minimal BER lengths (``81 LL`` / ``82 HH LL`` only when needed), as today's card
face does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from mynacard.apdu.tlv import ber_decode, ber_decode_all
from mynacard.emulator.issuance.imaging import (
    DEFAULT_IMAGE_SIZES,
    ImageSizes,
    render_address,
    render_my_number,
    render_name,
    render_photo,
)
from mynacard.emulator.issuance.personas import Persona
from mynacard.emulator.issuance.pki import (
    NEXTGEN_2026,
    PkiGenerationError,
    PrivateKey,
    TestPki,
    issue_auth_certificate,
    issue_ia_certificate,
    issue_sign_certificate,
    sign_ecdsa_sha384,
)
from mynacard.emulator.issuance.records.common import (
    LengthForm,
    attributes_digest_source,
    basic_attribute_fields,
    sha384,
    tlv,
    with_offset_table,
)
from mynacard.emulator.issuance.records.legacy import RecordOptions, text_my_number, token_info

__all__ = [
    "DEFAULT_OPTIONS",
    "SIGNATURE_LENGTH",
    "TOKEN_LABEL",
    "NextgenCertificates",
    "attributes",
    "auth_data_contents",
    "build_contents",
    "face_attributes",
    "face_back",
    "face_contents",
    "face_front",
    "face_my_number",
    "ia_certificate",
    "integrity",
    "issue_certificates",
    "jpki_contents",
    "my_number",
    "resident_code",
    "signed_part",
]

TOKEN_LABEL = "JPKIAPICCTOKEN3"
"""認証AP EF 0006 label (ASSUMED, spec §2.1); the profile's ``token_label`` overrides it."""
DEFAULT_OPTIONS = RecordOptions(token_label=TOKEN_LABEL)
"""Today's record options with the next card's token label."""
SIGNATURE_LENGTH = 96
"""ECDSA P-384 ``r ‖ s``."""

TAG_MY_NUMBER = 0xFF10
TAG_ATTRIBUTES = 0xFF20
TAG_INTEGRITY = 0xFF30
TAG_FACE_FRONT = 0xFF20
TAG_FACE_BACK = 0xFF40
TAG_FACE_ATTRIBUTES = 0xFF20
TAG_FACE_MY_NUMBER = 0xFF40


def _require_nextgen(pki: TestPki) -> TestPki:
    if pki.generation != NEXTGEN_2026:
        raise PkiGenerationError(
            f"the next card's records need a {NEXTGEN_2026} TEST PKI, not {pki.generation}"
        )
    return pki


def _p384_public(keys: Mapping[str, PrivateKey], key_id: str) -> ec.EllipticCurvePublicKey:
    key = keys[key_id]
    if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP384R1):
        raise TypeError(f'{key_id}: the next card\'s keys are P-384 (algorithm = "ec-p384")')
    return key.public_key()


def _der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


# ---------------------------------------------------------------------------------------------
# 認証AP: certificates and token information
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NextgenCertificates:
    """The 認証AP's JPKI certificates (``sign`` is None for a holder under 15)."""

    sign: x509.Certificate | None
    sign_ca: x509.Certificate
    auth: x509.Certificate
    auth_ca: x509.Certificate


def issue_certificates(
    persona: Persona, keys: Mapping[str, PrivateKey], pki: TestPki, options: RecordOptions = DEFAULT_OPTIONS
) -> NextgenCertificates:
    """署名用/利用者証明用 certificates of ``nextgen.sign_key``/``nextgen.auth_key``, with their CAs.

    The rule for minors is today's (``Persona.signature_certificate``: none under 15 at issuance);
    nothing in the task force's documents changes it.
    """
    _require_nextgen(pki)
    when = options.issuance(persona)
    sign = None
    if persona.signature_certificate:
        sign_key = _p384_public(keys, "nextgen.sign_key")
        sign = issue_sign_certificate(persona, sign_key, pki.sign_root, not_before=when, profile=pki.profile)
    auth_key = _p384_public(keys, "nextgen.auth_key")
    auth = issue_auth_certificate(persona, auth_key, pki.auth_root, not_before=when, profile=pki.profile)
    return NextgenCertificates(sign, pki.sign_root.certificate, auth, pki.auth_root.certificate)


def jpki_contents(
    persona: Persona, keys: Mapping[str, PrivateKey], pki: TestPki, options: RecordOptions = DEFAULT_OPTIONS
) -> dict[str, bytes]:
    """認証AP EF 0001, 0002, 000A, 000B and 0006, keyed by source name (no 0001 for a holder under 15)."""
    certificates = issue_certificates(persona, keys, pki, options)
    contents = {
        "nextgen.sign_ca_certificate": _der(certificates.sign_ca),
        "nextgen.auth_certificate": _der(certificates.auth),
        "nextgen.auth_ca_certificate": _der(certificates.auth_ca),
        "nextgen.token_info": token_info(options.token_label, options.token_info),
    }
    if certificates.sign is not None:
        contents["nextgen.sign_certificate"] = _der(certificates.sign)
    return contents


def ia_certificate(
    persona: Persona, keys: Mapping[str, PrivateKey], pki: TestPki, options: RecordOptions = DEFAULT_OPTIONS
) -> bytes:
    """認証AP EF 0009: DER certificate of ``nextgen.ia_key`` (内部認証鍵), by the card issuer TEST CA."""
    public, ca = _p384_public(keys, "nextgen.ia_key"), _require_nextgen(pki).card_issuer.ca
    when = options.issuance(persona)
    return _der(issue_ia_certificate(persona, public, ca, not_before=when, profile=pki.profile))


# ---------------------------------------------------------------------------------------------
# 認証AP: 個人番号, attributes, integrity record, 住民票コード
# ---------------------------------------------------------------------------------------------


def my_number(persona: Persona, filler: bytes = b"\xff\xff") -> bytes:
    """認証AP EF 0003 (個人番号): today's ``FF 10 0C`` + 12 ASCII digits + ``FF FF`` (LEGACY format)."""
    return text_my_number(persona, filler)


def attributes(persona: Persona, form: LengthForm = "short") -> bytes:
    """認証AP EF 0004: today's 4情報 ``FF 20`` record plus ``DF 26`` フリガナ and ``DF 27`` ローマ字氏名."""
    fields = [
        *basic_attribute_fields(persona),
        tlv(0xDF26, persona.furigana.encode("utf-8")),
        tlv(0xDF27, persona.romanised_name.encode("ascii")),
    ]
    return with_offset_table(TAG_ATTRIBUTES, fields, form)


def integrity(my_number_file: bytes, attributes_file: bytes, signer: PrivateKey) -> bytes:
    """認証AP EF 0005 (206 bytes): ``FF 30 82 00 C9 { DF 31 30 <SHA-384 of EF 0003> DF 32 30 <SHA-384 of
    EF 0004 after DF21> DF 33 60 <r ‖ s over DF31 ‖ DF32> }``."""
    signed = tlv(0xDF31, sha384(my_number_file)) + tlv(
        0xDF32, sha384(attributes_digest_source(attributes_file))
    )
    return tlv(TAG_INTEGRITY, signed + tlv(0xDF33, sign_ecdsa_sha384(signer, signed)), "long")


def resident_code(persona: Persona) -> bytes:
    """認証AP EF 0007 (住民票コード): the 11 ASCII digits."""
    return persona.resident_code.encode("ascii")


def auth_data_contents(
    persona: Persona, pki: TestPki, options: RecordOptions = DEFAULT_OPTIONS
) -> dict[str, bytes]:
    """認証AP EF 0003, 0004, 0005 and 0007, keyed by source name."""
    number = my_number(persona, options.my_number_filler)
    attribute_file = attributes(persona, options.attributes_length_form)
    signer = _require_nextgen(pki).card_issuer.face_signer.key
    return {
        "nextgen.my_number": number,
        "nextgen.attributes": attribute_file,
        "nextgen.integrity": integrity(number, attribute_file, signer),
        "nextgen.resident_code": resident_code(persona),
    }


# ---------------------------------------------------------------------------------------------
# 券面等AP
# ---------------------------------------------------------------------------------------------


def signed_part(record: bytes) -> bytes:
    """What a record's signature covers: its outer value up to the last object (the signature)."""
    value = ber_decode(record).value
    return value[: ber_decode_all(value)[-1].offset]


def _signed(tag: int, fields: list[bytes], signature_tag: int, signer: PrivateKey) -> bytes:
    """``<tag> L { fields <signature_tag> 60 <r ‖ s over the fields> }``."""
    signed = b"".join(fields)
    return tlv(tag, signed + tlv(signature_tag, sign_ecdsa_sha384(signer, signed)))


def _signed_with_offsets(tag: int, fields: list[bytes], signature_tag: int, signer: PrivateKey) -> bytes:
    """``<tag> L { DF 21 <offsets of fields and signature> fields <signature_tag> 60 <r ‖ s> }``, the
    signature over the offset table and the fields (the signature's size is fixed, so the table is too)."""
    placeholder = tlv(signature_tag, bytes(SIGNATURE_LENGTH))
    draft = with_offset_table(tag, [*fields, placeholder], "short")
    unsigned = draft[: len(draft) - len(placeholder)]
    return unsigned + tlv(signature_tag, sign_ecdsa_sha384(signer, signed_part(draft)))


def face_front(persona: Persona, signer: PrivateKey, sizes: ImageSizes = DEFAULT_IMAGE_SIZES) -> bytes:
    """券面等AP EF 0001 (front record, 券面 表面): 4情報, フリガナ, ローマ字氏名, western birth date,
    the next card's 有効期限, 氏名/住所 images and the monochrome photo, signed (layout in the module doc)."""
    fields = [
        tlv(0xDF22, f"{persona.birth_date:%Y%m%d}".encode("ascii")),
        tlv(0xDF23, str(int(persona.sex)).encode("ascii")),
        tlv(0xDF25, render_name(persona, sizes)),
        tlv(0xDF26, render_address(persona, sizes)),
        tlv(0xDF27, render_photo(persona, sizes)),
        tlv(0xDF29, f"{persona.nextgen_card_expiry:%Y%m%d}".encode("ascii")),
        tlv(0xDF2B, persona.name.encode("utf-8")),
        tlv(0xDF2C, persona.address.encode("utf-8")),
        tlv(0xDF2D, persona.furigana.encode("utf-8")),
        tlv(0xDF2E, persona.romanised_name.encode("ascii")),
    ]
    return _signed_with_offsets(TAG_FACE_FRONT, fields, 0xDF2F, signer)


def _my_number_digits(persona: Persona) -> bytes:
    return tlv(0xDF44, persona.my_number.encode("ascii"))


def face_back(persona: Persona, signer: PrivateKey, sizes: ImageSizes = DEFAULT_IMAGE_SIZES) -> bytes:
    """券面等AP EF 0002 (back record, 券面 裏面): ``FF 40 L { DF 41 <個人番号 PNG> DF 44 0C <12 digits>
    DF 45 60 <r ‖ s> }``."""
    fields = [tlv(0xDF41, render_my_number(persona, sizes)), _my_number_digits(persona)]
    return _signed(TAG_FACE_BACK, fields, 0xDF45, signer)


def face_attributes(persona: Persona, signer: PrivateKey) -> bytes:
    """券面等AP EF 0003 (4情報, today's 入力補助): ``FF 20 L { DF 21 0A <5 offsets> DF 22 .. DF 25
    DF 28 60 <r ‖ s> }``."""
    return _signed_with_offsets(TAG_FACE_ATTRIBUTES, basic_attribute_fields(persona), 0xDF28, signer)


def face_my_number(persona: Persona, signer: PrivateKey) -> bytes:
    """券面等AP EF 0004 (個人番号, today's 入力補助), 117 bytes: ``FF 40 72 { DF 44 0C <12 digits>
    DF 45 60 <r ‖ s> }``."""
    return _signed(TAG_FACE_MY_NUMBER, [_my_number_digits(persona)], 0xDF45, signer)


def face_contents(
    persona: Persona, pki: TestPki, options: RecordOptions = DEFAULT_OPTIONS
) -> dict[str, bytes]:
    """Every 券面等AP EF content, keyed by source name."""
    face_signer = _require_nextgen(pki).card_issuer.face_signer
    signer, sizes = face_signer.key, options.image_sizes
    return {
        "nextgen.face_front": face_front(persona, signer, sizes),
        "nextgen.face_back": face_back(persona, signer, sizes),
        "nextgen.face_attributes": face_attributes(persona, signer),
        "nextgen.face_my_number": face_my_number(persona, signer),
        "nextgen.face_signer_certificate": _der(face_signer.certificate),
    }


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------


def build_contents(
    persona: Persona, keys: Mapping[str, PrivateKey], pki: TestPki, options: RecordOptions = DEFAULT_OPTIONS
) -> dict[str, bytes]:
    """Every EF content of the next card for ``persona``, keyed by source name.

    ``keys`` maps ``pki.NEXTGEN_CARD_KEY_IDS`` to the card's P-384 keys. ``nextgen.sign_certificate``
    is absent for a holder without a signature certificate.
    """
    return (
        jpki_contents(persona, keys, pki, options)
        | {"nextgen.ia_certificate": ia_certificate(persona, keys, pki, options)}
        | auth_data_contents(persona, pki, options)
        | face_contents(persona, pki, options)
    )
