"""Golden client sequences against legacy-2016: for each public client of spec §8, the exact APDUs it sends
(as byte strings) and the bytes and status words it relies on.

Fixed commands are written out in hex as the client's source builds them; chunked reads follow the
client's own loop (its offsets and Le values), because the lengths depend on the generated certificates.
Contents are compared with what personalisation stored (``contents.json`` of the session template).

The text-AP EF 0002 outer length is a profile field (``attributes_length_form``, §9.5): MNB needs
``FF 20 82 HH LL`` (``long``), MBE needs ``FF 20 LL`` (``short``). Both settings are tested; where a client
cannot work on the other setting, the test asserts that explicitly.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from mynacard.apdu.readers.base import Reader
from mynacard.emulator.card import Card
from mynacard.emulator.issuance.personalise import open_card
from mynacard.emulator.issuance.personas import Persona, load_persona
from mynacard.emulator.issuance.pki import TestPki
from mynacard.emulator.issuance.profiles import load_profile
from mynacard.profiles.schema import Profile
from mynacard.tools.harness.suites.helpers import (
    OK,
    SECURITY_NOT_SATISFIED,
    ber_at,
    ber_children,
    ber_header_total,
    client_view,
    expect,
    has_stored_file,
    hx,
    open_copy,
    send,
    stored_file,
    stored_records,
)

pytestmark = [
    pytest.mark.client_sequences,
    pytest.mark.capability("clients"),
    pytest.mark.clause("current-card §8 (public clients' sequences)"),
]

CardFactory = Callable[..., Card]
ReaderFor = Callable[[Card], Reader]

PERSONA = load_persona("default")
AUTH_PIN = PERSONA.auth_pin.encode()  # "1234"
SIGN_PASSWORD = PERSONA.sign_password.encode()  # "TEST1234"
TEXT_PIN = PERSONA.text_pin.encode()
MESSAGE = b"golden client sequence"
HASH = hashlib.sha256(MESSAGE).digest()

SELECT_JPKI = "00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01"
SELECT_TEXT = "00 A4 04 0C 0A D3 92 10 00 31 00 01 01 04 08"
SELECT_VISUAL = "00 A4 04 0C 0A D3 92 10 00 31 00 01 01 04 02"
SELECT_COMMON = "00 A4 04 0C 0A D3 92 10 00 31 00 01 01 01 00"
EMPTY_VERIFY = "00 20 00 80"
TOKEN_LABEL = b"JPKIAPICCTOKEN2" + b" " * 17

MAX_TRIES = {
    (a.id, c.fid): c.max_tries
    for a in load_profile("legacy-2016").applets
    for c in a.credentials
    if c.max_tries is not None
}
"""Retry limits as the profile sets them; 照合番号A/B and the birth key are ASSUMED (§5: UNKNOWN)."""


def ok(reader: Reader, command: str | bytes, data: bytes | None = b"") -> bytes:
    return expect(reader, command, OK, data).data


def select_ef(reader: Reader, fid: int) -> None:
    ok(reader, f"00 A4 02 0C 02 {fid:04X}")


def verify_cmd(value: bytes, p2: int = 0x80) -> bytes:
    return bytes((0x00, 0x20, 0x00, p2, len(value))) + value


def sign_cmd(p2: int, digest_info: bytes) -> bytes:
    return bytes((0x80, 0x2A, 0x00, p2, len(digest_info))) + digest_info + b"\x00"


SHA256_DIGEST_INFO = hx("30 31 30 0D 06 09 60 86 48 01 65 03 04 02 01 05 00 04 20") + HASH


def verifies(der: bytes, signature: bytes) -> None:
    key = x509.load_der_x509_certificate(der).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    key.verify(signature, MESSAGE, padding.PKCS1v15(), hashes.SHA256())


@pytest.fixture(scope="module")
def template(
    card_templates: Callable[[str, str], Path],
    profile_name: str,
    profile_under_test: Profile,
    tmp_path_factory: pytest.TempPathFactory,
) -> Path:
    """The default card's contents as today's client expects them: every card ``make_card()`` gives holds
    exactly these (read through the legacy aliases when the profile under test has them on)."""
    target = tmp_path_factory.mktemp("client-view") / "card"
    return client_view(card_templates(profile_name, "default"), profile_under_test, target)


@pytest.fixture
def reader(make_card: CardFactory, reader_for: ReaderFor) -> Reader:
    return reader_for(make_card())


# --- the two settings of the FF 20 outer length (§9.5) ------------------------------------------------------


@pytest.fixture(scope="module")
def form_templates(
    tmp_path_factory: pytest.TempPathFactory,
    test_pkis: Callable[[str], TestPki],
    profile_name: str,
    profile_under_test: Profile,
) -> dict[str, Path]:
    """The card under test made twice, as a variant with each setting of ``attributes_length_form``."""
    directory = tmp_path_factory.mktemp("length-forms")
    base = str(Path(profile_name).resolve()) if profile_name.endswith(".toml") else profile_name
    pki = test_pkis(profile_under_test.personalisation.pki)
    made = {}
    for form in ("short", "long"):
        variant = directory / f"{form}.toml"
        variant.write_text(
            f'[profile]\nname = "{profile_under_test.name}-{form}"\ndescription = "FF 20 {form} form"\n'
            f'extends = "{base}"\n\n[personalisation]\nattributes_length_form = "{form}"\n',
            encoding="utf-8",
        )
        open_card(variant, "default", directory / f"{form}-card", pki=pki)
        made[form] = client_view(
            directory / f"{form}-card", load_profile(variant), directory / f"{form}-view"
        )
    return made


@pytest.fixture(params=["short", "long"])
def form(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def form_reader(
    form: str, form_templates: dict[str, Path], tmp_path: Path, reader_for: ReaderFor
) -> Iterator[tuple[Reader, bytes]]:
    """A card of the ``form`` setting in the reader, and its stored text-AP EF 0002."""
    template = form_templates[form]
    card = reader_for(open_copy(template, tmp_path / "card"))
    # On a card without today's text AP (a compatibility run) the client stops at its SELECT, before this.
    stored = stored_file(template, "text", 0x0002) if has_stored_file(template, "text", 0x0002) else b""
    yield card, stored


def test_both_settings_put_the_df21_offsets_on_the_tags(form: str, form_templates: dict[str, Path]) -> None:
    assert load_profile("legacy-2016").personalisation.attributes_length_form == "short"  # the shipped form
    attributes = stored_file(form_templates[form], "text", 0x0002)
    header = {"short": hx("FF 20 62"), "long": hx("FF 20 82 00 62")}[form]
    assert attributes.startswith(header + hx("DF 21 08"))  # the default persona's value is 98 bytes
    outer = ber_at(attributes)
    table, *fields = ber_children(outer.value)
    offsets = [int.from_bytes(table.value[i : i + 2], "big") for i in range(0, 8, 2)]
    assert offsets == [outer.header + f.start for f in fields]
    assert [attributes[o : o + 2] for o in offsets] == [hx("DF 22"), hx("DF 23"), hx("DF 24"), hx("DF 25")]


def basic_four(persona: Persona) -> tuple[str, str, str, str]:
    return persona.name, persona.address, f"{persona.birth_date:%Y%m%d}", str(int(persona.sex))


# --- jpki/myna (Rust, MYNA) ---------------------------------------------------------------------------------


def myna_read_binary(reader: Reader, pos: int, size: int) -> bytes:
    """``MynaReader::read_binary``: Le = remaining, or 00 while more than 255 remain; advance by what came."""
    out = bytearray()
    end = pos + size
    while pos < end:
        remaining = end - pos
        le = 0 if remaining > 0xFF else remaining
        response = expect(reader, bytes((0x00, 0xB0, pos >> 8, pos & 0xFF, le)), OK)
        assert response.data, "MYNA loops forever on a 0-byte answer"
        out += response.data
        pos += len(response.data)
    return bytes(out)


def myna_read_binary_all(reader: Reader) -> bytes:
    """``read_binary_all``: the 7-byte header probe ``00 B0 00 00 07``, then the missing bytes from 7."""
    head = myna_read_binary(reader, 0, 7)
    assert len(head) == 7
    return head + myna_read_binary(reader, 7, ber_header_total(head) - 7)


def test_myna_token_info(reader: Reader) -> None:
    ok(reader, SELECT_JPKI)
    ok(reader, "00 A4 02 0C 02 00 06")
    token = ok(reader, "00 B0 00 00 20", TOKEN_LABEL)
    assert token.rstrip(b"\x00 \t\r\n") == b"JPKIAPICCTOKEN2"


@pytest.mark.parametrize(("kind", "fid"), [("auth", 0x000A), ("auth_ca", 0x000B), ("sign_ca", 0x0002)])
def test_myna_jpki_cert(reader: Reader, template: Path, kind: str, fid: int) -> None:
    ok(reader, SELECT_JPKI)
    ok(reader, f"00 A4 02 0C 02 {fid:04X}")
    assert myna_read_binary_all(reader) == stored_file(template, "jpki", fid)


def test_myna_jpki_cert_sign_verifies_the_password_first(reader: Reader, template: Path) -> None:
    ok(reader, SELECT_JPKI)
    ok(reader, "00 A4 02 0C 02 00 01")
    expect(reader, "00 B0 00 00 07", SECURITY_NOT_SATISFIED, b"")
    ok(reader, "00 A4 02 0C 02 00 1B")
    ok(reader, "00 20 00 80 08 54 45 53 54 31 32 33 34")  # "TEST1234", uppercased by MYNA
    ok(reader, "00 A4 02 0C 02 00 01")
    assert myna_read_binary_all(reader) == stored_file(template, "jpki", 0x0001)


def test_myna_pkey_sign_with_the_auth_key(reader: Reader, template: Path) -> None:
    ok(reader, SELECT_JPKI)
    ok(reader, "00 A4 02 0C 02 00 18")
    ok(reader, "00 20 00 80 04 31 32 33 34")
    ok(reader, "00 A4 02 0C 02 00 17")
    signature = ok(reader, sign_cmd(0x80, SHA256_DIGEST_INFO), None)
    assert len(signature) == 256
    verifies(stored_file(template, "jpki", 0x000A), signature)


def test_myna_text_mynumber(reader: Reader) -> None:
    ok(reader, SELECT_TEXT)
    ok(reader, "00 A4 02 0C 02 00 11")
    ok(reader, "00 20 00 80 04 31 32 33 34")
    ok(reader, "00 A4 02 0C 02 00 01")
    data = ok(reader, "00 B0 00 00 11", hx("FF 10 0C") + b"123456789018" + hx("FF FF"))
    assert ber_at(data).value == PERSONA.my_number.encode()  # asn1_rs::Any::from_ber, trailing FF FF ignored


def test_myna_text_attrs_takes_the_2nd_to_5th_objects(form_reader: tuple[Reader, bytes]) -> None:
    reader, stored = form_reader
    ok(reader, SELECT_TEXT)
    ok(reader, "00 A4 02 0C 02 00 11")
    ok(reader, "00 20 00 80 04 31 32 33 34")
    ok(reader, "00 A4 02 0C 02 00 02")
    encoded = myna_read_binary_all(reader)
    assert encoded == stored
    _table, name, address, birth, sex = ber_children(ber_at(encoded).value)[:5]  # no tag checks
    assert tuple(f.value.decode() for f in (name, address, birth, sex)) == basic_four(PERSONA)


def test_myna_text_basic_info(reader: Reader, template: Path) -> None:
    ok(reader, SELECT_TEXT)
    ok(reader, "00 A4 02 0C 02 00 05")
    encoded = myna_read_binary_all(reader)
    stored = stored_file(template, "text", 0x0005)  # the TLV object, then FF filler up to 256 bytes
    assert encoded == stored[: ber_at(stored).end]
    assert stored[len(encoded) :] == b"\xff" * (256 - len(encoded))
    apid, pubkey_id, *_ = ber_children(ber_at(encoded).value)
    assert apid.value == hx("01 03 0E 01")
    assert len(pubkey_id.value) == 16


def test_myna_visual_photo(reader: Reader) -> None:
    ok(reader, SELECT_TEXT)
    ok(reader, "00 A4 02 0C 02 00 11")
    ok(reader, "00 20 00 80 04 31 32 33 34")
    ok(reader, "00 A4 02 0C 02 00 01")
    my_number = ber_at(myna_read_binary(reader, 0, 17)).value
    ok(reader, SELECT_VISUAL)
    ok(reader, "00 A4 02 0C 02 00 13")
    ok(reader, verify_cmd(my_number))  # 00 20 00 80 0C <the 12 digits>
    ok(reader, "00 A4 02 0C 02 00 02")
    encoded = myna_read_binary_all(reader)
    fields = ber_children(ber_at(encoded).value)
    # header(DF21) birth sex key name addr, then the photo: MYNA skips six objects by position
    assert [f.tag for f in fields[:7]] == list(range(0xDF21, 0xDF28))
    photo = fields[6].value
    assert photo.startswith(hx("00 00 00 0C 6A 50 20 20 0D 0A 87 0A"))  # JPEG 2000 (JP2) signature box


def test_myna_pin_status_every_key_answers_63(reader: Reader) -> None:
    """``myna pin status`` requires SW1 = 63 for each of the seven keys (cli.rs)."""
    for select, applet, fids in (
        (SELECT_TEXT, "text", (0x0011, 0x0014, 0x0015)),
        (SELECT_VISUAL, "visual", (0x0013, 0x0012)),
        (SELECT_JPKI, "jpki", (0x0018, 0x001B)),
    ):
        ok(reader, select)
        for fid in fids:
            ok(reader, f"00 A4 02 0C 02 {fid:04X}")
            tries = MAX_TRIES[(applet, fid)]
            assert tries is not None
            response = expect(reader, EMPTY_VERIFY, 0x63C0 | tries, b"")
            assert response.sw1 == 0x63
    # the spec's known limits: PINs 3, signature password 5 (§5)
    assert (MAX_TRIES[("text", 0x0011)], MAX_TRIES[("jpki", 0x0018)], MAX_TRIES[("jpki", 0x001B)]) == (
        3,
        3,
        5,
    )


@pytest.mark.destructive
def test_myna_pin_change_of_the_auth_pin(reader: Reader) -> None:
    """``myna pin change``: VERIFY the current PIN, then ``00 24 01 80 Lc <new>`` (§4.5; MYNA ``reader.rs``
    lines 231–242); the new PIN verifies, the old one no longer does."""
    ok(reader, SELECT_JPKI)
    ok(reader, "00 A4 02 0C 02 00 18")
    ok(reader, "00 20 00 80 04 31 32 33 34")
    ok(reader, "00 24 01 80 04 35 36 37 38")  # "5678"
    ok(reader, "00 20 00 80 04 35 36 37 38")
    expect(reader, "00 20 00 80 04 31 32 33 34", 0x63C2, b"")


def test_myna_unknown_number_is_common_ap_record_1(reader: Reader, template: Path) -> None:
    ok(reader, SELECT_COMMON)
    record = ok(reader, "00 B2 01 0C 00", stored_records(template, "common", 0x0001)[0])
    value = ber_at(record).value  # 01 1C + 28 digits
    digits = f"{PERSONA.card_serial}{PERSONA.municipality_code}{PERSONA.card_expiry:%Y%m%d}"
    assert value.decode() == digits
    assert value.decode()[2:15] == PERSONA.card_serial[2:15]  # `unknown manufacture`


# --- MYNA-GO (the older Go library) -------------------------------------------------------------------------


def go_read_binary(reader: Reader, size: int) -> bytes | None:
    """``Reader.ReadBinary``: always from offset 0; Le 00 while more than 255 remain; nil on any non-9000."""
    out = bytearray()
    pos = 0
    while pos < size:
        le = 0 if size - pos > 0xFF else size - pos
        response = send(reader, bytes((0x00, 0xB0, pos >> 8 & 0xFF, pos & 0xFF, le)))
        if response.sw != OK:
            return None
        out += response.data
        pos += len(response.data)
    return bytes(out)


def go_read_with_probe(reader: Reader) -> bytes:
    """Certificates and the 0002 files: ``ReadBinary(7)``, then ``ReadBinary(total)`` from offset 0 again."""
    head = go_read_binary(reader, 7)
    assert head is not None and len(head) == 7
    data = go_read_binary(reader, ber_header_total(head))
    assert data is not None
    return data


def test_myna_go_token_trimmed_of_spaces(reader: Reader) -> None:
    ok(reader, SELECT_JPKI)
    ok(reader, "00 A4 02 0C 02 00 06")
    data = go_read_binary(reader, 0x20)
    assert data is not None and data.rstrip(b" ") == b"JPKIAPICCTOKEN2"


@pytest.mark.parametrize("fid", [0x000A, 0x000B, 0x0002])
def test_myna_go_read_certificate(reader: Reader, template: Path, fid: int) -> None:
    ok(reader, SELECT_JPKI)
    ok(reader, f"00 A4 02 0C 02 {fid:04X}")
    der = go_read_with_probe(reader)
    assert der == stored_file(template, "jpki", fid)
    x509.load_der_x509_certificate(der)


def test_myna_go_text_ap_fixed_size_reads(reader: Reader, template: Path) -> None:
    ok(reader, SELECT_TEXT)
    ok(reader, "00 A4 02 0C 02 00 11")
    ok(reader, "00 20 00 80 04 31 32 33 34")
    ok(reader, "00 A4 02 0C 02 00 01")
    my_number = go_read_binary(reader, 17)  # 00 B0 00 00 11
    assert my_number is not None and ber_at(my_number).value == b"123456789018"
    ok(reader, "00 A4 02 0C 02 00 02")
    attributes = go_read_with_probe(reader)
    assert [f.tag for f in ber_children(ber_at(attributes).value)] == [0xDF21, 0xDF22, 0xDF23, 0xDF24, 0xDF25]
    ok(reader, "00 A4 02 0C 02 00 03")
    signature = go_read_binary(reader, 336)  # 00 B0 00 00 00, 00 B0 01 00 50
    assert signature == stored_file(template, "text", 0x0003)
    assert [f.tag for f in ber_children(ber_at(signature).value)] == [0xDF31, 0xDF32, 0xDF33]
    ok(reader, "00 A4 02 0C 02 00 04")
    certificate = go_read_binary(reader, 568)  # 00 B0 00 00 00, 00 B0 01 00 00, 00 B0 02 00 38
    assert certificate == stored_file(template, "text", 0x0004)
    assert ber_at(certificate).tag == 0x7F21


def test_myna_go_visual_card_face(reader: Reader, template: Path) -> None:
    """VerifyPinA on 0013 with the 12 digits, then the card face by a 7-byte probe and a read from 0."""
    ok(reader, SELECT_VISUAL)
    ok(reader, "00 A4 02 0C 02 00 13")
    expect(reader, EMPTY_VERIFY, 0x63C0 | MAX_TRIES[("visual", 0x0013)], b"")  # LookupPinA
    ok(reader, "00 A4 02 0C 02 00 13")
    ok(reader, "00 20 00 80 0C 31 32 33 34 35 36 37 38 39 30 31 38")
    ok(reader, "00 A4 02 0C 02 00 02")
    face = go_read_with_probe(reader)
    assert face == stored_file(template, "visual", 0x0002)
    assert [f.tag for f in ber_children(ber_at(face).value)] == list(range(0xDF21, 0xDF2B))


def test_myna_go_text_basic_info_reads_256_bytes(reader: Reader) -> None:
    ok(reader, SELECT_TEXT)
    ok(reader, "00 A4 02 0C 02 00 05")
    data = go_read_binary(reader, 256)
    assert data is not None and len(data) == 256
    apinfo, key_id, *_ = ber_children(ber_at(data).value)
    assert (apinfo.tag, len(apinfo.value), key_id.tag, len(key_id.value)) == (0xDF41, 4, 0xDF42, 16)


@pytest.mark.destructive
def test_myna_go_change_of_the_text_ap_pin(reader: Reader) -> None:
    """MYNA-GO's PIN change in the 券面事項入力補助AP: VERIFY ``0011``, then ``00 24 01 80 Lc <new>`` (§4.5;
    MYNA-GO ``reader.go`` lines 183–195); the new PIN then opens the My Number."""
    ok(reader, SELECT_TEXT)
    ok(reader, "00 A4 02 0C 02 00 11")
    ok(reader, "00 20 00 80 04 31 32 33 34")
    ok(reader, "00 24 01 80 04 38 37 36 35")  # "8765"
    ok(reader, SELECT_TEXT)  # a re-selection clears the PIN on legacy-2016
    ok(reader, "00 A4 02 0C 02 00 11")
    ok(reader, "00 20 00 80 04 38 37 36 35")
    ok(reader, "00 A4 02 0C 02 00 01")
    my_number = go_read_binary(reader, 17)
    assert my_number is not None and ber_at(my_number).value == b"123456789018"


def test_myna_go_lookup_pin(reader: Reader) -> None:
    ok(reader, SELECT_JPKI)
    ok(reader, "00 A4 02 0C 02 00 18")
    expect(reader, EMPTY_VERIFY, 0x63C3, b"")
    ok(reader, "00 A4 02 0C 02 00 1B")
    expect(reader, EMPTY_VERIFY, 0x63C5, b"")


# --- OpenSC 0.23 JPKI driver (§7) ---------------------------------------------------------------------------


def opensc_bind(reader: Reader) -> None:
    """``sc_pkcs15_bind`` → jpki: SELECT AP, then each PIN's GET_INFO, which fails unless SW1 = 63."""
    ok(reader, "00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01")
    ok(reader, "00 A4 02 0C 02 00 18")
    expect(reader, "00 20 00 80", 0x63C3, b"")
    ok(reader, "00 A4 02 0C 02 00 1B")
    expect(reader, "00 20 00 80", 0x63C5, b"")


