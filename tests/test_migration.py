"""The migration report, legacy-2016 → nextgen-2026 (issue 12, items 3 and 5), from the matrix.

The report is a function of the compatibility matrix; these tests read the matrix golden
(``golden/matrix.json``), which ``test_matrix.py`` checks against a fresh measurement of every profile.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from mynacard.tools.cli import main
from mynacard.tools.harness import matrix as compat_matrix
from mynacard.tools.harness import migration
from mynacard.tools.harness.matrix import Cell, Matrix

GOLDEN = Path(__file__).resolve().parent / "golden" / "matrix.json"
ALIASES_ON, ALIASES_OFF = "nextgen-2026-aliases", "nextgen-2026"
CLIENTS = ["MBE", "MNB", "MYNA", "MYNA-GO", "OpenSC", "PYJ", "TRET", "jsapdu"]


@pytest.fixture(scope="module")
def measured() -> Matrix:
    return Matrix.from_json(json.loads(GOLDEN.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def entries(measured: Matrix) -> list[migration.Entry]:
    return migration.report(measured)


def entry(entries: list[migration.Entry], client: str, function: str) -> migration.Entry:
    return next(e for e in entries if e.client == client and e.function == function)


def test_every_sequence_of_the_matrix_has_its_functions(measured: Matrix) -> None:
    assert set(migration.SEQUENCE_FUNCTIONS) == {sequence for _, sequence in measured.rows()}
    for parts in migration.SEQUENCE_FUNCTIONS.values():
        assert parts[0][1] == 1
        assert [start for _, start in parts] == sorted({start for _, start in parts})
        assert {name for name, _ in parts} <= set(migration.FUNCTIONS)


def test_a_part_works_breaks_or_is_not_reached_by_where_its_sequence_stopped() -> None:
    stopped_at_5 = Cell("MBE", "s", "p", False, "s", exchange=5, reason="AID moved: …")
    misreads = Cell("MBE", "s", "p", False, "s", reason="content layout changed: …")
    assert migration.part_status(stopped_at_5, 1, 4) == "works"
    assert migration.part_status(stopped_at_5, 4, None) == "breaks"
    assert migration.part_status(stopped_at_5, 6, None) == "not reached"
    assert migration.part_status(misreads, 1, 4) == "works"
    assert migration.part_status(misreads, 4, None) == "breaks"


def test_the_summary_per_client(entries: list[migration.Entry]) -> None:
    columns = ("exercised", "legacy-2016", "some legacy variant", ALIASES_OFF, ALIASES_ON)
    assert {row["client"]: tuple(row[k] for k in columns) for row in migration.summary(entries)} == {
        "MBE": (4, 4, 4, 0, 2),
        "MNB": (5, 4, 5, 0, 2),
        "MYNA": (10, 10, 10, 0, 4),
        "MYNA-GO": (8, 8, 8, 0, 4),
        "OpenSC": (5, 5, 5, 0, 3),
        "PYJ": (4, 4, 4, 0, 3),
        "TRET": (3, 3, 3, 0, 1),
        "jsapdu": (4, 4, 4, 0, 2),
    }


def test_without_aliases_every_function_breaks_at_the_moved_aid(entries: list[migration.Entry]) -> None:
    verdicts = [e.targets[ALIASES_OFF] for e in entries if e.today]
    assert {v.status for v in verdicts} == {"breaks", "not reached"}
    assert {kind for v in verdicts for kind in [*v.breaks, *v.stopped_earlier]} == {"AID moved"}


def test_with_aliases_every_signature_breaks_on_rsa_to_ecdsa(entries: list[migration.Entry]) -> None:
    signing = [e for e in entries if e.function in ("auth_signature", "signature") and e.today]
    assert sorted((e.client, e.function) for e in signing) == [
        ("MBE", "auth_signature"),
        ("MNB", "auth_signature"),
        ("MNB", "signature"),
        ("MYNA", "auth_signature"),
        ("OpenSC", "auth_signature"),
        ("OpenSC", "signature"),
        ("PYJ", "auth_signature"),
    ]
    for e in signing:
        assert (e.targets[ALIASES_ON].status, e.targets[ALIASES_ON].breaks) == ("breaks", ["RSA → ECDSA"])
        assert e.targets[ALIASES_ON].changes == [
            "send a SHA-384 hash (48 bytes) to 80 2A and read r‖s (96 bytes); verify with ECDSA P-384"
        ]


def test_with_aliases_what_works_and_why_the_rest_breaks(entries: list[migration.Entry]) -> None:
    works = sorted((e.client, e.function) for e in entries if e.targets[ALIASES_ON].status == "works")
    assert works == [
        ("MBE", "certificate_read"),
        ("MBE", "my_number_read"),
        ("MNB", "certificate_read"),
        ("MNB", "my_number_read"),
        ("MYNA", "attributes_read"),
        ("MYNA", "certificate_read"),
        ("MYNA", "my_number_read"),
        ("MYNA", "pin_change"),
        ("MYNA-GO", "certificate_read"),
        ("MYNA-GO", "my_number_read"),
        ("MYNA-GO", "pin_change"),
        ("MYNA-GO", "pin_status"),
        ("OpenSC", "card_detection"),
        ("OpenSC", "certificate_read"),
        ("OpenSC", "pin_status"),
        ("PYJ", "attributes_read"),
        ("PYJ", "certificate_read"),
        ("PYJ", "pin_status"),
        ("TRET", "my_number_read"),
        ("jsapdu", "card_detection"),
        ("jsapdu", "certificate_read"),
    ]
    on = {(e.client, e.function): e.targets[ALIASES_ON] for e in entries}
    assert on[("MYNA", "pin_status")].breaks == ["a PIN that no longer exists"]
    assert on[("MYNA", "ap_info")].breaks == on[("MYNA-GO", "ap_info")].breaks == ["file moved"]
    assert on[("MYNA-GO", "attributes_read")].breaks == ["content layout changed"]
    assert on[("MYNA-GO", "card_face")].breaks == ["SM now required"]
    assert on[("TRET", "token_info")].breaks == ["token label changed"]
    assert on[("jsapdu", "attributes_read")].status == "not reached"
    assert on[("jsapdu", "attributes_read")].stopped_earlier == ["SM now required"]


def test_mnb_reads_the_4_jouhou_today_only_on_the_long_form(entries: list[migration.Entry]) -> None:
    mnb = entry(entries, "MNB", "attributes_read")
    assert (mnb.today_verdict.status, mnb.today) == ("breaks", ("legacy-2016-long-length",))
    assert mnb.targets[ALIASES_ON].breaks == ["content layout changed"]


def test_pin_change_is_measured_where_a_client_changes_a_pin(entries: list[migration.Entry]) -> None:
    """MYNA and MYNA-GO change a PIN with 00 24 01 80 (current-card §4.5); through the aliases the next
    card's PIN takes the same command, without them the AID has moved."""
    changing = {e.client: e for e in entries if e.function == "pin_change" and e.today}
    assert sorted(changing) == ["MYNA", "MYNA-GO"]
    for e in changing.values():
        assert e.today_verdict.status == "works"
        assert (e.targets[ALIASES_ON].status, e.targets[ALIASES_OFF].status) == ("works", "breaks")
        assert e.targets[ALIASES_OFF].breaks == ["AID moved"]
    others = {e.client for e in entries if e.function == "pin_change" and not e.today}
    assert others == set(CLIENTS) - {"MYNA", "MYNA-GO"}
    assert "(not measured)" not in migration.text(entries)


