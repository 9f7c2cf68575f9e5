"""The next card's EF contents (records.nextgen) and builders (builders.nextgen): bytes exact where the
layout is fixed, every signature checked with the certificate the card itself holds (券面等AP EF 0005,
認証AP EF 0009), integrity digests against the EFs they cover.
"""

from __future__ import annotations

import hashlib
import io
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding
from PIL import Image

from mynacard.emulator.issuance import builders
from mynacard.emulator.issuance.builders import BuildError, BuildInput, build_sources, builders_for
from mynacard.emulator.issuance.personalise import open_card
from mynacard.emulator.issuance.personas import Persona, load_persona
from mynacard.emulator.issuance.pki import (
    PkiGenerationError,
    PrivateKey,
    TestPki,
    generate_key,
    generate_nextgen_card_keys,
)
from mynacard.emulator.issuance.records import nextgen
from mynacard.emulator.issuance.records.legacy import RecordOptions, token_info
from mynacard.emulator.store.documents import ContentsDocument
from mynacard.emulator.store.state import StateStore

EPOCH = datetime(2015, 10, 20, 3, 8, 13, tzinfo=UTC)

SOURCES = {
    "nextgen.sign_certificate",
    "nextgen.sign_ca_certificate",
    "nextgen.auth_certificate",
    "nextgen.auth_ca_certificate",
    "nextgen.token_info",
    "nextgen.ia_certificate",
    "nextgen.my_number",
    "nextgen.attributes",
    "nextgen.integrity",
    "nextgen.resident_code",
    "nextgen.face_front",
    "nextgen.face_back",
    "nextgen.face_attributes",
    "nextgen.face_my_number",
    "nextgen.face_signer_certificate",
}

NAME = "試験\u3000太郎".encode()  # 15 bytes
ADDRESS = "東京都千代田区試験町１丁目２番３号".encode()  # 51 bytes
FURIGANA = "シケン\u3000タロウ".encode()  # 21 bytes


@pytest.fixture(scope="module")
def pki() -> TestPki:
    return TestPki.create(generation="nextgen-2026", now=EPOCH)


@pytest.fixture(scope="module")
def keys() -> dict[str, PrivateKey]:
    return generate_nextgen_card_keys()


@pytest.fixture(scope="module")
def persona() -> Persona:
    return load_persona("default")


@pytest.fixture(scope="module")
def contents(persona: Persona, keys: dict[str, PrivateKey], pki: TestPki) -> dict[str, bytes]:
    return nextgen.build_contents(persona, keys, pki)


def face_signer(contents: dict[str, bytes], pki: TestPki) -> ec.EllipticCurvePublicKey:
    """The 券面 signing key, taken from the card's own EF 0005 after checking it against the TEST CA."""
    certificate = x509.load_der_x509_certificate(contents["nextgen.face_signer_certificate"])
    certificate.verify_directly_issued_by(pki.card_issuer.ca.certificate)
    key = certificate.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP384R1)
    return key


def verify(key: ec.EllipticCurvePublicKey, signature: bytes, data: bytes) -> None:
    """Plain ``r ‖ s`` ECDSA P-384 / SHA-384; raises InvalidSignature."""
    assert len(signature) == 96
    r, s = int.from_bytes(signature[:48], "big"), int.from_bytes(signature[48:], "big")
    key.verify(encode_dss_signature(r, s), data, ec.ECDSA(hashes.SHA384()))


def tlv_at(data: bytes, at: int) -> tuple[int, bytes, int]:
    """(tag, value, end) of the BER-TLV at ``at``: an independent reader for the tests."""
    tag, pos = data[at], at + 1
    if tag & 0x1F == 0x1F:
        tag, pos = tag << 8 | data[pos], pos + 1
    first, pos = data[pos], pos + 1
    length = first
    if first & 0x80:
        count = first & 0x7F
        length, pos = int.from_bytes(data[pos : pos + count], "big"), pos + count
    return tag, data[pos : pos + length], pos + length