def opensc_read_certificate(reader: Reader, fid: int) -> bytes:
    """jpki_select_file reads ``00 B0 00 00 04`` and sets size = HHLL + 4; sc_read_binary then reads from
    offset 0 in max_recv_size (256 → Le 00) chunks, the last with the exact remaining Le."""
    ok(reader, bytes((0x00, 0xA4, 0x02, 0x0C, 0x02, 0x00, fid)))
    head = ok(reader, "00 B0 00 00 04", None)
    assert len(head) == 4 and head[:2] == hx("30 82")
    size = int.from_bytes(head[2:4], "big") + 4
    out = bytearray()
    while len(out) < size:
        n = min(256, size - len(out))
        out += ok(reader, bytes((0x00, 0xB0, len(out) >> 8, len(out) & 0xFF, n & 0xFF)), None)
    assert len(out) == size
    return bytes(out)


def test_opensc_bind_reads_both_counters(reader: Reader) -> None:
    opensc_bind(reader)


def test_opensc_pkcs15_tool_c(reader: Reader, template: Path) -> None:
    """``pkcs15-tool -c``: certificates 01–04 in object order; 0001 is PRIVATE and the card says 69 82."""
    opensc_bind(reader)
    for fid in (0x000A, 0x0001, 0x000B, 0x0002):
        if fid == 0x0001:
            ok(reader, "00 A4 02 0C 02 00 01")
            expect(reader, "00 B0 00 00 04", SECURITY_NOT_SATISFIED, b"")
            continue
        assert opensc_read_certificate(reader, fid) == stored_file(template, "jpki", fid)


