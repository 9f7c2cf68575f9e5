"""legacy-2016 access matrix: every EF of every applet, read with no credential and after each credential of
its applet, each case from a cold power-on, through ``transmit`` only.

The list of EFs comes from the profile; the expected access comes from the spec's tables (§1.2, §3.1–§3.5,
§5), written out below, so a profile that drifts from the spec fails here. Allowed → the exact bytes that
personalisation stored (``contents.json``); not allowed → ``69 82``; internal EFs (keys, PINs, EFs whose
content no source shows) → ``69 81``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest

from mynacard.apdu.readers.base import Reader
from mynacard.emulator.card import Card
from mynacard.emulator.issuance.personalise import load_card
from mynacard.emulator.issuance.personas import load_persona
from mynacard.emulator.issuance.profiles import load_profile
from mynacard.emulator.store.state import StateStore
from mynacard.tools.harness.suites.helpers import (
    COMMON_AID,
    INCOMPATIBLE_WITH_FILE,
    ISD_AID,
    JPKI_AID,
    JUKI_AID,
    OK,
    RECORD_NOT_FOUND,
    REFERENCE_DATA_BLOCKED,
    SECURITY_NOT_SATISFIED,
    TEXT_AID,
    VISUAL_AID,
    expect,
    read_binary_chunks,
    select_aid,
    select_ef,
    stored_file,
    stored_records,
    verify_selected,
    verify_sfi,
)

pytestmark = [
    pytest.mark.applies_to("legacy-2016"),
    pytest.mark.capability("access"),
    pytest.mark.clause("current-card §1.2, §3.1–§3.5, §5 (access tables)"),
]

PROFILE = load_profile("legacy-2016")
PERSONA = load_persona("default")

FREE: frozenset[int] = frozenset()
"""Readable with no credential."""


class Ef(NamedTuple):
    kind: str  # "transparent", "record" or "internal" (READ answers 69 81)
    opened_by: (
        frozenset[int] | None
    )  # credential FIDs, any one suffices; FREE = no credential; None = internal


def T(*credentials: int) -> Ef:  # noqa: N802 - a table constructor
    return Ef("transparent", frozenset(credentials))


def R(*credentials: int) -> Ef:  # noqa: N802
    return Ef("record", frozenset(credentials))


INTERNAL = Ef("internal", None)

# The spec's access tables, EF by EF. Keys (秘密鍵) and reference data (PIN EFs) are internal EFs too.
EXPECTED: dict[str, tuple[bytes, dict[int, Ef]]] = {
    # §1.2: the GP card manager is current after power-on; EF 001E selects, READ answers 69 81.
    "card_manager": (ISD_AID, {0x001E: INTERNAL}),
    # §3.1
    "jpki": (
        JPKI_AID,
        {
            0x0001: T(0x001B),  # 署名用電子証明書: the signature password
            0x0002: T(),
            0x0006: T(),
            0x0008: T(),
            0x0009: INTERNAL,  # "UNKNOWN content, protected": no content to give, ASSUMED internal
            0x000A: T(),
            0x000B: T(),
            0x0005: INTERNAL,  # the FID-sweep EFs of unknown content
            0x0010: INTERNAL,
            0x0016: INTERNAL,
            0x0019: INTERNAL,
            0x001C: INTERNAL,
            0x001E: INTERNAL,
            0x0017: INTERNAL,  # user-authentication private key
            0x0018: INTERNAL,  # user-authentication PIN
            0x001A: INTERNAL,  # signature private key
            0x001B: INTERNAL,  # signature password
        },
    ),
    # §3.2 and §5: A opens 0001 only, B opens 0002 only, the PIN opens both.
    "text": (
        TEXT_AID,
        {
            0x0001: T(0x0011, 0x0014),
            0x0002: T(0x0011, 0x0015),
            0x0003: T(0x0011, 0x0014, 0x0015),
            0x0004: T(),
            0x0005: T(),
            0x0006: T(0x0011, 0x0014, 0x0015),
            0x0007: T(0x0011, 0x0014, 0x0015),
            0x0008: T(),  # 16 × FF; access UNKNOWN in the spec, the profile ASSUMES free
            0x0010: INTERNAL,
            0x001C: INTERNAL,
            0x001E: INTERNAL,
            0x0011: INTERNAL,
            0x0012: INTERNAL,
            0x0013: INTERNAL,  # the AP's own key
            0x0014: INTERNAL,
            0x0015: INTERNAL,
        },
    ),
    # §3.3: the birth key opens 0001 only; A opens 0002–0006; B the same without 0005.
    "visual": (
        VISUAL_AID,
        {
            0x0001: T(0x0011),
            0x0002: T(0x0013, 0x0012),
            0x0003: T(),
            0x0004: T(),
            0x0005: T(0x0013),
            0x0006: T(0x0013, 0x0012),
            0x001C: INTERNAL,
            0x001E: INTERNAL,
            0x0011: INTERNAL,
            0x0012: INTERNAL,
            0x0013: INTERNAL,
            0x001A: INTERNAL,  # the AP's own key
        },
    ),
    # §3.5: a VERIFY "does not visibly change" access in this AP, so its record EF is free.
    "juki": (JUKI_AID, {0x0002: R(), 0x001C: INTERNAL}),
    # §3.4: MYNA reads record 1 of 0001 with no credential; 0002 is byte-identical to 住基AP 0002.
    "common": (COMMON_AID, {0x0001: R(), 0x0002: R(), 0x0019: INTERNAL, 0x001C: INTERNAL}),
}


class Secret(NamedTuple):
    persona_field: str | None  # None: reference data that is never set (blocked from issuance)
    max_tries: int | None  # None: UNKNOWN in the spec


# §3.1–§3.5 and §5: every credential, the persona value it holds and its retry limit.
CREDENTIALS: dict[tuple[str, int], Secret] = {
    ("jpki", 0x0018): Secret("auth_pin", 3),
    ("jpki", 0x001B): Secret("sign_password", 5),
    ("text", 0x0011): Secret("text_pin", 3),
    ("text", 0x0012): Secret(None, None),  # blocked from issuance: VERIFY → 69 84
    ("text", 0x0014): Secret("verification_code_a", None),
    ("text", 0x0015): Secret("verification_code_b", None),
    ("visual", 0x0011): Secret("birth_date_key", None),
    ("visual", 0x0012): Secret("verification_code_b", None),
    ("visual", 0x0013): Secret("verification_code_a", None),
    ("juki", 0x001C): Secret("juki_pin", 3),
    ("common", 0x001C): Secret("common_pin", 3),
}


# --- the profile against the tables ---------------------------------------------------------------


def _profile_nodes() -> dict[str, dict[int, str]]:
    nodes: dict[str, dict[int, str]] = {}
    for applet in PROFILE.applets:
        kinds: dict[int, str] = {f.fid: f.kind for f in applet.files}
        kinds |= {k.fid: "internal" for k in applet.keys}
        kinds |= {c.fid: "internal" for c in applet.credentials}
        nodes[applet.id] = kinds
    return nodes


def test_profile_has_exactly_the_applets_and_aids_of_the_spec() -> None:
    assert {a.id: a.aid for a in PROFILE.applets} == {k: aid for k, (aid, _) in EXPECTED.items()}


def test_profile_has_exactly_the_efs_of_the_spec_tables() -> None:
    expected = {applet: {fid: ef.kind for fid, ef in efs.items()} for applet, (_, efs) in EXPECTED.items()}
    assert _profile_nodes() == expected


def test_profile_credentials_hold_the_persona_values_the_spec_names() -> None:
    found = {}
    for applet in PROFILE.applets:
        for c in applet.credentials:
            field = None if c.value.unset else c.value.persona
            found[(applet.id, c.fid)] = field
    assert found == {key: secret.persona_field for key, secret in CREDENTIALS.items()}


def test_profile_retry_limits_match_the_spec_where_it_knows_them() -> None:
    for applet in PROFILE.applets:
        for c in applet.credentials:
            known = CREDENTIALS[(applet.id, c.fid)].max_tries
            if known is not None:
                assert c.max_tries == known, f"{applet.id} {c.fid:04X}"


# --- the matrix -----------------------------------------------------------------------------------


class Case(NamedTuple):
    applet: str
    fid: int
    credential: int | None


def _cases() -> list[Case]:
    cases = []
    for applet in PROFILE.applets:
        fids = sorted({f.fid for f in applet.files} | {k.fid for k in applet.keys})
        fids += sorted(c.fid for c in applet.credentials)
        for fid in fids:
            cases.append(Case(applet.id, fid, None))
            cases += [Case(applet.id, fid, c.fid) for c in applet.credentials]
    return cases


def _case_id(case: Case) -> str:
    opened = "none" if case.credential is None else f"after-{case.credential:04X}"
    return f"{case.applet}-{case.fid:04X}-{opened}"


CASES = _cases()

SECTIONS = {"card_manager": "§1.2", "jpki": "§3.1", "text": "§3.2", "visual": "§3.3", "common": "§3.4"}
"""The spec clause of each applet's file table (住基AP: §3.5)."""


