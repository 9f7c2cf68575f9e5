"""nextgen-2026 access matrix: every EF of 認証AP and 券面等AP, read with no credential and after each
credential state, each case from a cold power-on, through ``transmit`` only.

The EFs come from the profile; the expected access is the spec's tables (nextgen-2026 §2.1, §2.2), written
out below, so a profile that drifts from the spec fails here. Allowed → the exact bytes personalisation
stored; not allowed → ``69 82``; keys and credentials → ``69 81``. Verify-once: the signature password
opens everything the 4-digit PIN opens, the PIN never what only the password opens. The 券面等AP requires
secure messaging (§4): its 照合番号 are proven by PACE, and without a session every EF answers ``69 82``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest

from mynacard.apdu.applets import nextgen
from mynacard.apdu.readers.base import Reader
from mynacard.apdu.sm import PasswordReference
from mynacard.emulator.card import Card
from mynacard.emulator.issuance.personas import load_persona
from mynacard.emulator.store.loading import load_card
from mynacard.emulator.store.state import StateStore
from mynacard.profiles.schema import Profile
from mynacard.tools.harness.suites.helpers import (
    INCOMPATIBLE_WITH_FILE,
    OK,
    SECURITY_NOT_SATISFIED,
    apdu,
    expect,
    juki_signature,
    read_current_ef,
    select_aid,
    select_ef,
    stored_file,
    with_pace,
)

pytestmark = [
    pytest.mark.applies_to("nextgen-2026"),
    pytest.mark.capability("access"),
    pytest.mark.clause("nextgen-2026 §2.1 (access of 認証AP and 券面等AP)"),
]

PERSONA = load_persona("default")

PIN, SIGN, JUKI, A, B = "pin", "sign_password", "juki_terminal", "verification_a", "verification_b"


class Ef(NamedTuple):
    """How an EF opens: any one of the alternatives (each a set of proofs that must all hold)."""

    opened_by: tuple[frozenset[str], ...] | None  # () = free; None = internal (69 81)


def any_of(*proofs: str) -> Ef:
    return Ef(tuple(frozenset((p,)) for p in proofs))


FREE = Ef(())
INTERNAL = Ef(None)

EXPECTED: dict[str, tuple[bytes, dict[int, Ef]]] = {
    # §2.1: PIN-protected functions; the signature password satisfies every PIN rule (verify once)
    "auth": (
        nextgen.AUTH_AID,
        {
            0x0001: any_of(SIGN),
            0x0002: FREE,
            0x0003: any_of(PIN, SIGN),
            0x0004: any_of(PIN, SIGN),
            0x0005: any_of(PIN, SIGN),
            0x0006: FREE,
            0x0007: Ef((frozenset((PIN, JUKI)), frozenset((SIGN, JUKI)))),
            0x0009: FREE,
            0x000A: FREE,
            0x000B: FREE,
            0x0017: INTERNAL,
            0x0018: INTERNAL,
            0x0019: INTERNAL,
            0x001A: INTERNAL,
            0x001B: INTERNAL,
            0x001D: INTERNAL,
        },
    ),
    # §2.2: card-number-protected functions
    "face": (
        nextgen.FACE_AID,
        {
            0x0001: any_of(A, B),
            0x0002: any_of(A),
            0x0003: any_of(A, B),
            0x0004: any_of(A),
            0x0005: FREE,
            0x0012: INTERNAL,
            0x0013: INTERNAL,
        },
    ),
}

STATES: dict[str, list[frozenset[str]]] = {
    "auth": [frozenset(p) for p in ((), (PIN,), (SIGN,), (JUKI,), (PIN, JUKI), (SIGN, JUKI))],
    "face": [frozenset(p) for p in ((), (A,), (B,))],
}


def test_the_profile_has_exactly_the_spec_s_efs(profile_under_test: Profile) -> None:
    """The spec's two applets, exactly; the free area's applets (在留AP, licence) are the free area's."""
    for applet in profile_under_test.applets:
        if applet.id == "card_manager" or applet.free_area:
            continue
        aid, table = EXPECTED[applet.id]
        assert applet.aid == aid
        fids = (
            {f.fid for f in applet.files} | {k.fid for k in applet.keys} | {c.fid for c in applet.credentials}
        )
        assert fids == set(table), applet.id