def test_opensc_pkcs15_tool_verify_pin_then_read_sign_certificate(reader: Reader, template: Path) -> None:
    """``pkcs15-tool -r 02 -a 02 --verify-pin`` (jpki/OpenSC #3)."""
    opensc_bind(reader)
    ok(reader, "00 A4 02 0C 02 00 1B")
    ok(reader, "00 20 00 80 08 54 45 53 54 31 32 33 34")
    assert opensc_read_certificate(reader, 0x0001) == stored_file(template, "jpki", 0x0001)


def test_opensc_pkcs11_sign_with_the_auth_key(reader: Reader, template: Path) -> None:
    """``pkcs11-tool --sign --id 01 -m SHA256-RSA-PKCS --login --pin 1234``; GET_INFO afterwards still
    answers 63 C3 (an empty VERIFY after a successful one, §9.1)."""
    opensc_bind(reader)
    ok(reader, "00 A4 02 0C 02 00 18")
    ok(reader, "00 20 00 80 04 31 32 33 34")
    ok(reader, "00 A4 02 0C 02 00 17")
    command = hx("80 2A 00 80 33 30 31 30 0D 06 09 60 86 48 01 65 03 04 02 01 05 00 04 20") + HASH + hx("00")
    signature = ok(reader, command, None)
    assert len(signature) == 256
    verifies(stored_file(template, "jpki", 0x000A), signature)
    ok(reader, "00 A4 02 0C 02 00 18")
    expect(reader, "00 20 00 80", 0x63C3, b"")
    ok(reader, "00 A4 02 0C 02 00 17")  # still logged in: a second signature needs no new VERIFY
    assert ok(reader, command, None) == signature