def items(record: bytes) -> tuple[int, list[tuple[int, bytes, int]]]:
    """(outer tag, [(tag, value, offset in the file)]) of a one-level record."""
    tag, value, end = tlv_at(record, 0)
    assert end == len(record)
    base, out, at = len(record) - len(value), [], 0
    while at < len(value):
        inner, inner_value, inner_end = tlv_at(value, at)
        out.append((inner, inner_value, base + at))
        at = inner_end
    return tag, out


def signed_bytes(record: bytes) -> bytes:
    """The outer value up to the last (signature) object."""
    _tag, fields = items(record)
    header = len(record) - len(tlv_at(record, 0)[1])
    return record[header : fields[-1][2]]


def offsets_point_at_tags(fields: list[tuple[int, bytes, int]]) -> None:
    assert fields[0][0] == 0xDF21
    table = fields[0][1]
    offsets = [int.from_bytes(table[i : i + 2], "big") for i in range(0, len(table), 2)]
    assert offsets == [offset for _, _, offset in fields[1:]]


# --- every source ------------------------------------------------------------------------------------


def test_every_source_is_built(contents: dict[str, bytes]) -> None:
    assert contents.keys() == SOURCES


def test_child_has_no_signature_certificate(keys: dict[str, PrivateKey], pki: TestPki) -> None:
    built = nextgen.build_contents(load_persona("child-under-15"), keys, pki)
    assert built.keys() == SOURCES - {"nextgen.sign_certificate"}


def test_sixteen_year_old_has_one(keys: dict[str, PrivateKey], pki: TestPki) -> None:
    built = nextgen.build_contents(load_persona("minor-16"), keys, pki)
    sign = x509.load_der_x509_certificate(built["nextgen.sign_certificate"])
    assert sign.not_valid_after_utc == datetime(2030, 9, 20, 14, 59, 59, tzinfo=UTC)


def test_records_are_deterministic(
    persona: Persona, keys: dict[str, PrivateKey], pki: TestPki, contents: dict[str, bytes]
) -> None:
    assert nextgen.build_contents(persona, keys, pki) == contents


# --- 認証AP ---------------------------------------------------------------------------------------------


def test_certificates_chain_and_hold_the_card_keys(
    contents: dict[str, bytes], keys: dict[str, PrivateKey], pki: TestPki
) -> None:
    pairs = [
        ("nextgen.sign_certificate", "nextgen.sign_ca_certificate", "nextgen.sign_key"),
        ("nextgen.auth_certificate", "nextgen.auth_ca_certificate", "nextgen.auth_key"),
    ]
    for leaf, ca, key_id in pairs:
        certificate = x509.load_der_x509_certificate(contents[leaf])
        certificate.verify_directly_issued_by(x509.load_der_x509_certificate(contents[ca]))
        assert certificate.public_key() == keys[key_id].public_key()
        assert isinstance(certificate.signature_hash_algorithm, hashes.SHA384)
    assert (
        x509.load_der_x509_certificate(contents["nextgen.auth_ca_certificate"]) == pki.auth_root.certificate
    )


def test_ia_certificate_verifies_the_card_key(
    contents: dict[str, bytes], keys: dict[str, PrivateKey], pki: TestPki
) -> None:
    certificate = x509.load_der_x509_certificate(contents["nextgen.ia_certificate"])
    certificate.verify_directly_issued_by(pki.card_issuer.ca.certificate)
    public = certificate.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    ia_key = keys["nextgen.ia_key"]
    assert isinstance(ia_key, ec.EllipticCurvePrivateKey)
    challenge = bytes(range(8))
    public.verify(ia_key.sign(challenge, ec.ECDSA(hashes.SHA384())), challenge, ec.ECDSA(hashes.SHA384()))
    other = keys["nextgen.auth_key"]
    assert isinstance(other, ec.EllipticCurvePrivateKey)
    with pytest.raises(InvalidSignature):
        public.verify(other.sign(challenge, ec.ECDSA(hashes.SHA384())), challenge, ec.ECDSA(hashes.SHA384()))


def test_token_info(contents: dict[str, bytes]) -> None:
    info = contents["nextgen.token_info"]
    assert len(info) == 160
    assert info[:32] == b"JPKIAPICCTOKEN3" + b" " * 17
    assert info[32:] == token_info()[32:]  # today's fields


