"""VERIFY (``00 20``) and CHANGE REFERENCE DATA (``00 24``) through any reader: counters, blocking, forms.

Spec current-card §4.4, §4.5, §5, §7.2, §9.1, §9.4; issue 2 item 3. Tests that use up tries or change a PIN
are ``destructive`` and run on a fresh card of their own (the ``reader`` fixture).
"""

from __future__ import annotations

import pytest

from mynacard.apdu.readers.base import Reader
from mynacard.tools.harness.suites.helpers import (
    AUTH_PIN,
    OK,
    SIGN_PASSWORD,
    TEXT_AID,
    WRONG_AUTH_PIN,
    WRONG_SIGN_PASSWORD,
    apdu,
    expect,
    select_aid,
    select_ef,
    select_jpki,
    verify,
)

pytestmark = [
    pytest.mark.applies_to("legacy-2016"),
    pytest.mark.capability("pins"),
    pytest.mark.clause("current-card §4.4, §4.5, §5, §7.2 (VERIFY, CHANGE REFERENCE DATA)"),
]

AUTH, SIGN = 0x98, 0x9B
"""P2 = 80 | SFI: the auth PIN (EF 0018) and the signature password (EF 001B), named directly."""


def sign_certificate_readable(reader: Reader) -> bool:
    """True when EF 0001 (needs the signature password) reads; the probe of the security state."""
    sw = expect_one_of(reader, "00 B0 81 00 01", (OK, 0x6982))
    return sw == OK


def expect_one_of(reader: Reader, command: str, sws: tuple[int, ...]) -> int:
    sw = reader.transmit(bytes.fromhex(command)).sw
    assert sw in sws, f"{command}: {sw:04X}"
    return sw


# --- the counter query: no try used -------------------------------------------------------------------


def test_empty_verify_on_the_current_ef(shared_reader: Reader) -> None:
    select_jpki(shared_reader)
    select_ef(shared_reader, 0x0018)
    expect(shared_reader, "00 20 00 80", 0x63C3, b"")
    select_ef(shared_reader, 0x001B)
    expect(shared_reader, "00 20 00 80", 0x63C5, b"")


def test_empty_verify_by_sfi(shared_reader: Reader) -> None:
    select_jpki(shared_reader)
    expect(shared_reader, "00 20 00 98", 0x63C3, b"")
    expect(shared_reader, "00 20 00 9B", 0x63C5, b"")


def test_empty_verify_uses_no_try(shared_reader: Reader) -> None:
    select_jpki(shared_reader)
    for _ in range(6):
        expect(shared_reader, "00 20 00 98", 0x63C3)
        expect(shared_reader, "00 20 00 9B", 0x63C5)


def test_correct_verify_both_forms(shared_reader: Reader) -> None:
    select_jpki(shared_reader)
    select_ef(shared_reader, 0x0018)
    expect(shared_reader, apdu("00 20 00 80", AUTH_PIN), OK, b"")
    expect(shared_reader, "00 20 00 98 04 31 32 33 34", OK, b"")
    select_ef(shared_reader, 0x001B)
    expect(shared_reader, apdu("00 20 00 80", SIGN_PASSWORD), OK, b"")
    expect(shared_reader, apdu("00 20 00 9B", SIGN_PASSWORD), OK, b"")


def test_empty_verify_after_a_successful_one_is_still_63cx(shared_reader: Reader) -> None:
    """OpenSC's bind aborts on anything but SW1 = 63 (spec §7.2, §9.1)."""
    select_jpki(shared_reader)
    verify(shared_reader, AUTH, AUTH_PIN)
    verify(shared_reader, SIGN, SIGN_PASSWORD)
    expect(shared_reader, "00 20 00 98", 0x63C3, b"")
    expect(shared_reader, "00 20 00 9B", 0x63C5, b"")
    assert sign_certificate_readable(shared_reader)  # and the query did not undo the verification


def test_verify_opens_what_it_guards_until_the_ap_is_selected_again(shared_reader: Reader) -> None:
    """Re-SELECT of the JPKI-AP clears its security state (profile ``select_clears_security``, spec §7.2)."""
    select_jpki(shared_reader)
    assert not sign_certificate_readable(shared_reader)
    verify(shared_reader, SIGN, SIGN_PASSWORD)
    assert sign_certificate_readable(shared_reader)
    select_jpki(shared_reader)
    assert not sign_certificate_readable(shared_reader)


