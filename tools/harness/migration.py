"""The migration report, legacy-2016 → nextgen-2026 (移行影響): per client and per function, what still works
on the next card with ``legacy_aliases`` on and off, what breaks and why, and what the client must change.

Nothing here is a verdict written down: the verdicts come from the compatibility matrix
(``matrix.measure_matrix``). What is data is which functions each golden sequence exercises, and from
which of its exchanges (``SEQUENCE_FUNCTIONS``): a sequence that stops at exchange *n* breaks the function
whose part holds *n*, the parts before it worked, and those after it were not reached. A function of a
client works on a profile when no part of it breaks there and at least one part got through.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from mynacard.emulator.issuance.profiles import load_profile
from mynacard.tools.harness.matrix import LEGACY, NEXTGEN, Cell, Matrix

FUNCTIONS = {
    "auth_signature": "authentication signature (利用者証明用電子証明書)",
    "signature": "signature (署名用電子証明書)",
    "certificate_read": "certificate read",
    "attributes_read": "4情報 read (基本4情報)",
    "my_number_read": "My Number read (個人番号)",
    "pin_change": "PIN change",
    "pin_status": "PIN tries left",
    "token_info": "token information (EF 0006)",
    "card_face": "card face (券面AP)",
    "card_detection": "card detection (SELECT, FCI)",
    "card_serial": "card serial (共通AP)",
    "ap_info": "AP basic information (券面事項入力補助AP EF 0005)",
}
"""The issue's six functions first, then the others today's golden sequences exercise."""

Parts = tuple[tuple[str, int], ...]
"""The functions a sequence exercises, each with the exchange its part starts at (in order)."""

SEQUENCE_FUNCTIONS: dict[str, Parts] = {
    "test_myna_token_info": (("token_info", 1),),
    "test_myna_jpki_cert[auth-10]": (("certificate_read", 1),),
    "test_myna_jpki_cert[auth_ca-11]": (("certificate_read", 1),),
    "test_myna_jpki_cert[sign_ca-2]": (("certificate_read", 1),),
    "test_myna_jpki_cert_sign_verifies_the_password_first": (("certificate_read", 1),),
    "test_myna_pkey_sign_with_the_auth_key": (("auth_signature", 1),),
    "test_myna_text_mynumber": (("my_number_read", 1),),
    "test_myna_text_attrs_takes_the_2nd_to_5th_objects": (("attributes_read", 1),),
    "test_myna_text_basic_info": (("ap_info", 1),),
    "test_myna_visual_photo": (("my_number_read", 1), ("card_face", 6)),
    "test_myna_pin_status_every_key_answers_63": (("pin_status", 1),),
    "test_myna_unknown_number_is_common_ap_record_1": (("card_serial", 1),),
    "test_myna_pin_change_of_the_auth_pin": (("pin_change", 1),),
    "test_myna_go_token_trimmed_of_spaces": (("token_info", 1),),
    "test_myna_go_read_certificate[10]": (("certificate_read", 1),),
    "test_myna_go_read_certificate[11]": (("certificate_read", 1),),
    "test_myna_go_read_certificate[2]": (("certificate_read", 1),),
    "test_myna_go_text_ap_fixed_size_reads": (("my_number_read", 1), ("attributes_read", 6)),
    "test_myna_go_visual_card_face": (("card_face", 1),),
    "test_myna_go_text_basic_info_reads_256_bytes": (("ap_info", 1),),
    "test_myna_go_lookup_pin": (("pin_status", 1),),
    "test_myna_go_change_of_the_text_ap_pin": (("pin_change", 1), ("my_number_read", 6)),
    "test_opensc_bind_reads_both_counters": (("pin_status", 1),),
    "test_opensc_pkcs15_tool_c": (("certificate_read", 1),),
    "test_opensc_pkcs15_tool_verify_pin_then_read_sign_certificate": (("certificate_read", 1),),
    "test_opensc_pkcs11_sign_with_the_auth_key": (("auth_signature", 1),),
    "test_opensc_pkcs11_sign_key_context_specific_login": (("signature", 1),),
    "test_opensc_tool_send_apdu": (("card_detection", 1),),
    "test_tret_token_with_spaces_filtered": (("token_info", 1),),
    "test_tret_my_number_as_simple_tlv_after_the_first_byte": (("my_number_read", 1),),
    "test_tret_retry_lookup": (("pin_status", 1),),
    "test_mnb_certificates[1-27-TEST1234]": (("certificate_read", 1),),
    "test_mnb_certificates[10-None-]": (("certificate_read", 1),),
    "test_mnb_compute_signature[24-1234-23-10]": (("auth_signature", 1),),
    "test_mnb_compute_signature[27-TEST1234-26-1]": (("signature", 1),),
    "test_mnb_my_number_at_bytes_3_to_14": (("my_number_read", 1),),
    "test_mnb_basic_info_fixed_offsets": (("attributes_read", 1),),
    "test_pyj_certificate_single_read_is_truncated_at_256": (("certificate_read", 1),),
    "test_pyj_sign": (("auth_signature", 1),),
    "test_pyj_personal_info": (("attributes_read", 1),),
    "test_pyj_wrong_pin_is_a_63_status": (("pin_status", 1),),
    "test_mbe_user_auth_signature_by_sfi": (("auth_signature", 1),),
    "test_mbe_certificate_with_extended_le": (("certificate_read", 1),),
    "test_mbe_basic_four_by_sfi": (("my_number_read", 1), ("attributes_read", 4)),
    "test_jsapdu_select_df_with_fci": (("card_detection", 1),),
    "test_jsapdu_read_ef_binary_full_with_extended_le": (("certificate_read", 1),),
    "test_jsapdu_verify_forms_and_full_reads_in_the_card_face_ap": (("card_face", 1), ("attributes_read", 5)),
}
"""Each golden sequence (a matrix row) → its parts, from the exchanges the suite writes out."""

CHANGES = {
    "AID moved": "select the 認証AP / 券面等AP by their new AIDs (or needs a card with legacy_aliases on)",
    "file moved": "read the file at its FID in the merged applet"
    " (認証AP: My Number 0003, 4情報 0004, token 0006)",
    "a PIN that no longer exists": "use the next card's two secrets: the 4-digit PIN (暗証番号) and the"
    " signature password; 照合番号A/B only open the 券面等AP under PACE",
    "RSA → ECDSA": "send a SHA-384 hash (48 bytes) to 80 2A and read r‖s (96 bytes); verify with ECDSA P-384",
    "certificate profile changed": "accept ECDSA P-384 keys in the certificates (the next card's hierarchy)",
    "token label changed": "accept JPKIAPICCTOKEN3 (do not match the token label exactly)",
    "SM now required": "establish PACE (照合番号B, 照合番号A or the PIN) and send the commands under"
    " secure messaging",
    "access rule changed": "verify the next card's credential (PIN or signature password) before the read",
    "content layout changed": "parse the records by their tags (BER-TLV, both length forms), not at fixed"
    " offsets or sizes",
    "PIN counter changed": "read the tries left from the next card's PIN (one counter for the 4-digit PIN)",
}
"""What a client has to change, per kind of break."""

_CAUSES = {
    "AID moved": "AID moved",
    "file moved or gone": "file moved",
    "RSA-only client meets an ECDSA P-384 key": "certificate profile changed",
    "signature form changed": "RSA → ECDSA",
    "token label changed (JPKIAPICCTOKEN3)": "token label changed",
    "secure messaging now required": "SM now required",
    "access rule changed": "access rule changed",
    "content layout changed": "content layout changed",
    "a credential of today's card is not there or has another counter": "PIN counter changed",
}
"""``compat.classify``'s kinds of reason → the kinds of break of this report."""