def test_my_number(contents: dict[str, bytes]) -> None:
    assert contents["nextgen.my_number"] == bytes.fromhex("ff100c") + b"123456789018" + b"\xff\xff"


EXPECTED_ATTRIBUTES = (
    bytes.fromhex("ff20818cdf210c00130025005b0066006a0082")
    + b"\xdf\x22\x0f"
    + NAME
    + b"\xdf\x23\x33"
    + ADDRESS
    + b"\xdf\x24\x0819800217"
    + b"\xdf\x25\x011"
    + b"\xdf\x26\x15"
    + FURIGANA
    + b"\xdf\x27\x0bSHIKEN TARO"
)
"""認証AP EF 0004 of the default persona, worked out by hand: 4-byte header + 15-byte table, then 18, 54,
11, 4, 24 and 14 bytes of fields (offsets 0x13, 0x25, 0x5B, 0x66, 0x6A, 0x82 from the start)."""


def test_attributes_byte_exact(contents: dict[str, bytes]) -> None:
    assert contents["nextgen.attributes"] == EXPECTED_ATTRIBUTES
    assert len(EXPECTED_ATTRIBUTES) == 144


def test_attributes_long_form(persona: Persona) -> None:
    long = nextgen.attributes(persona, "long")
    assert long[:5] == bytes.fromhex("ff2082008c")
    assert long[5:20] == bytes.fromhex("df210c00140026005c0067006b0083")
    assert long[20:] == EXPECTED_ATTRIBUTES[19:]


@pytest.mark.parametrize("persona_id", ["long-address", "multi-part-name", "leap-day", "minor-16"])
def test_attribute_offsets_and_fields(persona_id: str) -> None:
    persona = load_persona(persona_id)
    tag, fields = items(nextgen.attributes(persona))
    assert tag == 0xFF20
    offsets_point_at_tags(fields)
    assert [(t, v) for t, v, _ in fields[1:]] == [
        (0xDF22, persona.name.encode()),
        (0xDF23, persona.address.encode()),
        (0xDF24, f"{persona.birth_date:%Y%m%d}".encode()),
        (0xDF25, str(int(persona.sex)).encode()),
        (0xDF26, persona.name_kana.encode()),
        (0xDF27, persona.name_roman.encode()),
    ]


def test_integrity_record(contents: dict[str, bytes], pki: TestPki) -> None:
    record = contents["nextgen.integrity"]
    assert len(record) == 206
    assert record[:8] == bytes.fromhex("ff308200c9df3130")
    assert record[56:59] == bytes.fromhex("df3230")
    assert record[107:110] == bytes.fromhex("df3360")
    assert record[8:56] == hashlib.sha384(contents["nextgen.my_number"]).digest()
    # DF32: EF 0004 after the outer header (4) and the DF21 table (15): DF22 ... DF27.
    assert record[59:107] == hashlib.sha384(contents["nextgen.attributes"][19:]).digest()
    verify(face_signer(contents, pki), record[110:], record[5:107])


def test_integrity_is_the_same_for_either_length_form(persona: Persona, pki: TestPki) -> None:
    options = RecordOptions(token_label="JPKIAPICCTOKEN3", attributes_length_form="long")
    short, long = nextgen.auth_data_contents(persona, pki), nextgen.auth_data_contents(persona, pki, options)
    assert short["nextgen.attributes"] != long["nextgen.attributes"]
    assert short["nextgen.integrity"] == long["nextgen.integrity"]


def test_resident_code(contents: dict[str, bytes]) -> None:
    assert contents["nextgen.resident_code"] == b"90000000001"


# --- 券面等AP -------------------------------------------------------------------------------------------


def test_face_my_number_byte_exact(contents: dict[str, bytes], pki: TestPki) -> None:
    record = contents["nextgen.face_my_number"]
    assert len(record) == 117
    assert record[:21] == bytes.fromhex("ff4072df440c") + b"123456789018" + bytes.fromhex("df4560")
    verify(face_signer(contents, pki), record[21:], record[3:18])