def _param(case: Case) -> object:
    clause = f"current-card {SECTIONS.get(case.applet, '§3.5')}, §5: {case.applet} EF {case.fid:04X} access"
    return pytest.param(case, id=_case_id(case), marks=pytest.mark.clause(clause))


def _verify(reader: Reader, applet: str, fid: int) -> None:
    """VERIFY the credential with the persona's value: SELECT + ``00 20 00 80`` for even FIDs, the
    ``00 20 00 <80|SFI>`` form for odd ones, so both addressing styles open files (§4.4)."""
    secret = CREDENTIALS[(applet, fid)]
    if secret.persona_field is None:
        # 0012 of the text AP: blocked from issuance; any VERIFY answers 69 84 and opens nothing (§3.2)
        verify_selected(reader, fid, b"0000", REFERENCE_DATA_BLOCKED)
        return
    value = str(getattr(PERSONA, secret.persona_field)).encode("ascii")
    if fid & 1:
        verify_sfi(reader, fid, value)
    else:
        verify_selected(reader, fid, value)


@pytest.fixture(scope="module")
def matrix_card(
    card_templates: Callable[[str, str], Path], tmp_path_factory: pytest.TempPathFactory, profile_name: str
) -> tuple[Card, Path]:
    """One default card of the profile under test for the whole matrix (a variant is checked against the
    spec's tables too). Opening a card costs ~0.2 s (its RSA keys), so the cases share it; each case starts
    from a cold power-on (no applet, no verified credential), and no case changes what persists: every
    VERIFY is correct (counters stay full) or hits the blocked 0012."""
    state = tmp_path_factory.mktemp("matrix") / "card"
    shutil.copytree(card_templates(profile_name, "default"), state)
    return load_card(StateStore(state)), state


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_read_with_and_without_each_credential(
    case: Case, matrix_card: tuple[Card, Path], reader_for: Callable[[Card], Reader]
) -> None:
    aid, table = EXPECTED[case.applet]
    assert case.fid in table, f"{case.applet} EF {case.fid:04X} is not in the spec's table"
    ef = table[case.fid]
    card, fresh_state = matrix_card
    reader = reader_for(card)  # powers the card on: cold start
    if case.applet != "card_manager":  # the card manager is current after power-on (§1.2)
        select_aid(reader, aid)
    if case.credential is not None:
        _verify(reader, case.applet, case.credential)
    select_ef(reader, case.fid)

    if ef.opened_by is None:
        expect(reader, "00 B0 00 00 00", INCOMPATIBLE_WITH_FILE, b"")
        expect(reader, "00 B2 01 04 00", INCOMPATIBLE_WITH_FILE, b"")
        return

    allowed = ef.opened_by == FREE or case.credential in ef.opened_by
    sfi = case.fid  # every EF is 0001–001E, so its SFI is its low byte (§3)
    if ef.kind == "transparent":
        if not allowed:
            expect(reader, "00 B0 00 00 00", SECURITY_NOT_SATISFIED, b"")
            expect(reader, bytes((0x00, 0xB0, 0x80 | sfi, 0x00, 0x04)), SECURITY_NOT_SATISFIED, b"")
            return
        stored = stored_file(fresh_state, case.applet, case.fid)
        assert read_binary_chunks(reader, len(stored)) == stored
        head = min(len(stored), 256)
        expect(reader, bytes((0x00, 0xB0, 0x80 | sfi, 0x00, head & 0xFF)), OK, stored[:head])
        return

    if not allowed:
        expect(reader, "00 B2 01 04 00", SECURITY_NOT_SATISFIED, b"")
        return
    records = stored_records(fresh_state, case.applet, case.fid)
    assert records, "a record EF with no records"
    for number, record in enumerate(records, start=1):
        expect(reader, bytes((0x00, 0xB2, number, 0x04, 0x00)), OK, record)
        expect(reader, bytes((0x00, 0xB2, number, sfi << 3 | 0x04, 0x00)), OK, record)
    expect(reader, bytes((0x00, 0xB2, len(records) + 1, 0x04, 0x00)), RECORD_NOT_FOUND, b"")


