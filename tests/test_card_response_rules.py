"""Rules only an in-process reader can see: raw ``61xx`` / ``6Cxx`` and GET RESPONSE, power and reset,
unpowered cards, error containment.

Through PC/SC the host completes ``61xx``/``6Cxx`` itself, and power is the reader driver's business, so these
tests talk to ``emulator.card.Card`` through a ``VirtualReader`` (issue 2 items 2 and 3; spec §1.2, §4.7;
architecture rules 1 and 3).
"""

from __future__ import annotations

import logging

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from mynacard.apdu.readers.base import NoCardError, ReaderError
from mynacard.apdu.readers.virtual import VirtualReader
from mynacard.emulator.card import Card
from mynacard.emulator.commands.table import InsTable
from mynacard.tools.harness.suites.helpers import AUTH_PIN, JPKI_AID, SIGN_PASSWORD, sha256_digest_info

MESSAGE = b"response rules"
SELECT_JPKI = bytes.fromhex("00 A4 04 0C 0A") + JPKI_AID
FCI = bytes.fromhex("6F 0C 84 0A") + JPKI_AID


def h(text: str) -> bytes:
    return bytes.fromhex(text)


def tx(reader: VirtualReader, command: bytes | str) -> tuple[bytes, int]:
    r = reader.transmit(h(command) if isinstance(command, str) else command)
    return r.data, r.sw


@pytest.fixture
def vr(card: Card) -> VirtualReader:
    reader = VirtualReader(card)
    reader.power_on()
    return reader


def auth_key(reader: VirtualReader) -> rsa.RSAPublicKey:
    assert tx(reader, SELECT_JPKI) == (b"", 0x9000)
    assert tx(reader, "00 A4 02 0C 02 00 0A") == (b"", 0x9000)
    data, sw = tx(reader, "00 B0 00 00 00 00 00")
    assert sw == 0x9000
    key = x509.load_der_x509_certificate(data[: (data[2] << 8 | data[3]) + 4]).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    return key


def ready_to_sign(reader: VirtualReader) -> rsa.RSAPublicKey:
    """JPKI-AP selected, auth PIN verified, key 0017 current; returns the auth certificate's key."""
    key = auth_key(reader)
    assert tx(reader, b"\x00\x20\x00\x98\x04" + AUTH_PIN) == (b"", 0x9000)
    assert tx(reader, "00 A4 02 0C 02 00 17") == (b"", 0x9000)
    return key


def sign_case_3() -> bytes:
    """``80 2A 00 80 33 <DigestInfo>`` with no Le: a case-3 command that produces data."""
    return h("80 2A 00 80 33") + sha256_digest_info(MESSAGE)


# --- 61xx and GET RESPONSE ---------------------------------------------------------------------------


def test_case_3_command_with_data_answers_61_00_then_get_response(vr: VirtualReader) -> None:
    key = ready_to_sign(vr)
    assert tx(vr, sign_case_3()) == (b"", 0x6100)
    signature, sw = tx(vr, "00 C0 00 00 00")
    assert sw == 0x9000 and len(signature) == 256
    key.verify(signature, MESSAGE, padding.PKCS1v15(), hashes.SHA256())
    assert tx(vr, "00 C0 00 00 00") == (b"", 0x6985)  # nothing left


def test_get_response_in_pieces(vr: VirtualReader) -> None:
    ready_to_sign(vr)
    whole, sw = tx(vr, sign_case_3() + h("00"))
    assert sw == 0x9000
    assert tx(vr, sign_case_3()) == (b"", 0x6100)
    first, sw1 = tx(vr, "00 C0 00 00 80")
    assert (len(first), sw1) == (0x80, 0x6180)  # 128 more
    second, sw2 = tx(vr, "00 C0 00 00 7F")
    assert (len(second), sw2) == (0x7F, 0x6101)
    third, sw3 = tx(vr, "00 C0 00 00 01")
    assert sw3 == 0x9000
    assert first + second + third == whole  # PKCS#1 v1.5 is deterministic


def test_get_response_asking_for_more_than_remains_gets_the_rest(vr: VirtualReader) -> None:
    assert tx(vr, h("00 A4 04 00 0A") + JPKI_AID) == (b"", 0x610E)  # P2 = 00 asks for the FCI, no Le
    assert tx(vr, "00 C0 00 00 00") == (FCI, 0x9000)