def test_opensc_pkcs11_sign_key_context_specific_login(reader: Reader, template: Path) -> None:
    """The sign key has user_consent: a VERIFY of 001B right before each signature."""
    opensc_bind(reader)
    ok(reader, "00 A4 02 0C 02 00 1B")
    ok(reader, "00 20 00 80 08 54 45 53 54 31 32 33 34")
    ok(reader, "00 A4 02 0C 02 00 1A")
    signature = ok(reader, sign_cmd(0x80, SHA256_DIGEST_INFO), None)
    verifies(stored_file(template, "jpki", 0x0001), signature)
    ok(reader, "00 A4 02 0C 02 00 1B")
    expect(reader, "00 20 00 80", 0x63C5, b"")


def test_opensc_tool_send_apdu(reader: Reader) -> None:
    """``opensc-tool -s 00A4040C0AD392F000260100000001``; foreign AIDs of the drivers before jpki → 6A 82."""
    ok(reader, "00A4040C0AD392F000260100000001")
    for aid in ("A0 00 00 00 01 01", "D2 76 00 01 24 01", "A0 00 00 03 97 42 54 46 59"):
        expect(reader, bytes((0x00, 0xA4, 0x04, 0x00, len(hx(aid)))) + hx(aid) + b"\x00", 0x6A82, b"")