def test_the_verdicts_follow_the_measured_cells(measured: Matrix) -> None:
    """Nothing is written down: a cell that passed would turn OpenSC's signature into ``works``."""
    sequence = "test_opensc_pkcs11_sign_key_context_specific_login"
    cells = [
        replace(c, passed=True, exchange=None, command=None, answer=None, expected=None, reason="")
        if (c.sequence, c.profile) == (sequence, ALIASES_ON)
        else c
        for c in measured.cells
    ]
    changed = Matrix(measured.profiles, measured.forms, tuple(cells))
    assert migration.verdict(measured, "OpenSC", "signature", ALIASES_ON).status == "breaks"
    assert migration.verdict(changed, "OpenSC", "signature", ALIASES_ON).status == "works"


def test_the_cli_prints_json_and_writes_html(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], entries: list[migration.Entry]
) -> None:
    html = tmp_path / "migration.html"
    assert main(["migrate", "--matrix", str(GOLDEN), "--json", "--html", str(html)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [row["client"] for row in report["summary"]] == CLIENTS
    opensc = next(r for r in report["functions"] if (r["client"], r["function"]) == ("OpenSC", "signature"))
    assert opensc["next"][ALIASES_ON]["aliases"] is True and opensc["next"][ALIASES_OFF]["aliases"] is False
    assert opensc["next"][ALIASES_ON]["why"] == [
        "test_opensc_pkcs11_sign_key_context_specific_login: #9 80 2A 00 80 33 30 31 30 0D 06 09 60 86 48 01"
        " 65 03 04 02 01 05 00 04 20 4A 06 4C 83 71 66 8A C6 15 77 3A AC 6D 65 FE F5 35 1B F1 A3 2E 01 FB 0D"
        " 02 E4 A2 86 DC CE 54 D4 00 → 67 00: wrong length (Lc or Le), expected 90 00"
    ]
    page = html.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page
    shown = [e for e in entries if e.today or e.today_verdict.status != "not exercised"]
    verdicts = [v for e in shown for v in (e.today_verdict, *e.targets.values())]
    assert page.count('<td class="breaks">') == sum(v.status == "breaks" for v in verdicts) - sum(
        bool(e.today) and e.today_verdict.status == "breaks" for e in shown
    )


def test_the_cli_measures_on_the_reader_it_is_given(
    monkeypatch: pytest.MonkeyPatch, measured: Matrix, capsys: pytest.CaptureFixture[str]
) -> None:
    readers: list[str] = []

    def measure_matrix(profiles: list[str], reader: str, **_: object) -> Matrix:
        readers.append(reader)
        assert profiles == compat_matrix.default_profiles()
        return measured

    monkeypatch.setattr(compat_matrix, "measure_matrix", measure_matrix)
    assert main(["migrate", "--reader", "pcsc:Virtual PCD 00 00"]) == 0
    assert readers == ["pcsc:Virtual PCD 00 00"]
    assert capsys.readouterr().out.startswith("functions that work, of those each client's golden")


def test_a_file_that_is_no_matrix_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"rows": 1}', encoding="utf-8")
    assert main(["migrate", "--matrix", str(wrong)]) == 2
    assert f"{wrong}: not a `mynacard matrix --json` file" in capsys.readouterr().err
