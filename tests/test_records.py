"""Byte-exact EF contents (spec §3) from emulator.records."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from data_fixtures import shared_card_keys, shared_pki

from mynacard.emulator.issuance.personas import Persona, load_persona
from mynacard.emulator.issuance.pki import PrivateKey, TestPki
from mynacard.emulator.issuance.records.legacy import (
    RecordOptions,
    attributes_digest_source,
    build_contents,
    card_face_digest_info,
    certificate_availability,
    common_card_info,
    text_attributes,
    text_my_number,
    token_info,
)

ALL_KEYS = {
    "jpki.sign_certificate",
    "jpki.sign_ca_certificate",
    "jpki.auth_certificate",
    "jpki.auth_ca_certificate",
    "jpki.token_info",
    "jpki.certificate_availability",
    "text.my_number",
    "text.attributes",
    "text.integrity",
    "text.cv_certificate",
    "text.ap_info",
    "text.session_key_public",
    "text.signed_public_key",
    "visual.age_record",
    "visual.card_face",
    "visual.ap_basic",
    "visual.cv_certificate",
    "visual.my_number_image",
    "common.card_info",
}

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


# --- helpers ------------------------------------------------------------------------------------


def tlv_at(data: bytes, at: int) -> tuple[int, bytes, int]:
    """(tag, value, end) of the BER-TLV at ``at`` — an independent reader for the tests."""
    tag, pos = data[at], at + 1
    if tag & 0x1F == 0x1F:
        tag, pos = tag << 8 | data[pos], pos + 1
    first, pos = data[pos], pos + 1
    length = first
    if first & 0x80:
        count = first & 0x7F
        length, pos = int.from_bytes(data[pos : pos + count], "big"), pos + count
    return tag, data[pos : pos + length], pos + length


def children(value: bytes, base: int = 0) -> list[tuple[int, bytes, int]]:
    """(tag, value, offset) of each TLV in ``value``; ``base`` = offset of ``value`` in the file."""
    out, at = [], 0
    while at < len(value):
        tag, inner, end = tlv_at(value, at)
        out.append((tag, inner, base + at))
        at = end
    return out


def rsa_from_template(template: bytes) -> rsa.RSAPublicKey:
    """The card's ``90 <e> 91 <n>`` key form back into a key."""
    parts = {tag: value for tag, value, _ in children(template)}
    return rsa.RSAPublicNumbers(
        int.from_bytes(parts[0x90], "big"), int.from_bytes(parts[0x91], "big")
    ).public_key()


def cv_subject_key(cv: bytes, ca: rsa.RSAPublicKey) -> rsa.RSAPublicKey:
    """Verify a CV certificate with the CA key and return the key it certifies."""
    _tag, inner, _end = tlv_at(cv, 0)
    (_, body, _), (_, signature, _) = children(inner)
    ca.verify(signature, body, padding.PKCS1v15(), hashes.SHA256())
    return rsa_from_template(body[32:])


def issuer_public(key: object) -> rsa.RSAPublicKey:
    assert isinstance(key, rsa.RSAPrivateKey)
    return key.public_key()


def observed_test_card_persona() -> Persona:
    """The holder data of the JPKI test card MC dumped (synthetic, fictional), to compare bytes."""
    data = load_persona("default").model_dump()
    data.update(
        id="observed-test-card",
        label="TEST: synthetic holder of a JPKI test card (spec §3.2)",
        name="黒桐\u3000幹也",
        name_kana="コクトウ\u3000ミキヤ",
        name_alt_chars="00000",
        address="東京都清瀬市観布子南１２－７－２０２",
        address_alt_chars="0" * 18,
        city="清瀬市",
        my_number="537686677188",
    )
    return Persona.model_validate(data)


# --- 券面事項入力補助AP ---------------------------------------------------------------------------

