"""The card's PACE and chaining mechanics that a suite cannot see through ``transmit``: profile choices
(chaining off, the chain limit, the strict variant, PACE on another curve), what the state keeps, and what
the masked trace shows."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mynacard.apdu.applets import nextgen
from mynacard.apdu.readers.processors import ProcessedReader
from mynacard.apdu.readers.secure import SecureMessagingProcessor, establish_pace, read_card_access
from mynacard.apdu.readers.virtual import VirtualReader
from mynacard.apdu.sm import PACE_PROTOCOLS, PacePassword, PasswordReference
from mynacard.apdu.trace import carries_secret
from mynacard.emulator.card import Card
from mynacard.emulator.issuance.personalise import open_card
from mynacard.emulator.issuance.personas import load_persona
from mynacard.emulator.issuance.pki import TestPki
from mynacard.profiles.errors import ProfileError

PERSONA = load_persona("default")


def reader(card: Card) -> VirtualReader:
    virtual = VirtualReader(card)
    virtual.power_on()
    return virtual


def tx(r: VirtualReader | ProcessedReader, text: str) -> tuple[bytes, int]:
    response = r.transmit(bytes.fromhex(text))
    return response.data, response.sw


def variant(tmp_path: Path, body: str, base: str = "nextgen-2026") -> Path:
    path = tmp_path / "variant.toml"
    path.write_text(f'[profile]\nname = "test-variant"\ndescription = "test"\nextends = "{base}"\n{body}')
    return path


def pace(r: VirtualReader, aid: bytes, reference: PasswordReference, secret: str) -> ProcessedReader:
    processor = SecureMessagingProcessor()
    protected = ProcessedReader(r, [processor])
    card_access = read_card_access(protected)
    assert tx(protected, "00 A4 04 0C " + f"{len(aid):02X} " + aid.hex())[1] == 0x9000
    establish_pace(protected, processor, card_access, PacePassword.digits(reference, secret))
    return protected


def test_legacy_2016_has_no_ef_card_access_and_no_sm() -> None:
    r = reader(open_card("legacy-2016", "default", None))
    assert tx(r, "00 A4 02 0C 02 01 1C") == (b"", 0x6A82)
    assert tx(r, "0C B0 00 00 0D 97 01 10 8E 08 00 00 00 00 00 00 00 00 00") == (b"", 0x6882)
    assert tx(r, "00 22 C1 A4 03 83 01 02") == (b"", 0x6D00)


def test_a_profile_without_chaining_answers_68_84(tmp_path: Path) -> None:
    r = reader(open_card(variant(tmp_path, "[behaviour]\ncommand_chaining = false\n"), "default", None))
    assert tx(r, "10 A4 04 0C 05 D3 92 F0 00 26") == (b"", 0x6884)


def test_a_chain_beyond_the_profile_s_limit_is_6a_84_and_dropped(tmp_path: Path) -> None:
    r = reader(open_card(variant(tmp_path, "[behaviour]\nchain_limit = 8\n"), "default", None))
    assert tx(r, "10 A4 04 0C 05 D3 92 F0 00 26") == (b"", 0x9000)
    assert tx(r, "10 A4 04 0C 05 01 00 00 00 02") == (b"", 0x6A84)
    assert tx(r, "00 A4 04 0C 05 01 00 00 00 02") == (b"", 0x6A82)  # a new command, not a last part


def test_the_strict_variant_requires_sm_in_the_auth_ap_too() -> None:
    r = reader(open_card("nextgen-2026-strict", "default", None))
    assert tx(r, "00 A4 04 0C 0A " + nextgen.AUTH_AID.hex())[1] == 0x9000
    assert tx(r, "00 A4 02 0C 02 00 02") == (b"", 0x6982)
    r.power_on()
    protected = pace(r, nextgen.AUTH_AID, PasswordReference.PIN, PERSONA.auth_pin)
    assert tx(protected, "00 A4 02 0C 02 00 03")[1] == 0x9000
    assert tx(protected, "00 B0 00 00 04")[1] == 0x9000


def test_the_default_nextgen_auth_ap_takes_plain() -> None:
    r = reader(open_card("nextgen-2026", "default", None))
    assert tx(r, "00 A4 04 0C 0A " + nextgen.AUTH_AID.hex())[1] == 0x9000
    assert tx(r, "00 A4 02 0C 02 00 02") == (b"", 0x9000)


@pytest.fixture(scope="module")
def nextgen_pki() -> TestPki:
    return TestPki.create(generation="nextgen-2026")


@pytest.mark.parametrize("parameter_id", [12, 13, 15, 16], ids=["P-256", "bp256r1", "P-384", "bp384r1"])
@pytest.mark.parametrize("protocol", [p.name for p in PACE_PROTOCOLS])
def test_every_protocol_and_curve_the_profile_can_choose_runs_end_to_end(
    tmp_path: Path, nextgen_pki: TestPki, protocol: str, parameter_id: int
) -> None:
    body = f'[pace]\nprotocols = [{{ protocol = "{protocol}", parameter_id = {parameter_id} }}]\n'
    card = open_card(variant(tmp_path, body), "default", None, nextgen_pki)
    protected = pace(reader(card), nextgen.FACE_AID, PasswordReference.CAN, PERSONA.verification_number_b6)
    assert tx(protected, "00 A4 02 0C 02 00 05")[1] == 0x9000
    data, sw = tx(protected, "00 B0 00 00 00")
    assert sw == 0x9000 and data == card.filesystem.applet("face").nodes[0x0005].content[:256]


def test_an_unknown_pace_protocol_is_refused_at_load(tmp_path: Path) -> None:
    body = '[pace]\nprotocols = [{ protocol = "id-PACE-DH-GM-AES-CBC-CMAC-128", parameter_id = 0 }]\n'
    with pytest.raises(ProfileError, match="unknown PACE protocol"):
        open_card(variant(tmp_path, body), "default", None)


def test_the_state_keeps_k_pi_seeds_and_never_the_numbers(tmp_path: Path) -> None:
    open_card("nextgen-2026", "default", tmp_path / "card")
    text = (tmp_path / "card" / "security.json").read_text()
    states = json.loads(text)["credentials"]
    assert {k for k, v in states.items() if "pace_seeds" in v} == {
        "auth/pin",
        "face/verification_a",
        "face/verification_b",
    }
    values = {str(v) for state in states.values() for v in state.values()}
    for secret in (PERSONA.verification_number_b6, PERSONA.my_number, PERSONA.auth_pin):
        # neither as a value nor as the hex of its ASCII (a digest's hex may hold any short digit run)
        assert secret not in values and secret.encode().hex() not in text


def test_a_pin_changed_after_issuance_is_the_new_pace_password(tmp_path: Path) -> None:
    card = open_card("nextgen-2026", "default", tmp_path / "card")
    r = reader(card)
    assert tx(r, "00 A4 04 0C 0A " + nextgen.AUTH_AID.hex())[1] == 0x9000
    pin = PERSONA.auth_pin.encode().hex()
    assert tx(r, f"00 24 00 {nextgen.reference(nextgen.PIN):02X} 08 {pin} 39383736")[1] == 0x9000
    reopened = open_card(None, None, tmp_path / "card")
    protected = pace(reader(reopened), nextgen.AUTH_AID, PasswordReference.PIN, "9876")
    assert tx(protected, "00 A4 02 0C 02 00 03")[1] == 0x9000


def test_pace_commands_carry_no_password_so_traces_show_them_whole() -> None:
    """MSE:Set AT names only the reference; GENERAL AUTHENTICATE carries public keys and tokens."""
    assert not carries_secret(bytes.fromhex("00 22 C1 A4 0F 80 0A 04 00 7F 00 07 02 02 04 02 04 83 01 02"))
    assert not carries_secret(bytes.fromhex("10 86 00 00 02 7C 00 00"))


def test_a_plain_get_response_continues_a_plain_fci_but_never_a_protected_answer() -> None:
    r = reader(open_card("nextgen-2026", "default", None))
    assert tx(r, "00 A4 04 00 0A " + nextgen.FACE_AID.hex()) == (b"", 0x610E)
    assert tx(r, "00 C0 00 00 0E") == (bytes.fromhex("6F 0C 84 0A") + nextgen.FACE_AID, 0x9000)
    r.power_on()
    protected = pace(r, nextgen.FACE_AID, PasswordReference.CAN, PERSONA.verification_number_b6)
    data, sw = tx(protected, "00 A4 02 04 02 00 05")  # no Le: the FCP waits behind 61 xx, in the session
    assert (data, sw & 0xFF00) == (b"", 0x6100)
    assert tx(r, "00 C0 00 00 00") == (b"", 0x6985)  # plain: the session and what it left are gone
    assert tx(protected, "00 A4 02 0C 02 00 05") == (b"", 0x6988)  # no session to unwrap with