# --- TRET (iOS) ---------------------------------------------------------------------------------------------


def test_tret_token_with_spaces_filtered(reader: Reader) -> None:
    ok(reader, SELECT_JPKI)
    ok(reader, "00 A4 02 0C 02 00 06")
    data = ok(reader, "00 B0 00 00 14", TOKEN_LABEL[:20])
    assert data.replace(b" ", b"") == b"JPKIAPICCTOKEN2"


def test_tret_my_number_as_simple_tlv_after_the_first_byte(reader: Reader) -> None:
    ok(reader, SELECT_TEXT)
    ok(reader, "00 A4 02 0C 02 00 11")
    ok(reader, "00 20 00 80 04 31 32 33 34")
    ok(reader, "00 A4 02 0C 02 00 01")
    data = ok(reader, "00 B0 00 00 11", None)[1:]
    tag, length = data[0], data[1]
    assert (tag, length) == (0x10, 0x0C)
    assert data[2 : 2 + length] == b"123456789018"


def test_tret_retry_lookup(reader: Reader) -> None:
    ok(reader, SELECT_JPKI)
    ok(reader, "00 A4 02 0C 02 00 1B")
    expect(reader, EMPTY_VERIFY, 0x63C5, b"")
    ok(reader, "00 A4 02 0C 02 00 18")
    expect(reader, EMPTY_VERIFY, 0x63C3, b"")
    ok(reader, SELECT_TEXT)
    ok(reader, "00 A4 02 0C 02 00 11")
    expect(reader, EMPTY_VERIFY, 0x63C3, b"")
    ok(reader, SELECT_COMMON)
    ok(reader, "00 A4 02 0C 02 00 1C")
    expect(reader, EMPTY_VERIFY, 0x63C3, b"")


