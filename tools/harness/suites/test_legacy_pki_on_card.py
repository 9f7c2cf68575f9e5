"""legacy-2016 PKI as a host sees it through ``transmit``: signatures by the card's JPKI keys verify with the
certificates read from the card, those certificates chain to the TEST roots and carry the persona's data,
and the 券面 AP records verify with the TEST issuer keys through the CV certificates read from EF 0004.

Spec §3.1, §3.2, §3.3, §3.6, §4.6, §6; issue 3 "What it must show".
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding

from mynacard.apdu.readers.base import Reader
from mynacard.emulator.card import Card
from mynacard.emulator.issuance.personas import load_persona
from mynacard.emulator.issuance.pki import CvIssuer, TestPki
from mynacard.tools.harness.suites.helpers import (
    JPKI_AID,
    OK,
    SECURITY_NOT_SATISFIED,
    TEXT_AID,
    VISUAL_AID,
    Ber,
    apdu,
    ber_at,
    ber_children,
    ber_header_total,
    expect,
    read_binary_chunks,
    select_aid,
    select_ef,
    sha256_digest_info,
    verify_selected,
    verify_sfi,
)

pytestmark = [
    pytest.mark.applies_to("legacy-2016"),
    pytest.mark.capability("signatures"),
    pytest.mark.clause("current-card §6 (JPKI certificates and keys)"),
]

CardFactory = Callable[..., Card]
ReaderFor = Callable[[Card], Reader]

MESSAGE = b"mynacard conformance: data to be signed"


def read_certificate(reader: Reader, fid: int) -> x509.Certificate:
    """OpenSC's pattern (§4.2): SELECT, a 4-byte probe ``30 82 HH LL``, then the whole file in chunks."""
    select_ef(reader, fid)
    head = expect(reader, "00 B0 00 00 04", OK).data
    assert head[:2] == b"\x30\x82"
    der = read_binary_chunks(reader, int.from_bytes(head[2:4], "big") + 4)
    return x509.load_der_x509_certificate(der)


def read_ber_file(reader: Reader, fid: int) -> bytes:
    """MYNA's pattern (§4.2): a 7-byte header probe, then the rest by the BER length."""
    select_ef(reader, fid)
    head = expect(reader, "00 B0 00 00 07", OK).data
    return head + read_binary_chunks(reader, ber_header_total(head), start=7)


def rsa_key(certificate: x509.Certificate) -> rsa.RSAPublicKey:
    key = certificate.public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    assert key.key_size == 2048
    return key


def sign_command(p2: int, digest_info: bytes) -> bytes:
    """``80 2A 00 <P2> Lc <DigestInfo> 00`` (§4.6): case 4, Le 00 → 256 bytes."""
    return apdu(f"80 2A 00 {p2:02X}", digest_info) + b"\x00"


# --- JPKI signatures with the keys' own certificates --------------------------------------------------


def test_auth_key_signature_verifies_with_the_auth_certificate_read_from_the_card(reader: Reader) -> None:
    persona = load_persona("default")
    select_aid(reader, JPKI_AID)
    certificate = read_certificate(reader, 0x000A)  # free to read
    verify_selected(reader, 0x0018, persona.auth_pin.encode())
    select_ef(reader, 0x0017)
    digest_info = sha256_digest_info(MESSAGE)
    signature = expect(reader, sign_command(0x80, digest_info), OK).data
    assert len(signature) == 256
    rsa_key(certificate).verify(signature, MESSAGE, padding.PKCS1v15(), hashes.SHA256())


def test_sign_key_signature_verifies_with_the_sign_certificate_read_from_the_card(reader: Reader) -> None:
    persona = load_persona("default")
    select_aid(reader, JPKI_AID)
    verify_selected(reader, 0x001B, persona.sign_password.encode())
    certificate = read_certificate(reader, 0x0001)
    digest_info = sha256_digest_info(MESSAGE)
    select_ef(reader, 0x001A)
    by_selection = expect(reader, sign_command(0x80, digest_info), OK).data
    by_sfi = expect(reader, sign_command(0x9A, digest_info), OK).data  # 80 2A 00 9A: key 001A by SFI
    for signature in (by_selection, by_sfi):
        rsa_key(certificate).verify(signature, MESSAGE, padding.PKCS1v15(), hashes.SHA256())
    assert by_selection == by_sfi  # PKCS#1 v1.5 is deterministic: "byte-identical either way" (§4.6)