# --- what personalisation stored, against the spec's formats (so the matrix is not self-referential) --


def test_stored_contents_have_the_spec_formats(card_state_factory: Callable[..., Path]) -> None:
    state = card_state_factory("legacy-2016", "default")
    p = PERSONA
    # §3.1: 160-byte CK_TOKEN_INFO starting with the 32-byte label; both certificates present
    token = stored_file(state, "jpki", 0x0006)
    assert len(token) == 160
    assert token[:32] == b"JPKIAPICCTOKEN2" + b" " * 17
    assert stored_file(state, "jpki", 0x0008) == bytes.fromhex("8F 8F 00")
    for fid in (0x0001, 0x0002, 0x000A, 0x000B):  # DER certificates: 30 82 HH LL, exactly HHLL + 4 bytes
        der = stored_file(state, "jpki", fid)
        assert der[:2] == b"\x30\x82"
        assert len(der) == int.from_bytes(der[2:4], "big") + 4
    # §3.2: the 個人番号 object + FF FF filler, 17 bytes
    assert stored_file(state, "text", 0x0001) == b"\xff\x10\x0c" + p.my_number.encode() + b"\xff\xff"
    assert len(stored_file(state, "text", 0x0003)) == 336
    assert len(stored_file(state, "text", 0x0004)) == 568
    assert stored_file(state, "text", 0x0004)[:5] == bytes.fromhex("7F 21 82 02 33")
    assert stored_file(state, "text", 0x0008) == b"\xff" * 16
    assert stored_file(state, "visual", 0x0006) == b"\xff" * 16
    assert len(stored_file(state, "visual", 0x0004)) == 568
    # §3.4: 01 1C + serial (15) + municipality code (5) + expiry YYYYMMDD
    digits = f"{p.card_serial}{p.municipality_code}{p.card_expiry:%Y%m%d}".encode()
    assert stored_records(state, "common", 0x0001) == [b"\x01\x1c" + digits]
    # §3.4/§3.5: 16-byte key references, identical in both APs
    assert len(stored_records(state, "juki", 0x0002)[0]) == 16
    assert stored_records(state, "juki", 0x0002) == stored_records(state, "common", 0x0002)