# --- MNB (lanesky/mnbcard, Python) --------------------------------------------------------------------------


def mnb_read_binary_cert(reader: Reader) -> bytes:
    """``read_binary_cert``: ``00 B0 00 00 04``, then ``00 B0 ii 00 00`` for ii = 0..HH; each needs 90 xx."""
    head = ok(reader, "00 B0 00 00 04", None)
    der = bytearray()
    for i in range(head[-2] + 1):
        der += ok(reader, bytes((0x00, 0xB0, i, 0x00, 0x00)), None)
    return bytes(der)


def mnb_parse_attr(data: bytes, segment_start: int) -> str:
    """``_parse_attr``: pos 0–1 tag, pos 2 one length byte, then the value."""
    length = data[segment_start + 2]
    return data[segment_start + 3 : segment_start + 3 + length].decode("utf-8")


def mnb_basic_info(data: bytes) -> tuple[str, str, str, str]:
    """``get_basic_info``: the segment starts are the single bytes at 9, 11, 13, 15 (BASE_FOUR_MANIFEST)."""
    return tuple(mnb_parse_attr(data, data[i]) for i in (9, 11, 13, 15))  # type: ignore[return-value]


@pytest.mark.parametrize(("fid", "pin_fid", "pin"), [(0x000A, None, b""), (0x0001, 0x001B, SIGN_PASSWORD)])
def test_mnb_certificates(reader: Reader, template: Path, fid: int, pin_fid: int | None, pin: bytes) -> None:
    ok(reader, SELECT_JPKI)
    if pin_fid is not None:
        ok(reader, f"00 A4 02 0C 02 {pin_fid:04X}")
        ok(reader, verify_cmd(pin))
    ok(reader, f"00 A4 02 0C 02 {fid:04X}")
    assert mnb_read_binary_cert(reader) == stored_file(template, "jpki", fid)


@pytest.mark.parametrize(
    ("pin_fid", "pin", "key", "cert"), [(0x18, AUTH_PIN, 0x17, 0x0A), (0x1B, SIGN_PASSWORD, 0x1A, 0x01)]
)
def test_mnb_compute_signature(
    reader: Reader, template: Path, pin_fid: int, pin: bytes, key: int, cert: int
) -> None:
    ok(reader, SELECT_JPKI)
    ok(reader, f"00 A4 02 0C 02 00 {pin_fid:02X}")
    ok(reader, verify_cmd(pin))
    ok(reader, f"00 A4 02 0C 02 00 {key:02X}")
    # DIGEST.HEADER + SHA256_OID + hash, Lc 33, Le 00
    command = hx("80 2A 00 80 33 30 31 30 0D 06 09 60 86 48 01 65 03 04 02 01 05 00 04 20") + HASH + hx("00")
    verifies(stored_file(template, "jpki", cert), ok(reader, command, None))