def test_selecting_another_ap_and_back_clears_the_jpki_state(shared_reader: Reader) -> None:
    select_jpki(shared_reader)
    verify(shared_reader, SIGN, SIGN_PASSWORD)
    select_aid(shared_reader, TEXT_AID)
    select_jpki(shared_reader)
    assert not sign_certificate_readable(shared_reader)


def test_verify_without_a_current_ef_is_69_86(shared_reader: Reader) -> None:
    select_jpki(shared_reader)
    expect(shared_reader, "00 20 00 80", 0x6986, b"")
    expect(shared_reader, apdu("00 20 00 80", AUTH_PIN), 0x6986, b"")


@pytest.mark.parametrize(
    "command", ["00 20 01 98", "00 20 FF 98", "00 20 00 00", "00 20 00 01", "00 20 00 9F"]
)
def test_verify_with_bad_p1_p2_is_6a86(shared_reader: Reader, command: str) -> None:
    select_jpki(shared_reader)
    expect(shared_reader, command, 0x6A86, b"")


def test_verify_with_le_is_67_00(shared_reader: Reader) -> None:
    select_jpki(shared_reader)
    expect(shared_reader, "00 20 00 98 00", 0x6700, b"")
    expect(shared_reader, "00 20 00 98 04 31 32 33 34 00", 0x6700, b"")
    expect(shared_reader, "00 20 00 98", 0x63C3)  # and nothing was counted


# --- wrong values, blocking --------------------------------------------------------------------------


@pytest.mark.destructive
def test_auth_pin_counts_down_blocks_and_stays_blocked(reader: Reader) -> None:
    select_jpki(reader)
    expect(reader, apdu("00 20 00 98", WRONG_AUTH_PIN), 0x63C2, b"")
    expect(reader, "00 20 00 98", 0x63C2)
    expect(reader, apdu("00 20 00 98", WRONG_AUTH_PIN), 0x63C1)
    expect(reader, apdu("00 20 00 98", WRONG_AUTH_PIN), 0x63C0)  # the last try
    expect(reader, apdu("00 20 00 98", AUTH_PIN), 0x6984, b"")  # blocked, even for the right PIN
    expect(reader, apdu("00 20 00 98", WRONG_AUTH_PIN), 0x6984)
    expect(reader, "00 20 00 98", 0x63C0, b"")  # the query on a blocked key
    select_ef(reader, 0x0018)
    expect(reader, "00 20 00 80", 0x63C0)
    expect(reader, apdu("00 20 00 80", AUTH_PIN), 0x6984)
    # the signature password is a counter of its own
    expect(reader, "00 20 00 9B", 0x63C5)


@pytest.mark.destructive
def test_sign_password_has_five_tries(reader: Reader) -> None:
    select_jpki(reader)
    for left in (4, 3, 2, 1, 0):
        expect(reader, apdu("00 20 00 9B", WRONG_SIGN_PASSWORD), 0x63C0 | left)
    expect(reader, apdu("00 20 00 9B", SIGN_PASSWORD), 0x6984)
    expect(reader, "00 20 00 9B", 0x63C0)
    assert not sign_certificate_readable(reader)
    expect(reader, "00 20 00 98", 0x63C3)


@pytest.mark.destructive
def test_correct_verify_resets_the_counter(reader: Reader) -> None:
    select_jpki(reader)
    verify(reader, AUTH, WRONG_AUTH_PIN, 0x63C2)
    verify(reader, AUTH, WRONG_AUTH_PIN, 0x63C1)
    verify(reader, AUTH, AUTH_PIN)
    expect(reader, "00 20 00 98", 0x63C3)
    verify(reader, SIGN, WRONG_SIGN_PASSWORD, 0x63C4)
    verify(reader, SIGN, SIGN_PASSWORD)
    expect(reader, "00 20 00 9B", 0x63C5)


@pytest.mark.destructive
def test_wrong_verify_leaves_the_card_unopened(reader: Reader) -> None:
    select_jpki(reader)
    verify(reader, SIGN, WRONG_SIGN_PASSWORD, 0x63C4)
    assert not sign_certificate_readable(reader)