_SELECT_EF = re.compile(r"^00 A4 02 0C 02 ([0-9A-F]{2}) ([0-9A-F]{2})")


@dataclass(frozen=True, slots=True)
class Part:
    """One function's part of one sequence on one profile."""

    sequence: str
    status: str
    """``works``, ``breaks`` or ``not reached`` (the sequence stopped in an earlier part)."""
    cell: Cell


@dataclass(frozen=True, slots=True)
class Verdict:
    """One client's function on one profile."""

    status: str
    """``works``, ``breaks``, ``not reached`` or ``not exercised`` (no golden sequence does it)."""
    parts: tuple[Part, ...] = ()

    @property
    def breaks(self) -> list[str]:
        """The kinds of break, each once, in the order the parts show them."""
        return list(dict.fromkeys(kind_of(p.cell) for p in self.parts if p.status == "breaks"))

    @property
    def stopped_earlier(self) -> list[str]:
        """For a function not reached: the kinds of break that stopped its sequences before it."""
        return list(dict.fromkeys(kind_of(p.cell) for p in self.parts if p.status == "not reached"))

    @property
    def changes(self) -> list[str]:
        return [CHANGES[kind] for kind in self.breaks if kind in CHANGES]

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "breaks": self.breaks,
            "why": [f"{p.sequence}: {_evidence(p.cell)}" for p in self.parts if p.status == "breaks"],
            "changes": self.changes,
            "stopped_earlier_by": self.stopped_earlier if self.status == "not reached" else [],
        }


