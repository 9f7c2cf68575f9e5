"""The 特定在留カード (specified residence card, residence-card.md §9.2): a My Number card with the 在留AP.

Session-key delivery as the second key establishment of the SM layer (SET SESSION KEY ``80 AE 00 00``, an
AES-128 key under RSA-OAEP, then the ICAO SM with its counter), the whole 在留AP read and its signature
checked against the TEST anchor, today's applets unchanged beside it, and the bad input of issue 13: a
wrong padding or key size, SM objects missing or altered, a wrong card number, reads before VERIFY.
The layout, derivation and status words are the profile's ASSUMED choices (``specified-residence.toml``).
"""

from __future__ import annotations

from importlib import resources

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from mynacard.apdu.applets.jpki import AUTH_PIN, JpkiSession
from mynacard.apdu.applets.residence import (
    DF1_AID,
    DF2_AID,
    ZAIRYU_AP_AID,
    SpecifiedResidenceSession,
    verify_signature,
)
from mynacard.apdu.applets.session import select_df_name
from mynacard.apdu.applets.text import TextSession
from mynacard.apdu.command import CommandApdu
from mynacard.apdu.readers.virtual import VirtualReader
from mynacard.apdu.response import ResponseApdu
from mynacard.apdu.sm import SmSession
from mynacard.apdu.sm.residence_delivery import delivered_keys, set_session_key_command
from mynacard.emulator.card import Card
from mynacard.emulator.issuance.personalise import open_card
from mynacard.emulator.issuance.personas import load_persona
from mynacard.emulator.issuance.residence_pki import load_anchor

NUMBER = "AA12345678BB"
SESSION_KEY = bytes(range(16))


def h(text: str) -> bytes:
    return bytes.fromhex(text)