class Case(NamedTuple):
    applet: str
    fid: int
    proven: frozenset[str]


CASES = [
    Case(applet, fid, state)
    for applet, (_, table) in EXPECTED.items()
    for fid in table
    for state in STATES[applet]
]


def _case_id(case: Case) -> str:
    return f"{case.applet}-{case.fid:04X}-{'+'.join(sorted(case.proven)) or 'none'}"


def prove(reader: Reader, proof: str) -> None:
    """Verify a credential of the current applet (or authenticate the 住基 terminal)."""
    values = {
        PIN: (nextgen.PIN, PERSONA.auth_pin),
        SIGN: (nextgen.SIGN_PASSWORD, PERSONA.sign_password),
        A: (nextgen.VERIFICATION_NUMBER_A, PERSONA.my_number),
        B: (nextgen.VERIFICATION_NUMBER_B, PERSONA.verification_number_b6),
    }
    if proof == JUKI:
        challenge = expect(reader, "00 84 00 00 08", OK).data
        expect(reader, apdu(f"00 82 00 {nextgen.JUKI_TERMINAL_KEY:02X}", juki_signature(challenge)), OK, b"")
        return
    fid, value = values[proof]
    expect(reader, apdu(f"00 20 00 {nextgen.reference(fid):02X}", value.encode("ascii")), OK, b"")


def _face_reader(reader: Reader, proven: frozenset[str]) -> Reader:
    """The 券面等AP under PACE with the one 照合番号 proven (A: reference 81, B: the CAN 02)."""
    (number,) = proven
    if number == A:
        return with_pace(reader, nextgen.FACE_AID, PasswordReference.VERIFICATION_CODE_A, PERSONA.my_number)
    return with_pace(reader, nextgen.FACE_AID, PasswordReference.CAN, PERSONA.verification_number_b6)


@pytest.fixture(scope="module")
def matrix_card(
    card_templates: Callable[[str, str], Path], tmp_path_factory: pytest.TempPathFactory, profile_name: str
) -> tuple[Card, Path]:
    """One card for the whole matrix: no case uses a try or changes reference data."""
    state = tmp_path_factory.mktemp("nextgen-matrix") / "card"
    shutil.copytree(card_templates(profile_name, "default"), state)
    return load_card(StateStore(state)), state


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_read_with_each_credential_state(
    case: Case, matrix_card: tuple[Card, Path], reader_for: Callable[[Card], Reader]
) -> None:
    aid, table = EXPECTED[case.applet]
    ef = table[case.fid]
    card, state = matrix_card
    reader = reader_for(card)
    if case.applet == "face" and not case.proven:
        select_aid(reader, aid)  # no PACE, no secure messaging: the applet takes nothing after SELECT
        expect(reader, apdu("00 A4 02 0C", case.fid.to_bytes(2, "big")), SECURITY_NOT_SATISFIED, b"")
        return
    if case.applet == "face":
        reader = _face_reader(reader, case.proven)
    else:
        select_aid(reader, aid)
        for proof in sorted(case.proven):
            prove(reader, proof)
    select_ef(reader, case.fid)
    if ef.opened_by is None:
        expect(reader, "00 B0 00 00 01", INCOMPATIBLE_WITH_FILE, b"")
    elif not ef.opened_by or any(alternative <= case.proven for alternative in ef.opened_by):
        assert read_current_ef(reader) == stored_file(state, case.applet, case.fid)
    else:
        expect(reader, "00 B0 00 00 01", SECURITY_NOT_SATISFIED, b"")
