"""Residence cards (在留カード, both generations) through ``transmit`` on any reader: the reading sequence a
reader runs, the signature checked against the TEST anchor, and the errors a reader must handle.

Spec residence-card.md §5.1 (card-number authentication), §5.2 (encrypt-only SM), §5.3 (signature), §6
(reading sequence), §7.2 (status words). The card number is the default TEST persona's; on a real card pass
a profile and persona that match it (the card number is not a PIN: a wrong one costs no try, §7.2).
"""

from __future__ import annotations

import pytest

from mynacard.apdu.applets.residence import DF1_AID, DF2_AID, ResidenceSession, verify_signature
from mynacard.apdu.applets.session import select_df_name
from mynacard.apdu.command import CommandApdu
from mynacard.apdu.readers.base import Reader
from mynacard.apdu.sm.residence import GEN1, GEN2, ResidenceGeneration, ResidenceTerminal, verify_command
from mynacard.emulator.issuance.personas import load_persona
from mynacard.emulator.issuance.residence_pki import load_anchor
from mynacard.profiles.schema import Profile
from mynacard.tools.harness.suites.helpers import expect, send

pytestmark = [
    pytest.mark.applies_to("residence-gen1", "residence-gen2"),
    pytest.mark.capability("secure-messaging"),
    pytest.mark.clause("residence-card.md §5.1–§5.3, §6, §7.2 (authentication, SM, signature)"),
]

CARD_NUMBER = load_persona("default").residence_card_number or ""
MISMATCH = 0x6300
SECURITY_NOT_SATISFIED, SM_INCORRECT = 0x6982, 0x6988


@pytest.fixture(scope="module")
def generation(profile_under_test: Profile) -> ResidenceGeneration:
    return GEN1 if profile_under_test.profile.family == "residence-gen1" else GEN2


def _authenticate(reader: Reader, generation: ResidenceGeneration, number: str) -> tuple[int, bytes]:
    """GET CHALLENGE, then MUTUAL AUTHENTICATE with keys from ``number``: the SW and the card's answer."""
    challenge = expect(reader, "00 84 00 00 08", 0x9000).data
    terminal = ResidenceTerminal.for_card_number(generation, number)
    response = send(
        reader, bytes.fromhex("00 82 00 00 28") + terminal.authentication_data(challenge) + b"\x00"
    )
    return response.sw, response.data


@pytest.mark.clause("residence-card.md §6 (reading sequence), §5.3 (signature against the issuer's anchor)")
def test_the_whole_card_reads_and_its_signature_verifies(
    reader: Reader, generation: ResidenceGeneration
) -> None:
    data = ResidenceSession(reader, CARD_NUMBER).read_all()
    assert data.generation is generation
    certificate = verify_signature(data, load_anchor(generation.name).certificate)
    assert certificate.issuer.rfc4514_string().endswith("O=ZairyuCard-TEST,C=JP")


@pytest.mark.clause("residence-card.md §4, §7.2 (DF1 and DF2 before authentication: 69 82)")
def test_reads_before_authentication_are_69_82(reader: Reader, generation: ResidenceGeneration) -> None:
    df1_first_sfi = 0x85 if generation is GEN1 else 0x81  # 券面 (表面) image / card number (§3.2, §3.3)
    for df, p1 in ((DF1_AID, df1_first_sfi), (DF2_AID, 0x81)):
        expect(reader, select_df_name(df), 0x9000, b"")
        expect(reader, bytes((0x00, 0xB0, p1, 0x00, 0x00, 0x00, 0x00)), SECURITY_NOT_SATISFIED, b"")


@pytest.mark.clause("residence-card.md §5.1, §7.2 (keys of another number: 63 00, no session)")
def test_a_wrong_card_number_is_63_00_and_leaves_no_session(
    reader: Reader, generation: ResidenceGeneration
) -> None:
    assert _authenticate(reader, generation, "ZZ99999999ZZ") == (MISMATCH, b"")
    expect(reader, "08 20 00 86 13 86 11 01" + " 00" * 16, SM_INCORRECT, b"")
    assert ResidenceSession(reader, CARD_NUMBER).read_all().files  # the card keeps serving


@pytest.mark.clause("residence-card.md §5.1, §7.2 (VERIFY of another number under the session key: 63 00)")
def test_a_wrong_card_number_at_verify_costs_nothing(reader: Reader, generation: ResidenceGeneration) -> None:
    terminal = ResidenceTerminal.for_card_number(generation, CARD_NUMBER)
    for _ in range(4):  # more than any PIN's tries: the card number has no counter
        challenge = expect(reader, "00 84 00 00 08", 0x9000).data
        command = bytes.fromhex("00 82 00 00 28") + terminal.authentication_data(challenge) + b"\x00"
        session = terminal.complete(expect(reader, command, 0x9000).data)
        expect(reader, verify_command(session, "ZZ99999999ZZ").to_bytes(), MISMATCH, b"")
    assert ResidenceSession(reader, CARD_NUMBER).read_all().files


@pytest.mark.clause("residence-card.md §5.2, §7.2 (a damaged cryptogram: 69 88, the session ends)")
def test_a_damaged_sm_command_is_69_88_and_ends_the_session(
    reader: Reader, generation: ResidenceGeneration
) -> None:
    terminal = ResidenceTerminal.for_card_number(generation, CARD_NUMBER)
    challenge = expect(reader, "00 84 00 00 08", 0x9000).data
    command = bytes.fromhex("00 82 00 00 28") + terminal.authentication_data(challenge) + b"\x00"
    session = terminal.complete(expect(reader, command, 0x9000).data)
    verify = bytearray(verify_command(session, CARD_NUMBER).to_bytes())
    verify[-1] ^= 0x01  # the cryptogram's last byte: its padding no longer checks
    expect(reader, bytes(verify), SM_INCORRECT, b"")
    read = session.wrap_command(CommandApdu(0x00, 0xB0, 0x81, 0x00, b"", 65536))
    expect(reader, read.to_bytes(), SM_INCORRECT, b"")