def test_face_attributes_byte_exact(contents: dict[str, bytes], pki: TestPki) -> None:
    record = contents["nextgen.face_attributes"]
    expected_prefix = (
        bytes.fromhex("ff2081c7df210a00110023005900640068")
        + b"\xdf\x22\x0f"
        + NAME
        + b"\xdf\x23\x33"
        + ADDRESS
        + b"\xdf\x24\x0819800217"
        + b"\xdf\x25\x011"
        + b"\xdf\x28\x60"
    )
    assert len(record) == 203
    assert record[:-96] == expected_prefix
    _tag, fields = items(record)
    offsets_point_at_tags(fields)
    verify(face_signer(contents, pki), record[-96:], record[4:104])


def test_face_back(contents: dict[str, bytes], pki: TestPki) -> None:
    record = contents["nextgen.face_back"]
    tag, fields = items(record)
    assert tag == 0xFF40
    assert [(t, len(v)) for t, v, _ in fields][1:] == [(0xDF44, 12), (0xDF45, 96)]
    image = Image.open(io.BytesIO(fields[0][1]))
    assert (fields[0][0], image.format, image.size, image.mode) == (0xDF41, "PNG", (72, 12), "1")
    assert fields[1][1] == b"123456789018"
    verify(face_signer(contents, pki), fields[2][1], signed_bytes(record))


FRONT_TAGS = [0xDF21, 0xDF22, 0xDF23, 0xDF25, 0xDF26, 0xDF27, 0xDF29, 0xDF2B, 0xDF2C, 0xDF2D, 0xDF2E, 0xDF2F]


@pytest.mark.parametrize(
    ("persona_id", "expiry"),
    [("default", b"20350317"), ("minor-16", b"20300920"), ("leap-day", b"20350328")],
)
def test_face_front(persona_id: str, expiry: bytes, keys: dict[str, PrivateKey], pki: TestPki) -> None:
    persona = load_persona(persona_id)
    contents = nextgen.build_contents(persona, keys, pki)
    record = contents["nextgen.face_front"]
    tag, fields = items(record)
    assert tag == 0xFF20 and [t for t, _, _ in fields] == FRONT_TAGS
    offsets_point_at_tags(fields)
    values = {t: v for t, v, _ in fields}
    assert values[0xDF22] == f"{persona.birth_date:%Y%m%d}".encode()  # western calendar
    assert values[0xDF23] == str(int(persona.sex)).encode()
    assert values[0xDF29] == expiry  # one month after the birthday that ends today's card
    assert values[0xDF2B] == persona.name.encode()
    assert values[0xDF2C] == persona.address.encode()
    assert values[0xDF2D] == persona.name_kana.encode()
    assert values[0xDF2E] == persona.name_roman.encode("ascii")
    for image_tag in (0xDF25, 0xDF26):
        image = Image.open(io.BytesIO(values[image_tag]))
        assert (image.format, image.mode) == ("PNG", "1")
    assert values[0xDF27][4:8] == b"jP  "  # JPEG 2000, JP2 container
    photo = Image.open(io.BytesIO(values[0xDF27]))
    assert (photo.format, photo.mode, photo.size) == ("JPEG2000", "L", (96, 120))  # monochrome
    assert len(record) < 0x8000
    verify(face_signer(contents, pki), values[0xDF2F], signed_bytes(record))


def test_front_signature_covers_photo_and_expiry(contents: dict[str, bytes], pki: TestPki) -> None:
    record = contents["nextgen.face_front"]
    _tag, fields = items(record)
    signature, signed = fields[-1][1], signed_bytes(record)
    key = face_signer(contents, pki)
    for tag in (0xDF27, 0xDF29, 0xDF21):  # photo, 有効期限 (unsigned on today's card), offset table
        at = next(offset for t, _, offset in fields if t == tag) - (len(record) - len(tlv_at(record, 0)[1]))
        tampered = bytearray(signed)
        tampered[at + 5] ^= 0x01
        with pytest.raises(InvalidSignature):
            verify(key, signature, bytes(tampered))