def kind_of(cell: Cell) -> str:
    """The kind of break: ``classify``'s reason, with a SELECT of a credential of today's card that the
    next card lacks told apart from a moved file."""
    kind = _CAUSES.get(cell.cause, cell.cause)
    select = _SELECT_EF.match(cell.command or "")
    if kind == "file moved" and select and int(select[1] + select[2], 16) in _legacy_credential_only_fids():
        return "a PIN that no longer exists"
    return kind


def _legacy_credential_only_fids() -> set[int]:
    """FIDs that are a credential in some applet of today's card and a file in none."""
    applets = load_profile(LEGACY).applets
    files = {f.fid for a in applets for f in a.files}
    return {c.fid for a in applets for c in a.credentials} - files


def _evidence(cell: Cell) -> str:
    if cell.exchange is None:
        return cell.reason
    return f"#{cell.exchange} {cell.command} → {cell.answer}, expected {cell.expected or '(see reason)'}"


def part_status(cell: Cell, start: int, end: int | None) -> str:
    """Whether the part from exchange ``start`` up to ``end`` (exclusive; None: the last part) got through."""
    if cell.passed:
        return "works"
    if cell.exchange is None:  # every answer as expected, the client misreads the last part's data
        return "breaks" if end is None else "works"
    if cell.exchange < start:
        return "not reached"
    return "breaks" if end is None or cell.exchange < end else "works"


def verdict(matrix: Matrix, client: str, function: str, profile: str) -> Verdict:
    parts = []
    for row_client, sequence in matrix.rows():
        cell = matrix.cell(sequence, profile)
        if row_client != client or cell is None:
            continue
        spans = SEQUENCE_FUNCTIONS[sequence]
        for i, (name, start) in enumerate(spans):
            if name == function:
                end = spans[i + 1][1] if i + 1 < len(spans) else None
                parts.append(Part(sequence, part_status(cell, start, end), cell))
    statuses = {p.status for p in parts}
    status = next((s for s in ("breaks", "works", "not reached") if s in statuses), "not exercised")
    return Verdict(status, tuple(parts))


@dataclass(frozen=True, slots=True)
class Entry:
    """One row of the report: a client's function today and on each next-card profile."""

    client: str
    function: str
    today: tuple[str, ...]
    """The legacy profiles on which the function works."""
    today_verdict: Verdict
    """On legacy-2016 as shipped."""
    targets: dict[str, Verdict]


def report(matrix: Matrix, targets: tuple[str, ...] = NEXTGEN) -> list[Entry]:
    """Every client × every function, for the next-card profiles in ``targets`` that ``matrix`` holds."""
    legacy = [p for p in matrix.profiles if p == LEGACY or p.startswith(LEGACY + "-")]
    measured = [t for t in targets if t in matrix.profiles]
    entries = []
    for client in matrix.clients():
        for function in FUNCTIONS:
            today = tuple(p for p in legacy if verdict(matrix, client, function, p).status == "works")
            baseline = verdict(matrix, client, function, LEGACY)
            entries.append(
                Entry(
                    client,
                    function,
                    today,
                    baseline,
                    {t: verdict(matrix, client, function, t) for t in measured},
                )
            )
    return entries


