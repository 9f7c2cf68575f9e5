"""The residence cards on the card side (在留カード等, residence-card.md §3–§8), through the virtual reader.

Full reading sequences of both generations for each TEST holder (in 在留カード, SPRC, under 16 without a
photo), with the signature checked against the TEST anchor; the spec's worked examples replayed on the
card itself (its RND.ICC and K.ICC injected); and the bad input of issue 13: a wrong card number, a
replayed or altered MUTUAL AUTHENTICATE, reads before authentication, SM objects missing or altered. Every
answer is exact bytes and status words, and the card keeps serving after each.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from mynacard.apdu.applets.residence import (
    DF1_AID,
    DF2_AID,
    DF3_AID,
    ResidenceCardData,
    ResidenceSession,
    SignatureError,
    signed_data,
    verify_signature,
)
from mynacard.apdu.applets.session import select_df_name
from mynacard.apdu.command import CommandApdu
from mynacard.apdu.readers.virtual import VirtualReader
from mynacard.apdu.sm.residence import GEN1, GEN2, ResidenceGeneration, ResidenceTerminal, verify_command
from mynacard.apdu.sm.residence_sm import ResidenceSm
from mynacard.emulator.card import Card
from mynacard.emulator.issuance.personalise import open_card
from mynacard.emulator.issuance.residence_pki import ANCHOR_NAMES, load_anchor

CARD_NUMBERS = {
    "residence-worker": "AA12345678BB",
    "residence-sprc": "SP00000001TS",
    "residence-child": "CH00000016TS",
}
PROFILES = {"residence-gen1": GEN1, "residence-gen2": GEN2}


def h(text: str) -> bytes:
    return bytes.fromhex(text)


def replay(*values: bytes) -> Callable[[int], bytes]:
    queue = list(values)
    return lambda length: queue.pop(0)


@pytest.fixture(scope="module")
def cards() -> dict[tuple[str, str], Card]:
    """One personalised card per profile and holder (in memory); each test powers it up afresh."""
    return {(p, holder): open_card(p, holder, None) for p in PROFILES for holder in CARD_NUMBERS}


def reader(card: Card) -> VirtualReader:
    virtual = VirtualReader(card)
    virtual.power_on()
    return virtual


def tx(r: VirtualReader, command: str | bytes) -> tuple[bytes, int]:
    response = r.transmit(h(command) if isinstance(command, str) else command)
    return response.data, response.sw


def authenticated(r: VirtualReader, generation: ResidenceGeneration, number: str) -> ResidenceSm:
    """GET CHALLENGE, MUTUAL AUTHENTICATE (both 90 00); the session, not yet VERIFY."""
    terminal = ResidenceTerminal.for_card_number(generation, number)
    rnd_icc, sw = tx(r, "00 84 00 00 08")
    assert sw == 0x9000 and len(rnd_icc) == 8
    answer, sw = tx(r, h("00 82 00 00 28") + terminal.authentication_data(rnd_icc) + h("00"))
    assert sw == 0x9000 and len(answer) == 40
    return terminal.complete(answer)


def sm_read(r: VirtualReader, session: ResidenceSm, p1: int) -> tuple[bytes, int]:
    command = session.wrap_command(CommandApdu(0x00, 0xB0, p1, 0x00, b"", 65536))
    response = r.transmit(command.to_bytes())
    if response.sw != 0x9000:
        return response.data, response.sw
    return session.unwrap_response(response).data, response.sw


# -- full reading sequences ---------------------------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILES)
@pytest.mark.parametrize("holder", CARD_NUMBERS)
def test_full_reading_sequence_and_signature(
    cards: dict[tuple[str, str], Card], profile: str, holder: str
) -> None:
    generation = PROFILES[profile]
    with reader(cards[(profile, holder)]) as r:
        data = ResidenceSession(r, CARD_NUMBERS[holder]).read_all()
    assert data.generation is generation
    assert data.common == h("C0 04 30 30 30 31")
    sprc = holder == "residence-sprc"
    expected_type = {("gen1", False): "1", ("gen1", True): "2", ("gen2", False): "05", ("gen2", True): "06"}
    assert data.card_type == expected_type[(generation.name, sprc)]
    sizes = {name: len(content) for name, content in data.files.items()}
    if generation is GEN1:
        expected = {"front_image": 7004, "face_image": 3004, "address": 342, "signature": 1464}
        if not sprc:
            expected |= {"activity_permission": 122, "individual_permission": 122, "renewal": 3}
    else:
        expected = {"card_number": 14, "printed_entries": 46 if sprc else 73, "name_and_face": 5508}
        expected |= {"address_image": 2505, "other": 207, "signature": 704}
        if not sprc:
            expected |= {"activity_permission": 22, "renewal": 3}
    assert sizes == expected
    certificate = verify_signature(data, load_anchor(generation.name).certificate)
    subject = certificate.subject.rfc4514_string()
    assert subject == f"CN=TEST card {certificate.serial_number:016X},O=ZairyuCard-TEST,C=JP"
    issuer = f"CN={ANCHOR_NAMES[generation.name]},O=ZairyuCard-TEST,C=JP"
    assert certificate.issuer.rfc4514_string() == issuer


def test_gen2_files_carry_the_spec_headers(cards: dict[tuple[str, str], Card]) -> None:
    with reader(cards[("residence-gen2", "residence-worker")]) as r:
        data = ResidenceSession(r, "AA12345678BB").read_all()
    assert data.files["card_number"] == h("C2 0C") + b"AA12345678BB"
    assert data.files["name_and_face"][:4] == h("D0 82 09 C4")
    assert data.files["name_and_face"][2504:2508] == h("D1 82 0B B8")
    assert data.files["address_image"][:5] == h("DF D1 82 09 C4")
    assert data.files["other"][:7] == h("D9 01 30 DE 82 00 C8")
    assert data.files["signature"][:2] == h("DC 60") and data.files["signature"][98:100] == h("DD 82")
    tags = [data.files["printed_entries"][i] for i in (0, 10, 20, 23, 28, 40, 46, 50, 60, 63)]
    assert tags == [0xC5, 0xC6, 0xC7, 0xC8, 0xC9, 0xCE, 0xCA, 0xCB, 0xCC, 0xCD]
    assert data.files["printed_entries"][:10] == h("C5 08") + b"20300602"


def test_gen1_files_carry_the_spec_headers(cards: dict[tuple[str, str], Card]) -> None:
    with reader(cards[("residence-gen1", "residence-worker")]) as r:
        data = ResidenceSession(r, "AA12345678BB").read_all()
    assert data.files["front_image"][:4] == h("D0 82 1B 58")
    assert data.files["front_image"][4:8] in (b"II*\x00", b"MM\x00*")  # an MMR TIFF
    assert data.files["face_image"][:4] == h("D1 82 0B B8")
    assert data.files["address"][:12] == h("D2 08") + b"20250610" + h("D3 06")
    assert data.files["address"][18:22] == h("D4 82 01 40")
    assert data.files["renewal"] == h("D7 01 30")
    assert data.files["signature"][:4] == h("DA 82 01 00") and data.files["signature"][260:262] == h("DB 82")


def test_under_16_holder_has_no_photo(cards: dict[tuple[str, str], Card]) -> None:
    for profile in PROFILES:
        with reader(cards[(profile, "residence-child")]) as r:
            data = ResidenceSession(r, "CH00000016TS").read_all()
        face = data.value("face_image" if profile == "residence-gen1" else "name_and_face", 0xD1)
        assert face == bytes(3000)
        verify_signature(data, load_anchor(PROFILES[profile].name).certificate)


def test_a_changed_byte_or_another_anchor_fails_the_signature(cards: dict[tuple[str, str], Card]) -> None:
    with reader(cards[("residence-gen1", "residence-worker")]) as r:
        data = ResidenceSession(r, "AA12345678BB").read_all()
    anchor = load_anchor("gen1").certificate
    changed = dict(
        data.files, front_image=data.files["front_image"][:100] + b"\x01" + data.files["front_image"][101:]
    )
    with pytest.raises(SignatureError, match="signature"):
        verify_signature(ResidenceCardData(data.generation, data.card_type, data.common, changed), anchor)
    with pytest.raises(SignatureError, match="not issued"):
        verify_signature(data, load_anchor("gen2").certificate)
    assert isinstance(anchor.public_key(), rsa.RSAPublicKey)
    assert len(signed_data(data)) == 10000


# -- the spec's worked examples on the card --------------------------------------------------------------

EXAMPLES = {
    "residence-gen1": (
        "5A 6E 7E 38 51 62 B7 A3",
        "19 D0 49 49 0F FF 52 EE DB FC B9 30 BC 81 0E D0",
        "93 77 45 C2 08 83 A1 BA D1 E0 41 93 72 2A 15 92 37 8F 81 A8 F1 DC 58 91 57 AE B0 F7 54 4F A1 BA"
        " 1A D7 FB 6A 33 89 E0 17",
        "58 60 77 5B 4D 03 2C C5 64 BA 20 4B 8E A8 68 F6 94 A7 4E 74 75 A8 FE F2 40 58 8B DA 1A F4 96 CE"
        " 59 38 8F D6 CD 45 24 8B",
        "1A A8 29 73 DB 95 9A 81 1F 97 11 D7 28 F0 EE F6",
    ),
    "residence-gen2": (
        "92 1C E2 77 32 3D A0 57",
        "2C C6 AF 9B 8B 60 7C 66 2F DC AD 27 B4 01 D0 8B",
        "4A D3 C7 B6 BB 48 4A 52 77 19 77 DE D6 18 B4 1D F8 41 FA 04 76 A0 5F BE 04 1D EA D6 10 9E 77 3B"
        " AC 85 46 17 63 4F 53 97",
        "28 9A 96 B1 DA 6A E3 DA 87 77 04 19 BF D1 4F 0B DA D1 5F 36 43 2B 5A 94 6C 18 8C 72 21 75 9A 62"
        " FA 94 2E C5 1E 62 FF 5F",
        "EE 0B 31 EF 87 7F 68 D0 71 C5 6D 58 C7 2E 67 48",
    ),
}


@pytest.mark.parametrize("profile", PROFILES)
def test_the_spec_example_on_the_card(cards: dict[tuple[str, str], Card], profile: str) -> None:
    """§8: the card of AA12345678BB with the example's RND.ICC and K.ICC answers E.ICC ‖ M.ICC byte for
    byte and accepts the example's VERIFY; then DF1 reads under the example's KSenc."""
    rnd_icc, k_icc, ifd, icc, cryptogram = EXAMPLES[profile]
    card = cards[(profile, "residence-worker")]
    card.residence_random = replay(h(rnd_icc), h(k_icc))
    try:
        with reader(card) as r:
            assert tx(r, "00 84 00 00 08") == (h(rnd_icc), 0x9000)
            assert tx(r, h("00 82 00 00 28") + h(ifd) + h("00")) == (h(icc), 0x9000)
            assert tx(r, h("08 20 00 86 13 86 11 01") + h(cryptogram)) == (b"", 0x9000)
            assert tx(r, select_df_name(DF1_AID)) == (b"", 0x9000)
            p1 = 0x85 if profile == "residence-gen1" else 0x84
            wire = r.transmit(bytes((0x08, 0xB0, p1)) + h("00 00 00 04 96 02 00 00 00 00"))
    finally:
        card.residence_random = None
    header = "86 82 1B 61 01" if profile == "residence-gen1" else "86 82 15 91 01"
    assert wire.sw == 0x9000 and wire.data[:5] == h(header)
    assert len(wire.data) == 5 + int.from_bytes(h(header)[2:4], "big") - 1


# -- bad input ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", PROFILES)
def test_reads_before_authentication(cards: dict[tuple[str, str], Card], profile: str) -> None:
    with reader(cards[(profile, "residence-worker")]) as r:
        assert tx(r, "00 B0 8B 00 00")[1] == 0x9000  # MF: free
        assert tx(r, "08 B0 85 00 00 00 04 96 02 00 00 00 00") == (b"", 0x6988)  # no session
        df1 = ("85", "86") if profile == "residence-gen1" else ("81", "84")
        for df, p1 in ((DF1_AID, df1[0]), (DF1_AID, df1[1]), (DF2_AID, "81"), (DF3_AID, "82")):
            assert tx(r, select_df_name(df)) == (b"", 0x9000)
            assert tx(r, f"00 B0 {p1} 00 00 00 00") == (b"", 0x6982)
        session = authenticated(r, PROFILES[profile], "AA12345678BB")  # authenticated, not verified
        assert tx(r, select_df_name(DF1_AID))[1] == 0x9000
        assert sm_read(r, session, 0x86 if profile == "residence-gen1" else 0x84) == (b"", 0x6982)
        assert tx(r, select_df_name(DF2_AID))[1] == 0x9000
        assert tx(r, "00 B0 81 00 00 00 00") == (b"", 0x6982)


@pytest.mark.parametrize("profile", PROFILES)
def test_plain_read_of_df1_after_verify_is_69_82(cards: dict[tuple[str, str], Card], profile: str) -> None:
    with reader(cards[(profile, "residence-worker")]) as r:
        session = authenticated(r, PROFILES[profile], "AA12345678BB")
        assert tx(r, verify_command(session, "AA12345678BB").to_bytes()) == (b"", 0x9000)
        assert tx(r, select_df_name(DF1_AID))[1] == 0x9000
        assert tx(r, "00 B0 85 00 00 00 00" if profile == "residence-gen1" else "00 B0 81 00 00 00 00") == (
            b"",
            0x6982,
        )
        assert tx(r, select_df_name(DF2_AID))[1] == 0x9000
        assert sm_read(r, session, 0x83)[1] == 0x9000  # DF2 reads under SM too
        assert tx(r, "00 A4 00 00 02 3F 00") == (b"", 0x9000)
        assert tx(r, "00 B0 8A 00 00")[1] == 0x9000
        assert tx(r, select_df_name(DF3_AID))[1] == 0x9000  # SELECT MF kept the verification
        assert tx(r, "00 B0 82 00 04")[1] == 0x9000


@pytest.mark.parametrize("profile", PROFILES)
def test_wrong_card_number_at_mutual_authenticate(cards: dict[tuple[str, str], Card], profile: str) -> None:
    """Keys from another number: ``63 00``, no session (protected commands ``69 88``), nothing readable."""
    generation = PROFILES[profile]
    with reader(cards[(profile, "residence-worker")]) as r:
        terminal = ResidenceTerminal.for_card_number(generation, "AA12345678BC")
        rnd_icc, _ = tx(r, "00 84 00 00 08")
        assert tx(r, h("00 82 00 00 28") + terminal.authentication_data(rnd_icc) + h("00")) == (b"", 0x6300)
        assert tx(r, "08 20 00 86 13 86 11 01" + " 00" * 16) == (b"", 0x6988)
        assert tx(r, select_df_name(DF2_AID))[1] == 0x9000
        assert tx(r, "00 B0 81 00 00 00 00") == (b"", 0x6982)
        assert ResidenceSession(r, "AA12345678BB").read_all().card_type  # the card keeps serving


@pytest.mark.parametrize("profile", PROFILES)
def test_wrong_card_number_at_verify(cards: dict[tuple[str, str], Card], profile: str) -> None:
    """VERIFY of another number: ``63 00`` every time (no counter), the session ends; the right number
    still works afterwards."""
    generation = PROFILES[profile]
    with reader(cards[(profile, "residence-worker")]) as r:
        for _ in range(6):
            session = authenticated(r, generation, "AA12345678BB")
            assert tx(r, verify_command(session, "ZZ99999999ZZ").to_bytes()) == (b"", 0x6300)
            assert tx(r, select_df_name(DF1_AID))[1] == 0x9000
            assert sm_read(r, session, 0x85 if generation is GEN1 else 0x81) == (b"", 0x6988)
        assert ResidenceSession(r, "AA12345678BB").read_all().files


@pytest.mark.parametrize("profile", PROFILES)
def test_replayed_and_altered_mutual_authenticate(cards: dict[tuple[str, str], Card], profile: str) -> None:
    generation = PROFILES[profile]
    with reader(cards[(profile, "residence-worker")]) as r:
        terminal = ResidenceTerminal.for_card_number(generation, "AA12345678BB")
        rnd_icc, _ = tx(r, "00 84 00 00 08")
        command = h("00 82 00 00 28") + terminal.authentication_data(rnd_icc) + h("00")
        assert tx(r, command)[1] == 0x9000
        assert tx(r, command) == (b"", 0x6985)  # the challenge was used
        assert tx(r, "00 84 00 00 08")[1] == 0x9000
        assert tx(r, command) == (b"", 0x6300)  # another RND.ICC
        for index in (5, 30, 36, 44):  # E.IFD, E.IFD, M.IFD, M.IFD
            tx(r, "00 84 00 00 08")
            fresh = h("00 82 00 00 28") + terminal.authentication_data(tx(r, "00 84 00 00 08")[0]) + h("00")
            altered = fresh[:index] + bytes((fresh[index] ^ 0x80,)) + fresh[index + 1 :]
            assert tx(r, altered) == (b"", 0x6300)
            assert tx(r, "08 20 00 86 13 86 11 01" + " 00" * 16) == (b"", 0x6988)
        assert tx(r, "00 82 00 00 20" + " 00" * 32 + " 00") == (b"", 0x6985)  # no challenge
        tx(r, "00 84 00 00 08")
        assert tx(r, "00 82 00 00 20" + " 00" * 32 + " 00") == (b"", 0x6700)


def test_gen1_authentication_on_a_gen2_card_is_63_00(cards: dict[tuple[str, str], Card]) -> None:
    """A real gen-2 card answers ``63 00`` to a 3DES / retail-MAC MUTUAL AUTHENTICATE (§5.1, E9)."""
    with reader(cards[("residence-gen2", "residence-worker")]) as r:
        terminal = ResidenceTerminal.for_card_number(GEN1, "AA12345678BB")
        rnd_icc, _ = tx(r, "00 84 00 00 08")
        assert tx(r, h("00 82 00 00 28") + terminal.authentication_data(rnd_icc) + h("00")) == (b"", 0x6300)


@pytest.mark.parametrize("profile", PROFILES)
def test_bad_sm_objects_are_69_88_and_end_the_session(
    cards: dict[tuple[str, str], Card], profile: str
) -> None:
    generation = PROFILES[profile]
    with reader(cards[(profile, "residence-worker")]) as r:
        session = authenticated(r, generation, "AA12345678BB")
        good = verify_command(session, "AA12345678BB").to_bytes()
        for bad in (
            good[:-1] + bytes((good[-1] ^ 1,)),  # altered cryptogram: the padding breaks
            good[:5] + h("87") + good[6:],  # the wrong tag
            h("08 20 00 86 04 96 02 00 00"),  # no cryptogram object for VERIFY: no data
            h("08 B0 85 00 00 00 04 8E 02 00 00 00 00"),  # a MAC object the card does not use
        ):
            session = authenticated(r, generation, "AA12345678BB")
            assert tx(r, bad) == (b"", 0x6988), bad.hex()
            assert tx(r, verify_command(session, "AA12345678BB").to_bytes()) == (b"", 0x6988)
        session = authenticated(r, generation, "AA12345678BB")
        assert tx(r, good[:5] + h("87") + good[6:]) == (b"", 0x6988)


@pytest.mark.parametrize("profile", PROFILES)
def test_sprc_has_no_permission_files(cards: dict[tuple[str, str], Card], profile: str) -> None:
    with reader(cards[(profile, "residence-sprc")]) as r:
        session = authenticated(r, PROFILES[profile], "SP00000001TS")
        assert tx(r, verify_command(session, "SP00000001TS").to_bytes()) == (b"", 0x9000)
        assert tx(r, select_df_name(DF2_AID))[1] == 0x9000
        assert tx(r, "00 B0 82 00 00 00 00") == (b"", 0x6A82)
        assert tx(r, "00 B0 9E 00 00") == (b"", 0x6A82)


def test_gen1_reads_in_short_chunks_as_readers_do(cards: dict[tuple[str, str], Card]) -> None:
    """§6.1: the first chunk by SFI, the rest by 15-bit offset in the current EF, ≤ 256 bytes each."""
    with reader(cards[("residence-gen1", "residence-worker")]) as r:
        whole = ResidenceSession(r, "AA12345678BB").read_all().files["signature"]
        assert tx(r, select_df_name(DF3_AID))[1] == 0x9000
        data, sw = tx(r, "00 B0 82 00 00")
        assert sw == 0x9000 and len(data) == 256
        while len(data) < len(whole):
            chunk, sw = tx(r, bytes((0x00, 0xB0, len(data) >> 8, len(data) & 0xFF, 0x00)))
            assert sw == 0x9000
            data += chunk
        assert data == whole
        assert tx(r, "00 B0 05 B8 00") == (b"", 0x6B00)  # offset 1464: past the end
        assert tx(r, "00 B0 A2 00 00") == (b"", 0x6A86)


def test_the_key_file_and_the_card_number_never_leave(cards: dict[tuple[str, str], Card]) -> None:
    with reader(cards[("residence-gen2", "residence-worker")]) as r:
        session = authenticated(r, GEN2, "AA12345678BB")
        assert tx(r, verify_command(session, "AA12345678BB").to_bytes())[1] == 0x9000
        assert tx(r, "00 A4 02 0C 02 0F 01") == (b"", 0x9000)
        assert tx(r, "00 B0 00 00 00") == (b"", 0x6982)
        assert tx(r, "00 20 00 86 0C" + b"AA12345678BB".hex()) == (b"", 0x6982)  # VERIFY in plain


def test_a_reset_ends_the_session(cards: dict[tuple[str, str], Card]) -> None:
    with reader(cards[("residence-gen2", "residence-worker")]) as r:
        session = authenticated(r, GEN2, "AA12345678BB")
        assert tx(r, verify_command(session, "AA12345678BB").to_bytes())[1] == 0x9000
        r.reset()
        assert tx(r, select_df_name(DF2_AID))[1] == 0x9000
        assert tx(r, "00 B0 83 00 00 00 00") == (b"", 0x6982)


def test_a_personalised_state_directory_reopens(tmp_path: Path) -> None:
    """The state keeps the card number only as its credential's salted digest and as Kenc (gen 1 holds it
    in no EF; gen 2's DF1/EF01 is the number itself)."""
    open_card("residence-gen1", "residence-worker", tmp_path / "card")
    card = open_card(None, None, tmp_path / "card")
    with reader(card) as r:
        data = ResidenceSession(r, "AA12345678BB").read_all()
    verify_signature(data, load_anchor("gen1").certificate)
    state = "".join(p.read_text(errors="replace") for p in (tmp_path / "card").rglob("*.json"))
    assert "AA12345678BB" not in state and b"AA12345678BB".hex() not in state.lower()