def test_face_signer_certificate_is_the_pki_one(contents: dict[str, bytes], pki: TestPki) -> None:
    certificate = x509.load_der_x509_certificate(contents["nextgen.face_signer_certificate"])
    assert certificate == pki.card_issuer.face_signer.certificate


# --- generations and keys ----------------------------------------------------------------------------


def test_records_refuse_a_legacy_pki(persona: Persona, keys: dict[str, PrivateKey]) -> None:
    legacy = TestPki.create(now=EPOCH)
    with pytest.raises(PkiGenerationError, match="need a nextgen-2026 TEST PKI, not legacy-2016"):
        nextgen.build_contents(persona, keys, legacy)


def given(pki: TestPki, keys: dict[str, PrivateKey]) -> BuildInput:
    return BuildInput(b"\x3b", keys, nextgen.DEFAULT_OPTIONS, load_persona("default"), pki)


@pytest.mark.parametrize(
    ("source", "builder"),
    [
        ("nextgen.auth_certificate", "nextgen.jpki"),
        ("nextgen.ia_certificate", "nextgen.device"),
        ("nextgen.integrity", "nextgen.auth_data"),
        ("nextgen.face_front", "nextgen.face"),
    ],
)
def test_builders_refuse_a_legacy_pki(source: str, builder: str, keys: dict[str, PrivateKey]) -> None:
    legacy = TestPki.create(now=EPOCH)
    with pytest.raises(
        BuildError, match=re.escape(f"'{builder}' needs a nextgen-2026 TEST PKI, not legacy-2016")
    ):
        build_sources(builders_for([source]), given(legacy, keys))


def test_legacy_builders_refuse_a_nextgen_pki(pki: TestPki) -> None:
    legacy_keys = {kid: generate_key() for kid in ("jpki.auth_key", "jpki.sign_key")}
    with pytest.raises(BuildError, match="'jpki' needs a legacy-2016 TEST PKI, not nextgen-2026"):
        build_sources(builders_for(["jpki.auth_certificate"]), given(pki, legacy_keys))
    with pytest.raises(BuildError, match=r"'card\.issuer' needs a legacy-2016 TEST PKI"):
        build_sources(builders_for(["card.issuer_key_id"]), given(pki, {}))


def test_builders_refuse_rsa_card_keys(pki: TestPki, keys: dict[str, PrivateKey]) -> None:
    rsa_keys = {**keys, "nextgen.ia_key": generate_key()}
    with pytest.raises(BuildError, match=r"'nextgen\.ia_key' must be algorithm = \"ec-p384\""):
        build_sources(builders_for(["nextgen.ia_certificate"]), given(pki, rsa_keys))


def test_builders_provide_exactly_the_sources(pki: TestPki, keys: dict[str, PrivateKey]) -> None:
    assert builders.known_sources() >= SOURCES
    built = build_sources(builders_for(sorted(SOURCES)), given(pki, keys))
    assert built.keys() == SOURCES


def test_personalised_card_keeps_its_pki(tmp_path: Path) -> None:
    """Personalising nextgen-2026 saves a nextgen PKI whose 券面 signer verifies the stored records."""
    open_card("nextgen-2026", "leap-day", tmp_path / "card")
    loaded = TestPki.load(tmp_path / "card" / "pki")
    assert loaded.generation == "nextgen-2026"
    stored = StateStore(tmp_path / "card").read_document(StateStore.CONTENTS, ContentsDocument).files
    front = bytes.fromhex(stored["face/0001"])
    assert bytes.fromhex(stored["face/0005"]) == loaded.card_issuer.face_signer.certificate.public_bytes(
        Encoding.DER
    )
    public = loaded.card_issuer.face_signer.key.public_key()
    assert isinstance(public, ec.EllipticCurvePublicKey)
    verify(public, items(front)[1][-1][1], signed_bytes(front))
    ia = x509.load_der_x509_certificate(bytes.fromhex(stored["auth/0009"]))
    ia.verify_directly_issued_by(loaded.card_issuer.ca.certificate)
    assert ia.not_valid_after_utc.astimezone(UTC).date() == date(2035, 3, 28)
