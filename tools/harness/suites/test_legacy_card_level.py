"""Card-level behaviour of legacy-2016: GET DATA objects at MF level, and the proprietary commands of the
official JPKI software that the card answers with a fixed status word (spec current-card §4.7)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mynacard.apdu.readers.base import Reader
from mynacard.apdu.tlv import ber_decode
from mynacard.emulator.card import Card
from mynacard.emulator.issuance.personalise import load_card
from mynacard.emulator.issuance.personas import load_persona
from mynacard.emulator.issuance.pki import TestPki
from mynacard.emulator.store.state import StateStore
from mynacard.tools.harness.suites.helpers import (
    COMMON_AID,
    ISD_AID,
    JPKI_AID,
    JUKI_AID,
    TEXT_AID,
    VISUAL_AID,
    expect,
    hx,
    select_aid,
)

pytestmark = [
    pytest.mark.applies_to("legacy-2016"),
    pytest.mark.capability("transport"),
    pytest.mark.clause("current-card §4.7 (GET DATA, proprietary commands)"),
]

DATA_NOT_FOUND = 0x6A88
WRONG_LENGTH = 0x6700


@pytest.fixture
def card_reader(card_state_factory: Callable[..., Path], reader_for: Callable[[Card], Reader]) -> Reader:
    return reader_for(load_card(StateStore(card_state_factory())))


def test_get_data_card_values_of_the_persona(card_reader: Reader) -> None:
    persona = load_persona("default")
    expect(card_reader, "00 CA 00 45 00", 0x9000, persona.card_serial.encode())
    expect(card_reader, "00 CA 00 F0 00", 0x9000, persona.municipality_code.encode())
    expect(card_reader, "00 CA 00 F2 00", 0x9000, persona.card_expiry.strftime("%Y%m%d").encode())
    expect(card_reader, "00 CA 5F 51 00", 0x9000, hx("E0 00 FF 81 31 FE 45 14"))  # the ATR without TS


def test_get_data_key_references_and_cv_certificate(card_reader: Reader, test_pki: TestPki) -> None:
    issuer = test_pki.text_issuer
    expect(card_reader, "00 CA 00 42 00", 0x9000, issuer.ca_key_id)
    expect(card_reader, "00 CA 00 F7 00", 0x9000, issuer.signer_key_id)
    inner = ber_decode(issuer.cv_certificate()).value
    assert len(inner) > 256
    expect(card_reader, "00 CA 00 F8 00", WRONG_LENGTH, b"")  # a large object needs an extended Le
    expect(card_reader, "00 CA 00 F8 00 00 00", 0x9000, inner)  # inner content, no 7F 21 wrapper


@pytest.mark.parametrize("tag", ["7F 21", "00 66", "01 23", "DF 30"])
def test_absent_data_objects_answer_6a88(card_reader: Reader, tag: str) -> None:
    expect(card_reader, f"00 CA {tag} 00", DATA_NOT_FOUND, b"")


@pytest.mark.parametrize("aid", [JPKI_AID, TEXT_AID, VISUAL_AID, JUKI_AID, COMMON_AID])
def test_mf_level_objects_only_at_mf_level(card_reader: Reader, aid: bytes) -> None:
    select_aid(card_reader, aid)
    expect(card_reader, "00 CA 00 42 00", DATA_NOT_FOUND, b"")
    expect(card_reader, "00 CA 5F 51 00", 0x9000, hx("E0 00 FF 81 31 FE 45 14"))  # scope "any"
    select_aid(card_reader, ISD_AID)  # back at MF level through the card manager
    assert card_reader.transmit(hx("00 CA 00 42 00")).sw == 0x9000


def test_proprietary_commands_answer_as_observed(card_reader: Reader) -> None:
    expect(card_reader, "80 FC 00 00", WRONG_LENGTH, b"")
    expect(card_reader, "80 A2 06 C1", 0x6A86, b"")
    expect(card_reader, "80 A2 00 C1", 0x6A86, b"")
    for aid, sw in ((JPKI_AID, 0x6982), (JUKI_AID, 0x6982), (COMMON_AID, 0x66F1), (VISUAL_AID, 0x66F1)):
        select_aid(card_reader, aid)
        expect(card_reader, "80 AE 00 00", sw, b"")
