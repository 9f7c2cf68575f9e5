"""nextgen-2026: two PINs with verify-once, and the PUK life cycle (spec nextgen-2026 §1, §2.1, §3).

The 4-digit PIN (``0018``, 3 tries) and the signature password (``001B``, 6–16 of ``[A-Z0-9]`` with a letter
and a digit, 5 tries); the PUK (``001D``, 8–16 digits, 10 tries) is not set at issuance, is set by the
holder while the signature password is verified, unblocks and resets only the 4-digit PIN, and is blocked
for good when used up. Every exchange goes through ``transmit``; each test gets a fresh card.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from mynacard.apdu.applets import nextgen
from mynacard.apdu.readers.base import Reader
from mynacard.apdu.sm import PasswordReference
from mynacard.emulator.card import Card
from mynacard.emulator.issuance.personas import load_persona
from mynacard.emulator.store.loading import load_card
from mynacard.emulator.store.state import StateStore
from mynacard.tools.harness.suites.helpers import (
    OK,
    SECURITY_NOT_SATISFIED,
    apdu,
    expect,
    select_aid,
    send,
    with_pace,
)

pytestmark = [
    pytest.mark.applies_to("nextgen-2026"),
    pytest.mark.destructive,
    pytest.mark.capability("pins"),
    pytest.mark.clause("nextgen-2026 §1, §2.1, §3 (two PINs, verify-once, PUK)"),
]

PERSONA = load_persona("default")
PIN = PERSONA.auth_pin.encode("ascii")
PASSWORD = PERSONA.sign_password.encode("ascii")
PUK = b"12345678"
NEW_PUK = b"87654321"

PIN_REF, PASSWORD_REF, PUK_REF = (
    nextgen.reference(f) for f in (nextgen.PIN, nextgen.SIGN_PASSWORD, nextgen.PUK)
)
NOT_SET = 0x6A88
BLOCKED = 0x6984
REFUSED = 0x6985
WRONG_DATA = 0x6A80
WRONG_LENGTH = 0x6700
HASH = bytes(range(48))


@pytest.fixture
def reader(make_card: Callable[..., Card], reader_for: Callable[[Card], Reader]) -> Reader:
    """A fresh nextgen-2026 card with the 認証AP selected."""
    reader = reader_for(make_card())
    select_aid(reader, nextgen.AUTH_AID)
    return reader


def verify(reader: Reader, reference: int, value: bytes, sw: int = OK) -> None:
    expect(reader, apdu(f"00 20 00 {reference:02X}", value), sw, b"")


def counter(reader: Reader, reference: int) -> int:
    return send(reader, f"00 20 00 {reference:02X}").sw


def sign(reader: Reader, key_fid: int) -> int:
    return send(reader, apdu(f"80 2A 00 {nextgen.reference(key_fid):02X}", HASH, "00")).sw


def set_puk(reader: Reader, value: bytes = PUK) -> None:
    verify(reader, PASSWORD_REF, PASSWORD)
    expect(reader, apdu(f"00 24 01 {PUK_REF:02X}", value), OK, b"")


def block_pin(reader: Reader) -> None:
    for left in (2, 1, 0):
        verify(reader, PIN_REF, b"0000", 0x63C0 | left)
    verify(reader, PIN_REF, PIN, BLOCKED)


# --- two PINs and verify-once ------------------------------------------------------------------------------


def test_the_signature_password_satisfies_every_pin_rule(reader: Reader) -> None:
    verify(reader, PASSWORD_REF, PASSWORD)
    assert sign(reader, nextgen.AUTH_KEY) == OK  # the user-authentication key: no second prompt
    assert sign(reader, nextgen.SIGN_KEY) == OK
    for fid in (nextgen.MY_NUMBER, nextgen.ATTRIBUTES, nextgen.INTEGRITY):
        expect(reader, f"00 B0 {0x80 | fid:02X} 00 01", OK)
    assert counter(reader, PIN_REF) == 0x63C3  # and the PIN itself was not touched


def test_the_pin_never_opens_signing(reader: Reader) -> None:
    verify(reader, PIN_REF, PIN)
    assert sign(reader, nextgen.AUTH_KEY) == OK
    assert sign(reader, nextgen.SIGN_KEY) == SECURITY_NOT_SATISFIED
    expect(reader, f"00 B0 {0x80 | nextgen.SIGN_CERTIFICATE:02X} 00 01", SECURITY_NOT_SATISFIED, b"")


def test_a_lowercase_signature_password_is_simply_wrong_and_costs_a_try(reader: Reader) -> None:
    verify(reader, PASSWORD_REF, PASSWORD.lower(), 0x63C4)
    verify(reader, PASSWORD_REF, PASSWORD)
    assert counter(reader, PASSWORD_REF) == 0x63C5


@pytest.mark.parametrize(
    "new",
    [b"ABCDEF", b"123456", b"abc123", b"ABC12", b"ABCDEFGHIJ1234567", b"ABC-123"],
    ids=["no digit", "no letter", "lowercase", "too short", "too long", "other character"],
)
def test_the_password_format_is_enforced_when_it_is_changed(reader: Reader, new: bytes) -> None:
    verify(reader, PASSWORD_REF, PASSWORD)
    expect(reader, apdu(f"00 24 01 {PASSWORD_REF:02X}", new), WRONG_DATA, b"")
    assert counter(reader, PASSWORD_REF) == 0x63C5
    verify(reader, PASSWORD_REF, PASSWORD)  # unchanged


def test_a_valid_new_password_is_taken(reader: Reader) -> None:
    verify(reader, PASSWORD_REF, PASSWORD)
    expect(reader, apdu(f"00 24 01 {PASSWORD_REF:02X}", b"NEW2026PASS"), OK, b"")
    verify(reader, PASSWORD_REF, PASSWORD, 0x63C4)
    verify(reader, PASSWORD_REF, b"NEW2026PASS")


# --- the PUK life cycle ------------------------------------------------------------------------------------


def test_the_puk_life_cycle(reader: Reader) -> None:
    """Not set → set → PIN blocked → unblocked with a new PIN → PUK used up → blocked for good."""
    assert counter(reader, PUK_REF) == NOT_SET
    expect(reader, apdu(f"00 24 01 {PUK_REF:02X}", PUK), SECURITY_NOT_SATISFIED, b"")
    set_puk(reader)
    assert counter(reader, PUK_REF) == 0x63CA
    block_pin(reader)
    expect(reader, apdu(f"00 2C 00 {PIN_REF:02X}", PUK + b"2468"), OK, b"")
    assert counter(reader, PIN_REF) == 0x63C3
    verify(reader, PIN_REF, PIN, 0x63C2)
    verify(reader, PIN_REF, b"2468")
    block_pin(reader)
    for left in range(9, -1, -1):
        expect(reader, apdu(f"00 2C 01 {PIN_REF:02X}", b"99999999"), 0x63C0 | left, b"")
    expect(reader, apdu(f"00 2C 01 {PIN_REF:02X}", PUK), BLOCKED, b"")  # for good: the right PUK too
    assert counter(reader, PUK_REF) == 0x63C0
    verify(reader, PIN_REF, b"2468", BLOCKED)


def test_the_puk_resets_only_the_counter_with_p1_01(reader: Reader) -> None:
    set_puk(reader)
    block_pin(reader)
    expect(reader, apdu(f"00 2C 01 {PIN_REF:02X}", PUK), OK, b"")
    verify(reader, PIN_REF, PIN)  # the old PIN again, with a full counter
    assert counter(reader, PIN_REF) == 0x63C3


def test_the_puk_never_resets_the_signature_password(reader: Reader) -> None:
    set_puk(reader)
    for left in (4, 3, 2, 1, 0):
        verify(reader, PASSWORD_REF, b"WRONG999", 0x63C0 | left)
    expect(reader, apdu(f"00 2C 00 {PASSWORD_REF:02X}", PUK + b"NEW2026PASS"), REFUSED, b"")
    expect(reader, apdu(f"00 2C 01 {PASSWORD_REF:02X}", PUK), REFUSED, b"")
    verify(reader, PASSWORD_REF, PASSWORD, BLOCKED)  # a blocked signature password stays blocked
    assert counter(reader, PUK_REF) == 0x63CA  # and the refusal cost the PUK nothing


def test_the_puk_changes_with_old_and_new(reader: Reader) -> None:
    set_puk(reader)
    expect(reader, apdu(f"00 24 01 {PUK_REF:02X}", NEW_PUK), REFUSED, b"")  # set twice
    expect(reader, apdu(f"00 24 00 {PUK_REF:02X}", b"11111111" + NEW_PUK), 0x63C9, b"")  # wrong old value
    expect(reader, apdu(f"00 24 00 {PUK_REF:02X}", PUK + NEW_PUK), OK, b"")
    block_pin(reader)
    expect(reader, apdu(f"00 2C 01 {PIN_REF:02X}", PUK), 0x63C9, b"")
    expect(reader, apdu(f"00 2C 01 {PIN_REF:02X}", NEW_PUK), OK, b"")


# --- bad input gets the spec's answer, and nothing is lost -------------------------------------------------


@pytest.mark.parametrize("value", [b"1234567", b"12345678901234567", b"1234567A"], ids=["7", "17", "letter"])
def test_a_malformed_puk_is_refused_on_set_and_no_counter_moves(reader: Reader, value: bytes) -> None:
    set_value = apdu(f"00 24 01 {PUK_REF:02X}", value)
    verify(reader, PASSWORD_REF, PASSWORD)
    expect(reader, set_value, WRONG_DATA, b"")
    assert counter(reader, PUK_REF) == NOT_SET
    assert counter(reader, PASSWORD_REF) == 0x63C5


def test_a_puk_used_while_not_set(reader: Reader) -> None:
    block_pin(reader)
    expect(reader, apdu(f"00 2C 01 {PIN_REF:02X}", PUK), NOT_SET, b"")
    expect(reader, apdu(f"00 24 00 {PUK_REF:02X}", PUK + NEW_PUK), NOT_SET, b"")
    verify(reader, PUK_REF, PUK, NOT_SET)


def test_reset_retry_counter_on_a_pin_that_is_not_blocked(reader: Reader) -> None:
    set_puk(reader)
    verify(reader, PIN_REF, b"0000", 0x63C2)
    expect(reader, apdu(f"00 2C 00 {PIN_REF:02X}", PUK + b"2468"), REFUSED, b"")
    assert counter(reader, PUK_REF) == 0x63CA
    assert counter(reader, PIN_REF) == 0x63C2


def test_a_malformed_new_pin_costs_no_puk_try(reader: Reader) -> None:
    set_puk(reader)
    block_pin(reader)
    for data in (PUK + b"24A8", PUK + b"246", PUK):
        expect(reader, apdu(f"00 2C 00 {PIN_REF:02X}", data), WRONG_DATA, b"")
    expect(reader, f"00 2C 00 {PIN_REF:02X}", WRONG_LENGTH, b"")
    assert counter(reader, PUK_REF) == 0x63CA


def test_the_puk_survives_a_reopened_card(
    card_state_factory: Callable[..., Path], reader_for: Callable[[Card], Reader]
) -> None:
    """The PUK and its counter are persisted state, like today's credentials."""
    state = card_state_factory()
    first = reader_for(load_card(StateStore(state)))
    select_aid(first, nextgen.AUTH_AID)
    set_puk(first)
    verify(first, PUK_REF, b"99999999", 0x63C9)
    again = reader_for(load_card(StateStore(state)))
    select_aid(again, nextgen.AUTH_AID)
    assert counter(again, PUK_REF) == 0x63C9
    verify(again, PUK_REF, PUK)


def test_today_s_14_digit_verification_number_b_is_a_wrong_value_on_the_next_card(
    make_card: Callable[..., Card], reader_for: Callable[[Card], Reader]
) -> None:
    """照合番号B is 6 digits now: today's 14-digit value is simply wrong and spends a try (VERIFY under
    the secure messaging the 券面等AP requires, here opened by PACE with 照合番号A)."""
    reader = with_pace(
        reader_for(make_card()), nextgen.FACE_AID, PasswordReference.VERIFICATION_CODE_A, PERSONA.my_number
    )
    reference = nextgen.reference(nextgen.VERIFICATION_NUMBER_B)
    verify(reader, reference, b"80021730110001", 0x63C9)
    verify(reader, reference, PERSONA.verification_number_b6.encode("ascii"))