@pytest.mark.destructive
@pytest.mark.parametrize(
    "value",
    [
        SIGN_PASSWORD.lower(),  # OpenSC does not uppercase; the card compares bytes (spec §5)
        b"Test1234",
        b"TEST12",  # a valid format, but not the password
        b"TEST123",
    ],
)
def test_any_other_sign_password_costs_a_try(reader: Reader, value: bytes) -> None:
    select_jpki(reader)
    verify(reader, SIGN, value, 0x63C4)
    expect(reader, "00 20 00 9B", 0x63C4)


@pytest.mark.destructive
@pytest.mark.parametrize("value", [b"123", b"12345", b"12a4", b"\x00\x00\x00\x00"])
def test_a_malformed_auth_pin_is_a_wrong_pin(reader: Reader, value: bytes) -> None:
    """Profile ``format_violation = wrong_value``: the exact SW for wrong-length PINs is UNKNOWN (§9.7)."""
    select_jpki(reader)
    verify(reader, AUTH, value, 0x63C2)


# --- CHANGE REFERENCE DATA ---------------------------------------------------------------------------


@pytest.mark.destructive
def test_change_auth_pin_after_verify(reader: Reader) -> None:
    select_jpki(reader)
    select_ef(reader, 0x0018)
    expect(reader, apdu("00 20 00 80", AUTH_PIN), OK)
    expect(reader, apdu("00 24 01 80", b"5678"), OK, b"")
    select_jpki(reader)  # log out
    verify(reader, AUTH, AUTH_PIN, 0x63C2)  # the old PIN fails
    verify(reader, AUTH, b"5678")  # the new one works, and resets the counter
    expect(reader, "00 20 00 98", 0x63C3)


@pytest.mark.destructive
def test_change_sign_password_by_sfi(reader: Reader) -> None:
    select_jpki(reader)
    verify(reader, SIGN, SIGN_PASSWORD)
    expect(reader, apdu("00 24 01 9B", b"NEWPASS2026"), OK, b"")
    select_jpki(reader)
    verify(reader, SIGN, SIGN_PASSWORD, 0x63C4)
    verify(reader, SIGN, b"NEWPASS2026")
    assert sign_certificate_readable(reader)


@pytest.mark.destructive
def test_change_without_verify_is_69_82(reader: Reader) -> None:
    select_jpki(reader)
    select_ef(reader, 0x0018)
    expect(reader, apdu("00 24 01 80", b"5678"), 0x6982, b"")
    verify(reader, SIGN, SIGN_PASSWORD)  # the other credential does not allow it either
    expect(reader, apdu("00 24 01 98", b"5678"), 0x6982, b"")
    verify(reader, AUTH, AUTH_PIN)  # the PIN was not changed


@pytest.mark.destructive
@pytest.mark.parametrize(
    ("p2", "current", "new"),
    [
        (AUTH, AUTH_PIN, b"123"),
        (AUTH, AUTH_PIN, b"12345"),
        (AUTH, AUTH_PIN, b"12A4"),
        (SIGN, SIGN_PASSWORD, b"abc123"),  # lowercase is outside [A-Z0-9]
        (SIGN, SIGN_PASSWORD, b"ABC12"),  # 5 characters
        (SIGN, SIGN_PASSWORD, b"A" * 17),
        (SIGN, SIGN_PASSWORD, b"ABC-123"),
    ],
)
def test_new_value_outside_the_format_is_6a80(reader: Reader, p2: int, current: bytes, new: bytes) -> None:
    select_jpki(reader)
    verify(reader, p2, current)
    expect(reader, apdu(f"00 24 01 {p2:02X}", new), 0x6A80, b"")
    select_jpki(reader)
    verify(reader, p2, current)  # unchanged


@pytest.mark.destructive
def test_change_on_a_blocked_pin_is_69_84(reader: Reader) -> None:
    select_jpki(reader)
    for left in (2, 1, 0):
        verify(reader, AUTH, WRONG_AUTH_PIN, 0x63C0 | left)
    expect(reader, apdu("00 24 01 98", b"5678"), 0x6984)