OBSERVED_ATTRIBUTES = bytes.fromhex(
    "ff2065df2108000e002000590064df22"
    "0fe9bb92e6a190e38080e5b9b9e4b99f"
    "df2336e69db1e4baace983bde6b885e7"
    "80ace5b882e8a6b3e5b883e5ad90e58d"
    "97efbc91efbc92efbc8defbc97efbc8d"
    "efbc92efbc90efbc92df240831393830"
    "30323137df250131"
)
"""Text EF 0002 of the JPKI test card, byte for byte (spec §3.2, MC text.rs)."""


def test_my_number_file_matches_observed() -> None:
    persona = observed_test_card_persona()
    assert text_my_number(persona) == bytes.fromhex("ff100c") + b"537686677188" + b"\xff\xff"
    assert len(text_my_number(persona)) == 17


def test_attributes_match_observed_test_card() -> None:
    assert text_attributes(observed_test_card_persona()) == OBSERVED_ATTRIBUTES


def test_attributes_long_form() -> None:
    long = text_attributes(observed_test_card_persona(), "long")
    assert long[:5] == bytes.fromhex("ff20820065")
    # The table moves by the two extra header bytes and still points at each tag.
    assert long[5:16] == bytes.fromhex("df2108 0010 0022 005b 0066".replace(" ", ""))
    assert long[16:] == OBSERVED_ATTRIBUTES[14:]


@pytest.mark.parametrize("form", ["short", "long"])
@pytest.mark.parametrize("name", ["default", "long-address", "multi-part-name", "child-under-15"])
def test_attribute_offsets_point_at_tags(name: str, form: str) -> None:
    persona = load_persona(name)
    data = text_attributes(persona, form)  # type: ignore[arg-type]
    tag, value, end = tlv_at(data, 0)
    assert tag == 0xFF20 and end == len(data)
    header = len(data) - len(value)
    items = children(value, header)
    assert items[0][0] == 0xDF21
    table = items[0][1]
    offsets = [int.from_bytes(table[i : i + 2], "big") for i in range(0, 8, 2)]
    assert offsets == [offset for _, _, offset in items[1:]]
    assert [data[o : o + 2] for o in offsets] == [b"\xdf\x22", b"\xdf\x23", b"\xdf\x24", b"\xdf\x25"]
    fields = {t: v for t, v, _ in items[1:]}
    assert fields[0xDF22].decode() == persona.name
    assert fields[0xDF23].decode() == persona.address
    assert fields[0xDF24] == f"{persona.birth_date:%Y%m%d}".encode()
    assert fields[0xDF25] == str(int(persona.sex)).encode()


def test_short_form_for_long_address_is_minimal_ber() -> None:
    data = text_attributes(load_persona("long-address"), "short")
    assert data[:3] == bytes.fromhex("ff2082")  # the value is > 255 bytes: 82 HH LL is the minimum
    assert text_attributes(load_persona("long-address"), "long") == data


def test_integrity_record(contents: dict[str, bytes], pki: TestPki) -> None:
    record = contents["text.integrity"]
    assert len(record) == 336
    assert record[:5] == bytes.fromhex("ff3082014b")
    items = children(record[5:], 5)
    assert [(t, len(v)) for t, v, _ in items] == [(0xDF31, 32), (0xDF32, 32), (0xDF33, 256)]
    assert items[0][1] == hashlib.sha256(contents["text.my_number"]).digest()
    assert len(contents["text.my_number"]) == 17
    source = attributes_digest_source(contents["text.attributes"])
    assert source == contents["text.attributes"][14:]  # DF22 ... DF25 of the short form
    assert items[1][1] == hashlib.sha256(source).digest()
    signer = cv_subject_key(contents["text.cv_certificate"], issuer_public(pki.text_issuer.ca_key))
    signer.verify(items[2][1], record[5 : 5 + 70], padding.PKCS1v15(), hashes.SHA256())


def test_integrity_record_long_form_digest(keys: dict[str, PrivateKey], pki: TestPki) -> None:
    persona = load_persona("default")
    short = build_contents(persona, keys, pki)
    long = build_contents(persona, keys, pki, RecordOptions(attributes_length_form="long"))
    assert short["text.attributes"] != long["text.attributes"]
    # DF32 covers DF22..DF25 only, so it is the same whatever the outer length form.
    assert short["text.integrity"] == long["text.integrity"]