def delivery_key() -> rsa.RSAPublicKey:
    pem = (
        resources.files("mynacard.profiles").joinpath("keys", "TEST-zairyu-delivery-rsa2048.pem").read_bytes()
    )
    key = serialization.load_pem_private_key(pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key.public_key()


@pytest.fixture(scope="module")
def card() -> Card:
    return open_card("specified-residence", "residence-worker", None)


@pytest.fixture
def r(card: Card) -> VirtualReader:
    virtual = VirtualReader(card)
    virtual.power_on()
    return virtual


def tx(r: VirtualReader, command: str | bytes) -> tuple[bytes, int]:
    response = r.transmit(h(command) if isinstance(command, str) else command)
    return response.data, response.sw


def delivered(r: VirtualReader) -> SmSession:
    """SELECT 在留AP and SET SESSION KEY with ``SESSION_KEY``; the host's session."""
    assert tx(r, select_df_name(ZAIRYU_AP_AID)) == (b"", 0x9000)
    assert tx(r, set_session_key_command(delivery_key(), SESSION_KEY).to_bytes()) == (b"", 0x9000)
    return delivered_keys(SESSION_KEY).session()


def protected(r: VirtualReader, session: SmSession, command: CommandApdu) -> ResponseApdu:
    return session.unwrap_response(r.transmit(session.wrap_command(command).to_bytes()))


def test_the_whole_zairyu_ap_and_its_signature(r: VirtualReader) -> None:
    data = SpecifiedResidenceSession(r, NUMBER, delivery_key()).read_all()
    assert data.card_type == "07" and data.common == h("C0 04 30 30 30 31")
    sizes = {name: len(content) for name, content in data.files.items()}
    assert sizes == {
        "card_number": 14,
        "printed_entries": 73,
        "name_and_face": 5508,
        "address_image": 2505,
        "activity_permission": 22,
        "renewal": 3,
        "other": 207,
        "signature": 704,
    }
    assert data.files["card_number"] == h("C2 0C") + NUMBER.encode()
    verify_signature(data, load_anchor("gen2").certificate)


def test_the_sprc_is_type_08_without_permissions() -> None:
    with VirtualReader(open_card("specified-residence", "residence-sprc", None)) as r:
        data = SpecifiedResidenceSession(r, "SP00000001TS", delivery_key()).read_all()
    assert data.card_type == "08"
    assert "activity_permission" not in data.files and "renewal" not in data.files
    verify_signature(data, load_anchor("gen2").certificate)


def test_todays_applets_keep_working_beside_it(r: VirtualReader) -> None:
    persona = load_persona("residence-worker")
    SpecifiedResidenceSession(r, NUMBER, delivery_key()).read_all()
    jpki = JpkiSession(r)
    jpki.select()
    assert jpki.tries_left(AUTH_PIN) == 3
    jpki.verify(AUTH_PIN, persona.auth_pin)
    text = TextSession(r)
    text.select()
    assert text.read_basic_attributes(persona.text_pin).name == persona.name


def test_a_legacy_card_has_no_zairyu_ap() -> None:
    with VirtualReader(open_card("legacy-2016", "default", None)) as r:
        assert tx(r, select_df_name(ZAIRYU_AP_AID)) == (b"", 0x6A82)
        assert tx(r, "80 AE 00 00 10" + " 00" * 16) == (b"", 0x6D00)


def test_the_session_key_command_shape() -> None:
    command = set_session_key_command(delivery_key(), SESSION_KEY).to_bytes()
    assert command[:7] == h("80 AE 00 00 00 01 00") and len(command) == 7 + 256


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("garbage-256", bytes(256)),
        ("short", bytes(16)),
        ("one-bit-flipped", None),
        ("pkcs1-v1.5-padding", b"v15"),
        ("24-byte-key", bytes(24)),
        ("sha1-oaep", b"sha1"),
    ],
)
def test_set_session_key_with_a_wrong_padding_or_key_size(
    r: VirtualReader, name: str, data: bytes | None
) -> None:
    """``6A 80`` (ASSUMED), no session: a protected command afterwards is ``69 88``."""
    key = delivery_key()
    good = set_session_key_command(key, SESSION_KEY).data
    wrapped = {
        None: good[:100] + bytes((good[100] ^ 1,)) + good[101:],
        b"v15": key.encrypt(SESSION_KEY, padding.PKCS1v15()),
        b"sha1": key.encrypt(SESSION_KEY, padding.OAEP(padding.MGF1(hashes.SHA1()), hashes.SHA1(), None)),
    }.get(data)
    if wrapped is None:
        wrapped = set_session_key_command(key, data).data if data == bytes(24) else data
    assert wrapped is not None
    assert tx(r, select_df_name(ZAIRYU_AP_AID))[1] == 0x9000
    assert tx(r, CommandApdu(0x80, 0xAE, 0x00, 0x00, wrapped, extended=True).to_bytes()) == (b"", 0x6A80)
    session = delivered_keys(SESSION_KEY).session()
    verify = session.wrap_command(CommandApdu(0x00, 0x20, 0x00, 0x86, NUMBER.encode()))
    assert tx(r, verify.to_bytes()) == (b"", 0x6988)
    assert SpecifiedResidenceSession(r, NUMBER, delivery_key()).read_all().files  # the card keeps serving


def test_reads_before_verify(r: VirtualReader) -> None:
    for df, p1 in ((ZAIRYU_AP_AID, "8A"), (DF1_AID, "81"), (DF2_AID, "83")):
        assert tx(r, select_df_name(df)) == (b"", 0x9000)
        expected = (h("C1 02 30 37"), 0x9000) if p1 == "8A" else (b"", 0x6982)
        assert tx(r, f"00 B0 {p1} 00 00 00 00") == expected
    session = delivered(r)
    assert protected(r, session, CommandApdu(0x00, 0xA4, 0x04, 0x0C, DF1_AID)).sw == 0x9000
    read = CommandApdu(0x00, 0xB0, 0x81, 0x00, b"", 65536)
    assert protected(r, session, read).to_bytes() == h("69 82")


def test_verify_in_plain_and_a_wrong_card_number(r: VirtualReader) -> None:
    assert tx(r, select_df_name(ZAIRYU_AP_AID))[1] == 0x9000
    assert tx(r, "00 20 00 86 0C" + NUMBER.encode().hex()) == (b"", 0x6982)
    session = delivered(r)
    wrong = session.wrap_command(CommandApdu(0x00, 0x20, 0x00, 0x86, b"ZZ99999999ZZ"))
    assert tx(r, wrong.to_bytes()) == (b"", 0x6300)  # in plain: the session ended with it
    again = session.wrap_command(CommandApdu(0x00, 0x20, 0x00, 0x86, NUMBER.encode()))
    assert tx(r, again.to_bytes()) == (b"", 0x6988)