def test_select_ef_with_fcp_and_no_le_announces_61xx(vr: VirtualReader) -> None:
    assert tx(vr, SELECT_JPKI) == (b"", 0x9000)
    data, sw = tx(vr, "00 A4 02 00 02 00 0A")
    assert data == b"" and sw >> 8 == 0x61
    announced = sw & 0xFF
    fcp, sw = tx(vr, bytes((0x00, 0xC0, 0x00, 0x00, announced)))
    assert (sw, len(fcp), fcp[0]) == (0x9000, announced, 0x62)
    assert h("83 02 00 0A") in fcp


def test_get_response_with_nothing_pending_is_69_85(vr: VirtualReader) -> None:
    assert tx(vr, "00 C0 00 00 00") == (b"", 0x6985)
    assert tx(vr, SELECT_JPKI) == (b"", 0x9000)
    assert tx(vr, "00 C0 00 00 10") == (b"", 0x6985)


def test_another_command_discards_the_pending_response(vr: VirtualReader) -> None:
    ready_to_sign(vr)
    assert tx(vr, sign_case_3()) == (b"", 0x6100)
    challenge, sw = tx(vr, "00 84 00 00 08")
    assert sw == 0x9000 and len(challenge) == 8
    assert tx(vr, "00 C0 00 00 00") == (b"", 0x6985)


@pytest.mark.parametrize(
    ("command", "sw"),
    [
        ("00 C0 00 01 00", 0x6A86),
        ("00 C0 01 00 00", 0x6A86),
        ("00 C0 00 00", 0x6700),
        ("00 C0 00 00 01 00", 0x6700),
    ],
)
def test_malformed_get_response_keeps_nothing_back(vr: VirtualReader, command: str, sw: int) -> None:
    assert tx(vr, h("00 A4 04 00 0A") + JPKI_AID) == (b"", 0x610E)
    assert tx(vr, command) == (b"", sw)


def test_get_response_is_an_interindustry_command(vr: VirtualReader) -> None:
    assert tx(vr, h("00 A4 04 00 0A") + JPKI_AID) == (b"", 0x610E)
    assert tx(vr, "80 C0 00 00 0E") == (b"", 0x6E00)
    assert tx(vr, "00 C0 00 00 0E") == (FCI, 0x9000)


def test_reset_discards_the_pending_response(vr: VirtualReader) -> None:
    assert tx(vr, h("00 A4 04 00 0A") + JPKI_AID) == (b"", 0x610E)
    vr.reset()
    assert tx(vr, "00 C0 00 00 0E") == (b"", 0x6985)


# --- 6Cxx --------------------------------------------------------------------------------------------


def test_le_shorter_than_the_signature_is_6c_00(vr: VirtualReader) -> None:
    key = ready_to_sign(vr)
    assert tx(vr, sign_case_3() + h("80")) == (b"", 0x6C00)
    signature, sw = tx(vr, sign_case_3() + h("00"))  # resend with the Le the card asked for
    assert sw == 0x9000
    key.verify(signature, MESSAGE, padding.PKCS1v15(), hashes.SHA256())


def test_le_shorter_than_the_fci_is_6c_0e(vr: VirtualReader) -> None:
    assert tx(vr, h("00 A4 04 00 0A") + JPKI_AID + h("05")) == (b"", 0x6C0E)
    assert tx(vr, h("00 A4 04 00 0A") + JPKI_AID + h("0E")) == (FCI, 0x9000)


def test_an_extended_le_below_the_data_length_gets_ne_bytes_never_6cxx(vr: VirtualReader) -> None:
    """GET DATA 00F8 is 563 bytes: an extended Le of 300 gets its first 300, not a 6C xx that names 51 bytes
    and can never be satisfied (issue 8); the whole object still comes with an extended Le 00 00."""
    whole, sw = tx(vr, "00 CA 00 F8 00 00 00")
    assert (len(whole), sw) == (563, 0x9000)
    assert tx(vr, "00 CA 00 F8 00 01 2C") == (whole[:300], 0x9000)
    assert tx(vr, "00 CA 00 F8 00 02 33") == (whole, 0x9000)
    assert tx(vr, "00 CA 00 F8 00") == (b"", 0x6700)  # a short Le cannot carry 563 bytes


def test_read_binary_is_never_6cxx(vr: VirtualReader) -> None:
    """READ BINARY returns what Le asks for (or up to the end), never ``6C xx`` (spec §4.2)."""
    assert tx(vr, SELECT_JPKI) == (b"", 0x9000)
    data, sw = tx(vr, "00 B0 8A 00 01")
    assert (data, sw) == (h("30"), 0x9000)


# --- power and reset ---------------------------------------------------------------------------------


def sign_certificate_readable(reader: VirtualReader) -> bool:
    _, sw = tx(reader, "00 B0 81 00 01")
    assert sw in (0x9000, 0x6982)
    return sw == 0x9000