def test_mnb_my_number_at_bytes_3_to_14(reader: Reader) -> None:
    ok(reader, "00 A4 04 0C 0A D3 92 10 00 31 00 01 01 04 08")
    ok(reader, "00 A4 02 0C 02 00 11")
    ok(reader, "00 20 00 80 04 31 32 33 34")
    ok(reader, "00 A4 02 0C 02 00 01")
    data = ok(reader, "00 B0 00 00 00", None)  # Le 256 on a 17-byte EF: the 17 bytes and 90 00 (§4.2)
    assert len(data) == 17
    assert data[3:15].decode() == PERSONA.my_number


def mnb_read_attributes(reader: Reader) -> bytes:
    ok(reader, SELECT_TEXT)
    ok(reader, "00 A4 02 0C 02 00 11")
    ok(reader, "00 20 00 80 04 31 32 33 34")
    ok(reader, "00 A4 02 0C 02 00 02")
    return ok(reader, "00 B0 00 00 00", None)


def test_mnb_basic_info_fixed_offsets(form: str, form_reader: tuple[Reader, bytes]) -> None:
    reader, stored = form_reader
    data = mnb_read_attributes(reader)
    assert data == stored
    if form == "long":
        assert mnb_basic_info(data) == basic_four(PERSONA)
        return
    # §9.5 conflict: on FF 20 LL the bytes at 9/11/13/15 are not the four offsets' low bytes; byte 9 is
    # the low byte of the *address* offset, so MNB's "name" is the address.
    assert data[data[9] : data[9] + 2] == hx("DF 23")
    assert mnb_parse_attr(data, data[9]) == PERSONA.address
    assert mnb_parse_attr(data, data[9]) != PERSONA.name


# --- PYJ (meowkawaiijp/pyjpki, Python) ----------------------------------------------------------------------


def pyj_parse(data: bytes) -> dict[bytes, bytes]:
    """``_parse_tlv``: find DF 21, then 2-byte tags with short or long lengths to the end of the data."""
    i = data.index(hx("DF 21"))
    out: dict[bytes, bytes] = {}
    while i < len(data):
        tag = data[i : i + 2]
        i += 2
        if data[i] & 0x80:
            count = data[i] & 0x7F
            length = int.from_bytes(data[i + 1 : i + 1 + count], "big")
            i += 1 + count
        else:
            length = data[i]
            i += 1
        out[tag] = data[i : i + length]
        i += length
    return out


def test_pyj_certificate_single_read_is_truncated_at_256(reader: Reader, template: Path) -> None:
    """PYJ reads a certificate with one ``00 B0 00 00 00``: the card answers the first 256 bytes and 90 00
    (the truncation is PYJ's bug, §4.2; the card's part is the 256 bytes)."""
    ok(reader, SELECT_JPKI)
    ok(reader, "00 A4 02 0C 02 00 0A")
    assert ok(reader, "00 B0 00 00 00", None) == stored_file(template, "jpki", 0x000A)[:256]


def test_pyj_sign(reader: Reader, template: Path) -> None:
    ok(reader, SELECT_JPKI)
    ok(reader, "00 A4 02 0C 02 00 18")
    ok(reader, "00 20 00 80 04 31 32 33 34")
    ok(reader, "00 A4 02 0C 02 00 17")
    verifies(stored_file(template, "jpki", 0x000A), ok(reader, sign_cmd(0x80, SHA256_DIGEST_INFO), None))


def test_pyj_personal_info(form_reader: tuple[Reader, bytes]) -> None:
    reader, stored = form_reader
    data = mnb_read_attributes(reader)  # the same four APDUs: SELECT AP, SELECT 0011, VERIFY, SELECT 0002
    assert data == stored
    tags = pyj_parse(data)
    got = tuple(tags[hx(t)].decode() for t in ("DF 22", "DF 23", "DF 24", "DF 25"))
    assert got == basic_four(PERSONA)
    assert tags[hx("DF 25")] == b"1"  # gender byte 0x31 → "Male"


@pytest.mark.destructive
def test_pyj_wrong_pin_is_a_63_status(reader: Reader) -> None:
    ok(reader, SELECT_JPKI)
    ok(reader, "00 A4 02 0C 02 00 18")
    expect(reader, "00 20 00 80 04 39 39 39 39", 0x63C2, b"")  # any 63 xx is a PIN error to PYJ
    ok(reader, "00 20 00 80 04 31 32 33 34")
    expect(reader, EMPTY_VERIFY, 0x63C3, b"")  # a correct VERIFY restores the counter


# --- MBE (myna-browser-extension card.py) -------------------------------------------------------------------