def test_sm_objects_missing_or_altered(r: VirtualReader) -> None:
    session = delivered(r)
    verify = session.wrap_command(CommandApdu(0x00, 0x20, 0x00, 0x86, NUMBER.encode())).to_bytes()
    altered = verify[:-3] + bytes((verify[-3] ^ 1,)) + verify[-2:]  # a MAC byte
    assert tx(r, altered) == (b"", 0x6988)
    session = delivered(r)
    without_mac = h("0C 20 00 86 13 87 11 01") + bytes(16)
    assert tx(r, without_mac) == (b"", 0x6987)
    session = delivered(r)
    assert protected(r, session, CommandApdu(0x00, 0x20, 0x00, 0x86, NUMBER.encode())).sw == 0x9000
    assert tx(r, "08 B0 81 00 00 00 04 96 02 00 00 00 00") == (b"", 0x6988)  # the standalone cards' SM


def test_a_plain_command_ends_the_session(r: VirtualReader) -> None:
    session = delivered(r)
    assert protected(r, session, CommandApdu(0x00, 0x20, 0x00, 0x86, NUMBER.encode())).sw == 0x9000
    assert tx(r, select_df_name(DF2_AID)) == (b"", 0x9000)
    assert tx(r, "00 B0 83 00 00 00 00") == (b"", 0x6982)


@pytest.mark.pcsc
def test_the_zairyu_ap_through_pcscd_and_vpcd(request: pytest.FixtureRequest) -> None:
    from mynacard.apdu.readers.pcsc import PcscReader

    stack = request.getfixturevalue("pcsc_stack")
    stack.insert(open_card("specified-residence", "residence-worker", None))
    with PcscReader(stack.reader_name) as pcsc:
        pcsc.power_on()
        data = SpecifiedResidenceSession(pcsc, NUMBER, delivery_key()).read_all()
    verify_signature(data, load_anchor("gen2").certificate)


def test_demo_reads_todays_card_and_the_zairyu_ap(
    tmp_path: object, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse
    from pathlib import Path

    from mynacard.tools.cli.demo import run

    state = Path(str(tmp_path)) / "card"
    args = argparse.Namespace(
        profile="specified-residence", persona="residence-worker", state=state, trace=None
    )
    assert run(args) == 0
    out = capsys.readouterr().out
    assert "# signature verified with the certificate's public key: OK" in out  # JPKI, as today
    assert "# card type '07': card_number 14 B, printed_entries 73 B, name_and_face 5508 B" in out
    assert "verified against the TEST anchor CN=ZairyuCard-TEST CA2,O=ZairyuCard-TEST,C=JP" in out
    assert NUMBER not in out


def test_the_zairyu_ap_on_the_next_card() -> None:
    """specified-residence-nextgen: the same 在留AP on nextgen-2026, whose 認証AP keeps working beside it."""
    from mynacard.apdu.applets import nextgen
    from mynacard.apdu.applets.nextgen import AuthSession

    persona = load_persona("residence-worker")
    with VirtualReader(open_card("specified-residence-nextgen", "residence-worker", None)) as r:
        data = SpecifiedResidenceSession(r, NUMBER, delivery_key()).read_all()
        auth = AuthSession(r)
        auth.select()
        auth.verify(nextgen.SIGN_PASSWORD, persona.sign_password)
        assert auth.tries_left(nextgen.PIN) == 3
    assert data.card_type == "07"
    verify_signature(data, load_anchor("gen2").certificate)


def test_secure_messaging_only_in_the_zairyu_ap(r: VirtualReader) -> None:
    """Today's applets answer a protected command ``68 82`` as on legacy-2016; the 在留AP ``69 88`` (no
    session yet)."""
    protected = "0C B0 81 00 0D 97 01 00 8E 08 00 00 00 00 00 00 00 00 00"
    assert tx(r, select_df_name(bytes.fromhex("D3 92 F0 00 26 01 00 00 00 01"))) == (b"", 0x9000)
    assert tx(r, protected) == (b"", 0x6882)
    assert tx(r, select_df_name(ZAIRYU_AP_AID)) == (b"", 0x9000)
    assert tx(r, protected) == (b"", 0x6988)