def test_a_signature_does_not_verify_with_the_other_certificate(reader: Reader) -> None:
    """The auth key and the sign key are different keys: each signature verifies only with its own cert."""
    persona = load_persona("default")
    select_aid(reader, JPKI_AID)
    verify_selected(reader, 0x001B, persona.sign_password.encode())
    sign_certificate = read_certificate(reader, 0x0001)
    verify_sfi(reader, 0x0018, persona.auth_pin.encode())
    digest_info = sha256_digest_info(MESSAGE)
    by_auth_key = expect(reader, sign_command(0x97, digest_info), OK).data
    with pytest.raises(InvalidSignature):
        rsa_key(sign_certificate).verify(by_auth_key, MESSAGE, padding.PKCS1v15(), hashes.SHA256())


@pytest.mark.parametrize(("key", "p2"), [(0x0017, 0x80), (0x001A, 0x80), (0x0017, 0x97), (0x001A, 0x9A)])
def test_signing_without_the_credential_is_refused(reader: Reader, key: int, p2: int) -> None:
    select_aid(reader, JPKI_AID)
    if p2 == 0x80:
        select_ef(reader, key)
    digest_info = sha256_digest_info(MESSAGE)
    expect(reader, sign_command(p2, digest_info), SECURITY_NOT_SATISFIED, b"")


# --- the chain and the certificates' content ----------------------------------------------------------


def test_certificates_read_from_the_card_chain_to_the_test_roots(reader: Reader, test_pki: TestPki) -> None:
    persona = load_persona("default")
    select_aid(reader, JPKI_AID)
    auth = read_certificate(reader, 0x000A)
    auth_ca = read_certificate(reader, 0x000B)
    sign_ca = read_certificate(reader, 0x0002)
    verify_selected(reader, 0x001B, persona.sign_password.encode())
    sign = read_certificate(reader, 0x0001)

    # the CA EFs hold the TEST roots themselves, self-signed
    assert auth_ca == test_pki.auth_root.certificate
    assert sign_ca == test_pki.sign_root.certificate
    for root in (auth_ca, sign_ca):
        root.verify_directly_issued_by(root)
        assert root.subject.get_attributes_for_oid(x509.NameOID.ORGANIZATION_NAME)[0].value == "JPKI-TEST"
    auth.verify_directly_issued_by(test_pki.auth_root.certificate)
    sign.verify_directly_issued_by(test_pki.sign_root.certificate)
    with pytest.raises((ValueError, InvalidSignature)):
        auth.verify_directly_issued_by(test_pki.sign_root.certificate)
    with pytest.raises((ValueError, InvalidSignature)):
        sign.verify_directly_issued_by(test_pki.auth_root.certificate)

    # §6: sign = digitalSignature + nonRepudiation, auth = digitalSignature only, both critical
    sign_usage = sign.extensions.get_extension_for_class(x509.KeyUsage)
    auth_usage = auth.extensions.get_extension_for_class(x509.KeyUsage)
    assert sign_usage.critical and auth_usage.critical
    assert (sign_usage.value.digital_signature, sign_usage.value.content_commitment) == (True, True)
    assert (auth_usage.value.digital_signature, auth_usage.value.content_commitment) == (True, False)
    # the auth certificate carries none of the personal attributes
    with pytest.raises(x509.ExtensionNotFound):
        auth.extensions.get_extension_for_class(x509.SubjectAlternativeName)


JPKI_ATTRIBUTES = "1.2.392.200149.8.5.5"
OTHER_NAME_ORDER = [f"{JPKI_ATTRIBUTES}.{n}" for n in (1, 4, 3, 5, 2, 6)]
"""§6: the order in a real certificate: 氏名, 生年月日, 性別, 住所, 氏名代替文字, 住所代替文字."""

BIRTH_E_YYYYMMDD = {"default": "319800217", "long-address": "319721103", "multi-part-name": "419890108"}
"""§6 5.5.4: era number (3 昭和, 4 平成) + the Gregorian date, worked out by hand for each persona."""
CERT_SEX = {"default": "1", "long-address": "2", "multi-part-name": "2"}


@pytest.mark.parametrize("persona_id", sorted(BIRTH_E_YYYYMMDD))
def test_sign_certificate_other_names_decode_to_the_persona(
    persona_id: str, make_card: CardFactory, reader_for: ReaderFor
) -> None:
    persona = load_persona(persona_id)
    reader = reader_for(make_card(persona=persona_id))
    select_aid(reader, JPKI_AID)
    verify_sfi(reader, 0x001B, persona.sign_password.encode())
    der = read_certificate(reader, 0x0001).public_bytes(Encoding.DER)

    parsed = asn1_x509.Certificate.load(der)
    names = parsed.subject_alt_name_value
    assert names is not None
    decoded = []
    for general_name in names:
        assert general_name.name == "other_name"
        value = general_name.chosen["value"]
        # [0] EXPLICIT UTF8String
        assert value.dump()[:1] == b"\xa0"
        assert value.parsed.tag == 12 and value.parsed.class_ == 0  # UTF8String
        decoded.append((general_name.chosen["type_id"].dotted, value.parsed.native))
    assert decoded == list(
        zip(
            OTHER_NAME_ORDER,
            [
                persona.name,
                BIRTH_E_YYYYMMDD[persona_id],
                CERT_SEX[persona_id],
                persona.address,
                persona.name_alt_chars,
                persona.address_alt_chars,
            ],
            strict=True,
        )
    )


