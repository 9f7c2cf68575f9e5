"""The holder's burden per workflow, legacy-2016 beside nextgen-2026: exact counts of what the holder does
and of the APDUs, measured on the cards (tools/harness/burden.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from mynacard.emulator.card import Card
from mynacard.emulator.issuance.personalise import open_card
from mynacard.emulator.issuance.personas import load_persona
from mynacard.tools.cli import main
from mynacard.tools.harness.burden import WORKFLOWS, Tally, Workflow, run_workflow, table, totals
from mynacard.tools.harness.pcsc import PcscStack

PERSONA = load_persona("default")

# workflow → family → (distinct secrets, PIN entries, card presentations, APDUs)
EXPECTED = {
    "e-tax": {"legacy-2016": (3, 3, 2, 21), "nextgen-2026": (2, 2, 2, 16)},
    "login": {"legacy-2016": (1, 1, 1, 7), "nextgen-2026": (1, 1, 1, 7)},
    "moving-in": {"legacy-2016": (1, 1, 1, 17), "nextgen-2026": (1, 1, 1, 27)},
    "convenience-store": {"legacy-2016": (1, 1, 1, 7), "nextgen-2026": (1, 1, 1, 7)},
    "health-insurance": {"legacy-2016": (1, 1, 1, 13), "nextgen-2026": (1, 1, 1, 11)},
}


@pytest.fixture(scope="module")
def cards() -> dict[str, Card]:
    return {family: open_card(family, "default", None) for family in ("legacy-2016", "nextgen-2026")}


@pytest.mark.parametrize("family", ["legacy-2016", "nextgen-2026"])
@pytest.mark.parametrize("workflow", WORKFLOWS, ids=[w.id for w in WORKFLOWS])
def test_each_workflow_costs_what_the_card_makes_it_cost(
    cards: dict[str, Card], workflow: object, family: str
) -> None:

    assert isinstance(workflow, Workflow)
    tally = run_workflow(cards[family], family, PERSONA, workflow)
    assert (len(tally.secrets), tally.pin_entries, tally.sessions, tally.apdus) == EXPECTED[workflow.id][
        family
    ]
    assert tally.bytes_on_wire > 0 and tally.wire_ms == pytest.approx(tally.bytes_on_wire * 8 / 106)


def test_verify_once_saves_the_e_tax_filer_a_pin(cards: dict[str, Card]) -> None:
    """The task force's claim: at submission the signature password also opens the 4情報 read."""
    e_tax = next(w for w in WORKFLOWS if w.id == "e-tax")
    legacy = run_workflow(cards["legacy-2016"], "legacy-2016", PERSONA, e_tax)
    nextgen = run_workflow(cards["nextgen-2026"], "nextgen-2026", PERSONA, e_tax)
    assert "券面事項入力補助用暗証番号" in legacy.secrets
    assert nextgen.secrets == {"暗証番号 (4桁)", "署名用パスワード"}
    assert (legacy.pin_entries, nextgen.pin_entries) == (3, 2)


def test_the_table_sets_the_profiles_side_by_side(cards: dict[str, Card]) -> None:
    tallies: list[Tally] = [
        run_workflow(cards[f], f, PERSONA, w) for w in WORKFLOWS[:2] for f in ("legacy-2016", "nextgen-2026")
    ]
    lines = table(tallies).splitlines()
    assert lines[0].split()[:4] == ["workflow", "profile", "secrets", "PIN"]
    assert [line.split()[:4] for line in lines[1:3]] == [
        ["e-tax", "legacy-2016", "3", "3"],
        ["e-tax", "nextgen-2026", "2", "2"],
    ]


def test_over_all_workflows_the_next_card_halves_what_the_holder_must_know(cards: dict[str, Card]) -> None:
    tallies = [
        run_workflow(cards[f], f, PERSONA, w) for w in WORKFLOWS for f in ("legacy-2016", "nextgen-2026")
    ]
    by_profile = {t.profile: t for t in totals(tallies)}
    assert len(by_profile["legacy-2016"].secrets) == 4  # 利用者証明, 署名, 入力補助, 住基
    assert by_profile["nextgen-2026"].secrets == {"暗証番号 (4桁)", "署名用パスワード"}
    assert (by_profile["legacy-2016"].pin_entries, by_profile["nextgen-2026"].pin_entries) == (7, 6)
    assert by_profile["legacy-2016"].sessions == by_profile["nextgen-2026"].sessions == 6


def test_mynacard_burden_prints_the_table_and_draws_the_chart(tmp_path: Path) -> None:
    from PIL import Image

    result = subprocess.run(
        [sys.executable, "-m", "mynacard", "burden", "--chart", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "e-tax              legacy-2016          3           3    2" in result.stdout
    with Image.open(tmp_path / "burden.png") as image:
        assert image.size == (1100, 450)
    assert (tmp_path / "burden.svg").read_text().startswith("<?xml")


def test_the_html_page_has_every_row_and_the_chart_and_opens_in_chromium(
    tmp_path: Path, chromium: Any
) -> None:
    from selenium.webdriver.common.by import By

    page = tmp_path / "burden.html"
    result = subprocess.run(
        [sys.executable, "-m", "mynacard", "burden", "--html", str(page)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    chromium.get(page.as_uri())
    assert chromium.title.startswith("mynacard: the holder's burden per workflow")
    rows = [r.text for r in chromium.find_elements(By.CSS_SELECTOR, "table tr")]
    assert len(rows) == 1 + len(WORKFLOWS) * 2 + 2
    assert any(row.startswith("e-tax legacy-2016 3 3 2 21 ") for row in rows)
    assert "all workflows nextgen-2026 2 6 6" in " ".join(rows)
    assert len(chromium.find_elements(By.CSS_SELECTOR, "figure svg")) == 1
    assert [e for e in chromium.get_log("browser") if e["level"] == "SEVERE"] == []


@pytest.mark.pcsc
def test_the_burden_through_pcscd_and_vpcd_is_the_virtual_one(
    pcsc_stack: PcscStack, cards: dict[str, Card], capsys: pytest.CaptureFixture[str]
) -> None:
    pcsc_stack.insert(open_card("legacy-2016", "default", None))
    command = ["burden", "--reader", f"pcsc:{pcsc_stack.reader_name}", "--profile", "legacy-2016", "--json"]
    assert main(command) == 0
    through_pcsc = json.loads(capsys.readouterr().out)
    virtual = [
        t.row() for w in WORKFLOWS for t in [run_workflow(cards["legacy-2016"], "legacy-2016", PERSONA, w)]
    ]
    assert through_pcsc == virtual


def test_the_timing_model_adds_each_apdu_s_overhead_and_each_signature(cards: dict[str, Card]) -> None:
    """e-Tax on today's card: 21 APDUs at 5 ms, 1032 bytes at 10 bits / 106 kbit/s, two signatures made
    (the two tried before the PIN answer 69 82 and cost no operation time): profiles/timing.py defaults."""
    e_tax = next(w for w in WORKFLOWS if w.id == "e-tax")
    tally = run_workflow(cards["legacy-2016"], "legacy-2016", PERSONA, e_tax)
    assert (tally.apdus, tally.bytes_on_wire) == (21, 1032)
    assert tally.row()["model_ms"] == round(21 * 5 + 1032 * 10 / 106_000 * 1000 + 2 * 60.7, 1)