def test_text_cv_certificate(contents: dict[str, bytes], pki: TestPki) -> None:
    cv = contents["text.cv_certificate"]
    assert len(cv) == 568 and cv[10:17] == b"6000033"
    cv_subject_key(cv, issuer_public(pki.text_issuer.ca_key))


def test_text_ap_info(contents: dict[str, bytes]) -> None:
    info = contents["text.ap_info"]
    assert info[:4] == bytes.fromhex("ff40819e")
    items = children(info[4:])
    assert [(t, len(v)) for t, v, _ in items] == [(0xDF41, 4), (0xDF42, 16), (0xDF43, 128)]
    assert items[0][1] == bytes.fromhex("01030e01")
    assert items[1][1] == b"6000034\x08\x05001\x00\x00\x00\x00"
    assert items[2][1][32:] == b"\xff" * 96


def test_session_key_public(contents: dict[str, bytes], keys: dict[str, PrivateKey]) -> None:
    data = contents["text.session_key_public"]
    assert data[:13] == bytes.fromhex("a182010990030100019182 0100".replace(" ", ""))
    assert len(data) == 269
    assert rsa_from_template(data[4:]) == keys["text.session_key"].public_key()


def test_signed_public_key(contents: dict[str, bytes], keys: dict[str, PrivateKey], pki: TestPki) -> None:
    data = contents["text.signed_public_key"]
    assert data[:5] == bytes.fromhex("ff50820213") and len(data) == 536
    (t1, key, _), (t2, signature, _) = children(data[5:])
    assert (t1, t2) == (0xDF51, 0xDF52)
    assert rsa_from_template(key) == keys["text.card_key"].public_key()
    signer = cv_subject_key(contents["text.cv_certificate"], issuer_public(pki.text_issuer.ca_key))
    signer.verify(signature, data[5 : 5 + 5 + 265], padding.PKCS1v15(), hashes.SHA256())


# --- 券面事項確認AP -----------------------------------------------------------------------------


def visual_signer(contents: dict[str, bytes], pki: TestPki) -> rsa.RSAPublicKey:
    return cv_subject_key(contents["visual.cv_certificate"], issuer_public(pki.visual_issuer.ca_key))


def test_every_source_name_is_built(contents: dict[str, bytes]) -> None:
    assert contents.keys() == ALL_KEYS


def test_visual_cv_certificate(contents: dict[str, bytes], pki: TestPki) -> None:
    assert len(contents["visual.cv_certificate"]) == 568
    assert contents["visual.cv_certificate"][10:17] == b"6000023"
    visual_signer(contents, pki)


def test_age_record(contents: dict[str, bytes], keys: dict[str, PrivateKey], pki: TestPki) -> None:
    record = contents["visual.age_record"]
    assert record[:5] == bytes.fromhex("ff1082021e") and len(record) == 547
    items = children(record[5:], 5)
    assert [(t, len(v)) for t, v, _ in items] == [(0xDF11, 8), (0xDF12, 265), (0xDF13, 256)]
    assert items[0][1] == b"19800217"
    assert rsa_from_template(items[1][1]) == keys["visual.card_key"].public_key()
    signed = record[5 : items[2][2]]
    visual_signer(contents, pki).verify(items[2][1], signed, padding.PKCS1v15(), hashes.SHA256())


def card_face_items(record: bytes) -> list[tuple[int, bytes, int]]:
    tag, value, end = tlv_at(record, 0)
    assert tag == 0xFF20 and end == len(record)
    return children(value, len(record) - len(value))