def test_mbe_user_auth_signature_by_sfi(reader: Reader, template: Path) -> None:
    ok(reader, "00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01")
    ok(reader, "00 20 00 98 04 31 32 33 34")  # VERIFY_USER_AUTH: key 0018 by SFI
    signature = ok(reader, sign_cmd(0x97, SHA256_DIGEST_INFO), None)  # 80 2A 00 97 33 <DigestInfo> 00
    assert len(signature) == 256
    verifies(stored_file(template, "jpki", 0x000A), signature)
    expect(reader, "00 20 00 98", 0x63C3, b"")  # empty VERIFY after a successful one: still 63 Cx


def test_mbe_certificate_with_extended_le(reader: Reader, template: Path) -> None:
    ok(reader, SELECT_JPKI)
    head = ok(reader, "00 B0 8A 00 04", None)  # SFI 0A, 4 bytes: 30 82 HH LL
    stored = stored_file(template, "jpki", 0x000A)
    assert head == stored[:4]
    rest = ok(reader, hx("00 B0 8A 04 00") + head[2:4], stored[4:])  # offset 4, extended Le = HHLL
    assert len(rest) == int.from_bytes(head[2:4], "big")


def mbe_read_kenmen(reader: Reader) -> tuple[bytes, int, bytes]:
    ok(reader, SELECT_TEXT)
    ok(reader, "00 20 00 91 04 31 32 33 34")  # VERIFY_KENMEN: PIN 0011 by SFI
    digits = ok(reader, "00 B0 81 03 0C", PERSONA.my_number.encode())  # the 12 digits directly
    assert digits == b"123456789018"
    length = ok(reader, "00 B0 82 02 01", None)
    assert len(length) == 1
    value = ok(reader, bytes((0x00, 0xB0, 0x82, 0x03, length[0])), None)
    return digits, length[0], value


def mbe_val(value: bytes, i: int) -> str:
    """Field ``i`` through the DF21 table: offsets count from the file start, the value starts at 3."""
    assert value[:3] == hx("DF 21 08")
    offset = int.from_bytes(value[3 + 2 * i : 5 + 2 * i], "big") - 3
    return value[offset + 3 : offset + 3 + value[offset + 2]].decode("utf-8")


def test_mbe_basic_four_by_sfi(form: str, form_reader: tuple[Reader, bytes]) -> None:
    reader, stored = form_reader
    _digits, length, value = mbe_read_kenmen(reader)
    if form == "short":
        assert value == stored[3:] and length == len(value)
        assert tuple(mbe_val(value, i) for i in range(4)) == basic_four(PERSONA)
        return
    # §9.5 conflict: on FF 20 82 HH LL byte 2 is the length-form byte 82, not the length, and the bytes
    # from offset 3 start with HH LL instead of DF 21: MBE cannot parse the long form.
    assert length == 0x82 != len(ber_at(stored).value)
    assert value[:3] != hx("DF 21 08")
    assert value[:2] == stored[3:5]


# --- jsapdu (AokiApp) ---------------------------------------------------------------------------------------


def test_jsapdu_select_df_with_fci(reader: Reader) -> None:
    """``selectDf(aid, true)``: P2 00 with Le 00 → an FCI template (content UNKNOWN, §2.1) and 90 00."""
    fci = ok(reader, "00 A4 04 00 0A D3 92 F0 00 26 01 00 00 00 01 00", None)
    template = ber_at(fci)
    assert template.tag == 0x6F and template.end == len(fci)


def test_jsapdu_read_ef_binary_full_with_extended_le(reader: Reader, template: Path) -> None:
    """``readEfBinaryFull(sfi)`` = ``00 B0 <80|sfi> 00 00 00 00``: Le 65536, the whole EF in one answer."""
    ok(reader, "00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01")
    ok(reader, "00 B0 8A 00 00 00 00", stored_file(template, "jpki", 0x000A))
    ok(reader, "00 B0 86 00 00 00 00", stored_file(template, "jpki", 0x0006))
    expect(reader, "00 B0 81 00 00 00 00", SECURITY_NOT_SATISFIED, b"")
    ok(reader, "00 20 00 9B 08 54 45 53 54 31 32 33 34")  # verify(pw, {ef: 0x1B}) → 00 20 00 9B
    ok(reader, "00 B0 81 00 00 00 00", stored_file(template, "jpki", 0x0001))


def test_jsapdu_verify_forms_and_full_reads_in_the_card_face_ap(reader: Reader, template: Path) -> None:
    ok(reader, SELECT_VISUAL)
    expect(reader, "00 B0 82 00 00 00 00", SECURITY_NOT_SATISFIED, b"")
    ok(reader, verify_cmd(PERSONA.verification_code_a.encode(), 0x93))  # 照合番号A by SFI 13
    face = ok(reader, "00 B0 82 00 00 00 00", stored_file(template, "visual", 0x0002))
    assert len(face) > 256  # one extended answer, no chunking
    ok(reader, SELECT_TEXT)
    ok(reader, "00 A4 02 0C 02 00 15")
    ok(reader, verify_cmd(PERSONA.verification_code_b.encode()))  # verify(b, {}) → 00 20 00 80
    ok(reader, "00 B0 82 00 00 00 00", stored_file(template, "text", 0x0002))
    expect(reader, "00 B0 81 00 00 00 00", SECURITY_NOT_SATISFIED, b"")  # B does not open 0001