@pytest.mark.parametrize("profile", PROFILES)
def test_demo_reads_a_residence_card(
    profile: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``mynacard demo --profile residence-genN``: the whole card, the signature against the TEST anchor,
    and the card number on no line (the VERIFY is masked, the authentication encrypted)."""
    import argparse

    from mynacard.tools.cli.demo import run

    args = argparse.Namespace(
        profile=profile, persona="residence-worker", state=tmp_path / "card", trace=None
    )
    assert run(args) == 0
    out = capsys.readouterr().out
    anchor = "CA" if profile == "residence-gen1" else "CA2"
    assert f"verified against the TEST anchor CN=ZairyuCard-TEST {anchor},O=ZairyuCard-TEST,C=JP" in out
    assert "> 08 20 00 86 ** ** **" in out
    assert "AA12345678BB" not in out and b"AA12345678BB".hex(" ").upper() not in out


@pytest.mark.pcsc
@pytest.mark.parametrize("profile", PROFILES)
def test_full_reading_sequence_through_pcscd_and_vpcd(request: pytest.FixtureRequest, profile: str) -> None:
    """The same read through pyscard → pcscd → vpcd → the card: extended APDUs both ways (a 5525-byte SM
    answer on gen 2), and the signature against the TEST anchor."""
    from mynacard.apdu.readers.pcsc import PcscReader

    stack = request.getfixturevalue("pcsc_stack")
    stack.insert(open_card(profile, "residence-worker", None))
    with PcscReader(stack.reader_name) as pcsc:
        pcsc.power_on()
        data = ResidenceSession(pcsc, "AA12345678BB").read_all()
    assert len(data.files["name_and_face" if profile == "residence-gen2" else "front_image"]) in (5508, 7004)
    verify_signature(data, load_anchor(PROFILES[profile].name).certificate)