def test_multi_part_name_keeps_its_full_width_spaces() -> None:
    assert load_persona("multi-part-name").name.count("\u3000") == 2


def test_under_15_card_has_no_signature_certificate(make_card: CardFactory, reader_for: ReaderFor) -> None:
    reader = reader_for(make_card(persona="child-under-15"))
    select_aid(reader, JPKI_AID)
    select_ef(reader, 0x0008)
    expect(reader, "00 B0 00 00 03", OK, bytes.fromhex("00 8F 00"))  # §3.1 (ASSUMED value, MC)
    read_certificate(reader, 0x000A)  # the auth certificate is still there


def test_adult_card_has_both_certificates(reader: Reader) -> None:
    select_aid(reader, JPKI_AID)
    select_ef(reader, 0x0008)
    expect(reader, "00 B0 00 00 03", OK, bytes.fromhex("8F 8F 00"))


# --- 券面 AP records and their CV certificates ----------------------------------------------------------


def cv_signer_key(cv_certificate: bytes, issuer: CvIssuer, issuer_number: bytes) -> rsa.RSAPublicKey:
    """§3.6: ``7F 21 82 02 33 { 5F 4E 82 01 29 <issuer id ‖ subject id ‖ 90 03 e 91 82 01 00 n>
    5F 37 82 01 00 <sig> }``; checks the issuer's signature and returns the certified key."""
    assert len(cv_certificate) == 568
    outer = ber_at(cv_certificate)
    assert outer.tag == 0x7F21 and cv_certificate[:5] == bytes.fromhex("7F 21 82 02 33")
    body, signature = ber_children(outer.value)
    assert (body.tag, len(body.value), signature.tag, len(signature.value)) == (0x5F4E, 297, 0x5F37, 256)
    issuer_id, subject_id, key = body.value[:16], body.value[16:32], body.value[32:]
    assert issuer_id[:7] == issuer_number and issuer_id[7:9] == b"\x08\x05"  # test-hierarchy issuer id
    assert (issuer_id, subject_id) == (issuer.ca_key_id, issuer.signer_key_id)
    ca_public = issuer.ca_key.public_key()
    assert isinstance(ca_public, rsa.RSAPublicKey)
    ca_public.verify(signature.value, body.value, padding.PKCS1v15(), hashes.SHA256())
    return rsa_public_from_template(key)


def rsa_public_from_template(template: bytes) -> rsa.RSAPublicKey:
    """``90 03 01 00 01 91 82 01 00 <modulus>`` (§3.2/§3.6)."""
    exponent, modulus = ber_children(template)
    assert (exponent.tag, exponent.value, modulus.tag, len(modulus.value)) == (
        0x90,
        b"\x01\x00\x01",
        0x91,
        256,
    )
    return rsa.RSAPublicNumbers(65537, int.from_bytes(modulus.value, "big")).public_key()


def offsets_point_at_tags(file: bytes, count: int) -> list[Ber]:
    """The DF21 table: ``count`` 2-byte offsets from the start of the file, each at the tag of the next
    field in order (§3.2, §3.3)."""
    outer = ber_at(file)
    table, *fields = ber_children(outer.value)
    assert table.tag == 0xDF21 and len(table.value) == 2 * count
    offsets = [int.from_bytes(table.value[i : i + 2], "big") for i in range(0, 2 * count, 2)]
    assert offsets == [outer.header + f.start for f in fields]
    return fields