def aliases_label(profile: str) -> str:
    return "aliases on" if load_profile(profile).behaviour.legacy_aliases else "aliases off"


def to_json(entries: list[Entry]) -> dict[str, Any]:
    return {"summary": summary(entries), "functions": _entries_json(entries)}


def _entries_json(entries: list[Entry]) -> list[dict[str, Any]]:
    return [
        {
            "client": e.client,
            "function": e.function,
            "label": FUNCTIONS[e.function],
            "today": {"status": e.today_verdict.status, "works_on": list(e.today)},
            "next": {
                t: {"aliases": aliases_label(t) == "aliases on"} | v.to_json() for t, v in e.targets.items()
            },
        }
        for e in entries
    ]


def summary(entries: list[Entry]) -> list[dict[str, Any]]:
    """Per client: the functions its golden sequences exercise, and how many of them work today (on
    legacy-2016, on some legacy variant) and on each next-card profile."""
    rows = []
    for client in sorted({e.client for e in entries}):
        mine = [
            e
            for e in entries
            if e.client == client and (e.today or e.today_verdict.status != "not exercised")
        ]
        targets = mine[0].targets if mine else {}
        rows.append(
            {
                "client": client,
                "exercised": len(mine),
                LEGACY: sum(e.today_verdict.status == "works" for e in mine),
                "some legacy variant": sum(bool(e.today) for e in mine),
            }
            | {t: sum(e.targets[t].status == "works" for e in mine) for t in targets}
        )
    return rows


def summary_text(entries: list[Entry]) -> list[str]:
    rows = summary(entries)
    if not rows:
        return []
    keys = [k for k in rows[0] if k != "client"]
    head = [
        k if k in ("exercised", LEGACY, "some legacy variant") else f"{k} ({aliases_label(k)})" for k in keys
    ]
    lines = ["functions that work, of those each client's golden sequences exercise:"]
    lines.append(f"{'client':<8} " + " ".join(f"{h:>{max(len(h), 3)}}" for h in head))
    for row in rows:
        lines.append(
            f"{row['client']:<8} "
            + " ".join(f"{row[k]:>{max(len(h), 3)}}" for k, h in zip(keys, head, strict=True))
        )
    unmeasured = [FUNCTIONS[f] for f in FUNCTIONS if not any(e.function == f and e.today for e in entries)]
    if unmeasured:
        lines.append(f"no client's golden sequence exercises: {', '.join(unmeasured)} (not measured)")
    return [*lines, ""]


def text(entries: list[Entry]) -> str:
    """Per client, each function it exercises: today, then each next-card profile, with why and what to
    change; functions no golden sequence of the client exercises listed in one line."""
    lines: list[str] = summary_text(entries)
    for client in sorted({e.client for e in entries}):
        mine = [e for e in entries if e.client == client]
        lines.append(client)
        for e in (e for e in mine if e.today_verdict.status != "not exercised" or e.today):
            lines += _entry_lines(e)
        unexercised = [FUNCTIONS[e.function] for e in mine if e.today_verdict.status == "not exercised"]
        lines += [f"  not exercised by its golden sequences: {', '.join(unexercised)}", ""]
    return "\n".join(lines).rstrip() + "\n"


def _entry_lines(entry: Entry) -> list[str]:
    today = f"today: {_today(entry)}"
    lines = [f"  {FUNCTIONS[entry.function]:<48} {today}"]
    for target, v in entry.targets.items():
        head = f"    {target} ({aliases_label(target)}): {v.status}"
        if v.status == "not reached":
            head += f" — the sequence stops earlier: {'; '.join(v.stopped_earlier)}"
        lines.append(head + (f" — {'; '.join(v.breaks)}" if v.breaks else ""))
        lines += [f"      change: {change}" for change in v.changes]
    return lines


def _today(entry: Entry) -> str:
    if entry.today_verdict.status == "works":
        return "works on legacy-2016" + (
            f" (+{len(entry.today) - 1} variants)" if len(entry.today) > 1 else ""
        )
    if entry.today:
        return f"{entry.today_verdict.status} on legacy-2016, works on {', '.join(entry.today)}"
    return f"{entry.today_verdict.status} on every legacy profile"