def test_card_face_layout(contents: dict[str, bytes], keys: dict[str, PrivateKey]) -> None:
    record = contents["visual.card_face"]
    assert record[:3] == bytes.fromhex("ff2082")
    items = card_face_items(record)
    assert [t for t, _, _ in items] == [0xDF21, *range(0xDF22, 0xDF2B)]
    table = items[0][1]
    assert len(table) == 18
    offsets = [int.from_bytes(table[i : i + 2], "big") for i in range(0, 18, 2)]
    assert offsets == [offset for _, _, offset in items[1:]]
    fields = {t: v for t, v, _ in items}
    assert fields[0xDF22] == b"19800217"
    assert fields[0xDF23] == b"1"
    assert rsa_from_template(fields[0xDF24]) == keys["visual.card_key"].public_key()
    assert fields[0xDF25].startswith(b"\x89PNG") and fields[0xDF26].startswith(b"\x89PNG")
    assert fields[0xDF27][4:8] == b"jP  "  # JPEG 2000, JP2 container
    assert fields[0xDF29] == b"20350217"
    assert fields[0xDF2A].startswith(b"\x89PNG")
    assert len(record) < 0x8000  # reachable with 15-bit READ BINARY offsets


def test_card_face_signature(contents: dict[str, bytes], pki: TestPki) -> None:
    """PKCS#1 v1.5 over DigestInfo(SHA-256, H(DF22‖DF23‖DF24) ‖ H(DF25‖DF26) ‖ H(DF27)) (spec §3.3)."""
    record = contents["visual.card_face"]
    items = card_face_items(record)
    raw = {}
    for index, (tag, _value, offset) in enumerate(items):
        end = items[index + 1][2] if index + 1 < len(items) else len(record)
        raw[tag] = record[offset:end]
    fields = {t: v for t, v, _ in items}
    recovered = visual_signer(contents, pki).recover_data_from_signature(
        fields[0xDF28], padding.PKCS1v15(), None
    )

    def sha(data: bytes) -> bytes:
        return hashlib.sha256(data).digest()

    expected_digest = (
        sha(raw[0xDF22] + raw[0xDF23] + raw[0xDF24]) + sha(raw[0xDF25] + raw[0xDF26]) + sha(raw[0xDF27])
    )
    assert recovered == bytes.fromhex("3071300d060960864801650304020105000460") + expected_digest
    assert recovered == card_face_digest_info(raw)


def test_card_face_long_address(keys: dict[str, PrivateKey], pki: TestPki) -> None:
    contents = build_contents(load_persona("long-address"), keys, pki)
    items = card_face_items(contents["visual.card_face"])
    assert [t for t, _, _ in items] == [0xDF21, *range(0xDF22, 0xDF2B)]


def test_visual_ap_basic(contents: dict[str, bytes]) -> None:
    data = contents["visual.ap_basic"]
    assert data[:5] == bytes.fromhex("ff3082013b") and len(data) == 320
    items = children(data[5:])
    assert [(t, len(v)) for t, v, _ in items] == [
        (0xDF31, 4),
        (0xDF32, 16),
        (0xDF33, 1),
        (0xDF34, 5),
        (0xDF35, 272),
    ]
    assert items[0][1] == bytes.fromhex("06030e01")
    assert items[1][1][:7] == b"6000024"
    assert items[3][1] == b"13101"
    assert data[5 + 7 + 19 + 4 + 8 : 5 + 7 + 19 + 4 + 8 + 5] == bytes.fromhex("df35820110")


def test_my_number_image(contents: dict[str, bytes], keys: dict[str, PrivateKey], pki: TestPki) -> None:
    record = contents["visual.my_number_image"]
    tag, value, end = tlv_at(record, 0)
    assert tag == 0xFF40 and end == len(record)
    header = len(record) - len(value)
    items = children(value, header)
    assert [t for t, _, _ in items] == [0xDF41, 0xDF42, 0xDF43]
    assert items[0][1].startswith(b"\x89PNG")
    assert rsa_from_template(items[1][1]) == keys["visual.card_key"].public_key()
    visual_signer(contents, pki).verify(
        items[2][1], record[header : items[2][2]], padding.PKCS1v15(), hashes.SHA256()
    )


# --- 共通カードAP -------------------------------------------------------------------------------


def test_common_card_info(contents: dict[str, bytes]) -> None:
    assert contents["common.card_info"] == b"\x01\x1c" + b"900000000000001" + b"13101" + b"20350217"
    assert common_card_info(observed_test_card_persona())[:2] == bytes.fromhex("011c")