def test_card_face_signature_verifies_with_the_visual_issuer(reader: Reader, test_pki: TestPki) -> None:
    persona = load_persona("default")
    select_aid(reader, VISUAL_AID)
    cv = read_ber_file(reader, 0x0004)  # free
    verify_sfi(reader, 0x0013, persona.verification_code_a.encode())  # 照合番号A
    face = read_ber_file(reader, 0x0002)
    signer = cv_signer_key(cv, test_pki.visual_issuer, b"6000023")

    fields = {f.tag: f for f in offsets_point_at_tags(face, 9)}
    assert sorted(fields) == list(range(0xDF22, 0xDF2B))

    value = ber_at(face).value

    def tlv(tag: int) -> bytes:  # the complete TLV as stored: tag, length and value
        return value[fields[tag].start : fields[tag].end]

    digest = (
        hashlib.sha256(tlv(0xDF22) + tlv(0xDF23) + tlv(0xDF24)).digest()
        + hashlib.sha256(tlv(0xDF25) + tlv(0xDF26)).digest()
        + hashlib.sha256(tlv(0xDF27)).digest()
    )
    # DigestInfo { sha256, NULL } with a 96-byte OCTET STRING: 30 71 30 0D … 04 60 <3 digests>
    expected = bytes.fromhex("30 71 30 0D 06 09 60 86 48 01 65 03 04 02 01 05 00 04 60") + digest
    signature = fields[0xDF28].value
    assert len(signature) == 256
    assert signer.recover_data_from_signature(signature, padding.PKCS1v15(), None) == expected
    # DF29 (expiry) and DF2A (security-code image) follow the signature and are not covered (§3.3)
    assert fields[0xDF29].value == f"{persona.card_expiry:%Y%m%d}".encode()
    assert fields[0xDF22].value == f"{persona.birth_date:%Y%m%d}".encode()


def test_card_face_read_with_verification_code_b_is_the_same_file(reader: Reader) -> None:
    persona = load_persona("default")
    select_aid(reader, VISUAL_AID)
    verify_selected(reader, 0x0013, persona.verification_code_a.encode())
    by_a = read_ber_file(reader, 0x0002)
    select_aid(reader, VISUAL_AID)  # start over, as a second client would
    verify_selected(reader, 0x0012, persona.verification_code_b.encode())
    assert read_ber_file(reader, 0x0002) == by_a


def test_integrity_record_verifies_with_the_text_issuer(reader: Reader, test_pki: TestPki) -> None:
    persona = load_persona("default")
    select_aid(reader, TEXT_AID)
    cv = read_ber_file(reader, 0x0004)
    verify_selected(reader, 0x0011, persona.text_pin.encode())
    select_ef(reader, 0x0001)
    my_number = expect(reader, "00 B0 00 00 11", OK).data
    attributes = read_ber_file(reader, 0x0002)
    select_ef(reader, 0x0003)
    record = read_binary_chunks(reader, 336)
    signer = cv_signer_key(cv, test_pki.text_issuer, b"6000033")

    # §3.2: FF 30 82 01 4B { DF 31 20 <SHA-256 of EF 0001> DF 32 20 <SHA-256 of EF 0002 after DF21>
    #                        DF 33 82 01 00 <signature> }
    assert record[:5] == bytes.fromhex("FF 30 82 01 4B")
    outer = ber_at(record)
    my_number_digest, attributes_digest, signature = ber_children(outer.value)
    assert (my_number_digest.tag, attributes_digest.tag, signature.tag) == (0xDF31, 0xDF32, 0xDF33)
    assert my_number_digest.value == hashlib.sha256(my_number).digest()  # the 17 physical bytes
    attributes_outer = ber_at(attributes)
    after_table = attributes_outer.value[ber_at(attributes_outer.value).end :]
    assert attributes_digest.value == hashlib.sha256(after_table).digest()
    signed = outer.value[: signature.start]  # the DF31 and DF32 objects
    signer.verify(signature.value, signed, padding.PKCS1v15(), hashes.SHA256())


@pytest.mark.parametrize(
    ("fid", "credential", "value_field", "signature_tag"),
    [(0x0001, 0x0011, "birth_date_key", 0xDF13), (0x0005, 0x0013, "verification_code_a", 0xDF43)],
    ids=["age-record", "my-number-image"],
)
def test_visual_records_signed_over_the_bytes_before_the_signature(
    reader: Reader, test_pki: TestPki, fid: int, credential: int, value_field: str, signature_tag: int
) -> None:
    """§3.3: EF 0001 and EF 0005 are signed by the key certified in EF 0004, over the bytes before
    DF13/DF43."""
    persona = load_persona("default")
    select_aid(reader, VISUAL_AID)
    cv = read_ber_file(reader, 0x0004)
    verify_selected(reader, credential, str(getattr(persona, value_field)).encode())
    record = read_ber_file(reader, fid)
    signer = cv_signer_key(cv, test_pki.visual_issuer, b"6000023")
    outer = ber_at(record)
    *_, signature = ber_children(outer.value)
    assert signature.tag == signature_tag and len(signature.value) == 256
    signer.verify(signature.value, outer.value[: signature.start], padding.PKCS1v15(), hashes.SHA256())