def test_power_off_clears_the_verified_state(vr: VirtualReader) -> None:
    assert tx(vr, SELECT_JPKI) == (b"", 0x9000)
    assert tx(vr, b"\x00\x20\x00\x9b\x08" + SIGN_PASSWORD) == (b"", 0x9000)
    assert sign_certificate_readable(vr)
    vr.power_off()
    vr.power_on()
    assert tx(vr, "00 A4 00 00") == (b"", 0x6A86)  # back at MF level
    assert tx(vr, SELECT_JPKI) == (b"", 0x9000)
    assert not sign_certificate_readable(vr)
    assert tx(vr, "00 20 00 9B") == (b"", 0x63C5)  # the counter was not touched


def test_warm_reset_keeps_the_verified_state(vr: VirtualReader, card: Card) -> None:
    """Profile ``reset_keeps_security = true``: a verified PIN survives warm reset (spec §1.2)."""
    assert card.behaviour.reset_keeps_security
    assert tx(vr, SELECT_JPKI) == (b"", 0x9000)
    assert tx(vr, b"\x00\x20\x00\x9b\x08" + SIGN_PASSWORD) == (b"", 0x9000)
    assert vr.reset() == card.atr
    assert sign_certificate_readable(vr)


def test_reselecting_the_jpki_ap_clears_what_reset_kept(vr: VirtualReader) -> None:
    """Profile ``select_clears_security`` (ASSUMED from OpenSC ≥ 0.24's logout, spec §7.2)."""
    assert tx(vr, SELECT_JPKI) == (b"", 0x9000)
    assert tx(vr, b"\x00\x20\x00\x9b\x08" + SIGN_PASSWORD) == (b"", 0x9000)
    vr.reset()
    assert tx(vr, SELECT_JPKI) == (b"", 0x9000)
    assert not sign_certificate_readable(vr)


def test_reset_of_an_unpowered_card_is_a_cold_start(card: Card) -> None:
    reader = VirtualReader(card)
    assert reader.reset() == card.atr
    assert card.powered
    assert tx(reader, "00 A4 00 00") == (b"", 0x6A86)


def test_unpowered_card_answers_6f_00_and_logs(card: Card, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="mynacard.emulator.card"):
        assert card.process(SELECT_JPKI) == h("6F 00")
    assert any("not powered" in r.getMessage() for r in caplog.records)


def test_virtual_reader_refuses_without_power_or_card(card: Card) -> None:
    reader = VirtualReader(card)
    with pytest.raises(ReaderError, match="not powered"):
        reader.transmit(SELECT_JPKI)
    reader.power_on()
    assert reader.remove() is card
    assert not card.powered and not reader.card_present
    with pytest.raises(NoCardError):
        reader.transmit(SELECT_JPKI)
    with pytest.raises(NoCardError):
        reader.power_on()
    reader.insert(card)
    with pytest.raises(ReaderError, match="already inserted"):
        reader.insert(card)
    with pytest.raises(ReaderError, match="not powered"):  # inserted cards start unpowered
        reader.transmit(SELECT_JPKI)


def test_virtual_reader_is_a_context_manager(card: Card) -> None:
    with VirtualReader(card) as reader:
        assert card.powered
        assert reader.atr == card.atr
        assert tx(reader, SELECT_JPKI) == (b"", 0x9000)
    assert not card.powered


# --- malformed input that a PC/SC stack would not carry -----------------------------------------------


@pytest.mark.parametrize("raw", ["", "00", "00 A4", "00 A4 04"])
def test_fewer_than_4_bytes_is_67_00(card: Card, raw: str) -> None:
    card.power_on()
    assert card.process(h(raw)) == h("67 00")
    reader = VirtualReader(card)
    reader.power_on()
    assert tx(reader, raw) == (b"", 0x6700)


# --- error containment: nothing escapes Card.process (architecture rule 3) ------------------------------


def test_an_internal_error_is_6f_00_logged_and_the_card_keeps_serving(
    card: Card, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*_: object) -> bytes:
        raise RuntimeError("handler bug")

    card.table = InsTable({**card.table.base, (False, 0x84): broken}, card.table.overrides)
    card.power_on()
    with caplog.at_level(logging.ERROR, logger="mynacard.emulator.card"):
        assert card.process(h("00 84 00 00 08")) == h("6F 00")
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors and errors[0].exc_info is not None
    assert "00 84 00 00" in errors[0].getMessage()
    assert card.process(SELECT_JPKI) == h("90 00")
