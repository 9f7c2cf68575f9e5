"""The compatibility matrix is what the cards do now (issue 12, items 2 and 5): every cell against a golden.

Each default profile is measured once for the module (``compat.measure``: a pytest process per profile);
every test below reads that one measurement. ``MYNACARD_REGENERATE=1`` rewrites ``golden/matrix.json``
instead of comparing (then read the diff: it is the change in compatibility). Two profiles are measured
again through pcscd + vpcd (cheap: about 6 s each) and must give the same cells; the two HTML pages
(matrix and migration) are opened in headless Chromium.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from mynacard.tools.cli import main
from mynacard.tools.cli import matrix as matrix_cli
from mynacard.tools.harness import compat, migration
from mynacard.tools.harness.matrix import Matrix, default_profiles, measure_matrix
from mynacard.tools.harness.matrix_html import page
from mynacard.tools.harness.migration_html import page as migration_page
from mynacard.tools.harness.plugin import unavailable

GOLDEN = Path(__file__).resolve().parent / "golden" / "matrix.json"

VARIANTS = [
    "legacy-2016-atr-c5",
    "legacy-2016-atr-da",
    "legacy-2016-atr-f5",
    "legacy-2016-contactless",
    "legacy-2016-long-length",
    "legacy-2016-reselect-keeps",
]
SHORT_FORM_LEGACY = ["legacy-2016", *(v for v in VARIANTS if v != "legacy-2016-long-length")]
ALL_LEGACY = ["legacy-2016", *VARIANTS]


@pytest.fixture(scope="module")
def outcomes() -> dict[str, list[compat.Outcome]]:
    return {profile: compat.measure(profile) for profile in default_profiles()}


@pytest.fixture(scope="module")
def measured(outcomes: dict[str, list[compat.Outcome]]) -> Matrix:
    return measure_matrix(list(outcomes), measure=lambda profile, _reader: outcomes[profile])


@pytest.fixture
def cli_measures(monkeypatch: pytest.MonkeyPatch, outcomes: dict[str, list[compat.Outcome]]) -> list[str]:
    """The CLI measures through ``compat.measure``: answer from the module's measurement, note the reader."""
    readers: list[str] = []

    def measure(profile: str, reader: str = "virtual", timeout: float = 0.0) -> list[compat.Outcome]:
        readers.append(reader)
        return outcomes[profile]

    monkeypatch.setattr(compat, "measure", measure)
    return readers


def test_the_default_profiles_are_legacy_its_variants_and_nextgen_with_aliases_off_and_on() -> None:
    assert default_profiles() == [*ALL_LEGACY, "nextgen-2026", "nextgen-2026-aliases"]


def test_every_cell_is_the_golden(measured: Matrix) -> None:
    data = measured.to_json()
    if os.environ.get("MYNACARD_REGENERATE") == "1":
        GOLDEN.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert data == json.loads(GOLDEN.read_text(encoding="utf-8")), (
        "tests/golden/matrix.json is stale: run with MYNACARD_REGENERATE=1 and read the diff"
    )
    assert Matrix.from_json(data).to_json() == data


def test_every_public_client_passes_whole_on_some_variant(measured: Matrix) -> None:
    whole = {client: measured.passes_whole(client) for client in compat.CLIENTS.values()}
    assert whole == {
        **{client: tuple(ALL_LEGACY) for client in ("MYNA", "MYNA-GO", "OpenSC", "TRET", "PYJ", "jsapdu")},
        "MBE": tuple(SHORT_FORM_LEGACY),
        "MNB": ("legacy-2016-long-length",),
    }


def test_mnb_and_mbe_conflict_on_the_text_ap_outer_length(measured: Matrix) -> None:
    [conflict] = measured.conflicts()
    assert conflict.first == ("MBE", "test_mbe_basic_four_by_sfi")
    assert conflict.second == ("MNB", "test_mnb_basic_info_fixed_offsets")
    assert conflict.first_passes_on == tuple(SHORT_FORM_LEGACY)
    assert conflict.second_passes_on == ("legacy-2016-long-length",)
    assert measured.client_conflicts() == [("MBE", "MNB")]
    cell = measured.cell("test_mnb_basic_info_fixed_offsets", "legacy-2016")
    assert cell is not None and cell.short == "misreads"
    assert cell.measured == "test_mnb_basic_info_fixed_offsets[short]"
    assert cell.reason == (
        "content layout changed: the client parses EF 0002 as FF 20 82 HH LL, this card writes FF 20 LL"
        " (current-card §9.5)"
    )


def test_without_aliases_every_client_stops_at_its_first_select(measured: Matrix) -> None:
    cells = [measured.cell(sequence, "nextgen-2026") for _, sequence in measured.rows()]
    assert len(cells) == 47
    assert {(c.exchange, c.answer, c.cause) for c in cells if c is not None} == {
        (1, "6A 82: file or application not found", "AID moved")
    }


def test_with_aliases_26_of_47_sequences_pass(measured: Matrix) -> None:
    passing = [s for _, s in measured.rows() if "nextgen-2026-aliases" in measured.passes_on(s)]
    assert len(passing) == 26
    causes = sorted(
        c.cause
        for _, s in measured.rows()
        if (c := measured.cell(s, "nextgen-2026-aliases")) is not None and not c.passed
    )
    assert causes == [
        *["AID moved"] * 2,
        *["content layout changed"] * 3,
        *["file moved or gone"] * 3,
        *["secure messaging now required"] * 3,
        *["signature form changed"] * 7,
        *["token label changed (JPKIAPICCTOKEN3)"] * 3,
    ]


def test_the_cli_prints_json_that_parses_and_accepts_a_pcsc_reader(
    cli_measures: list[str], capsys: pytest.CaptureFixture[str], measured: Matrix
) -> None:
    assert main(["matrix", "--json", "-", "--reader", "pcsc:Virtual PCD 00 00"]) == 0
    assert json.loads(capsys.readouterr().out) == measured.to_json()
    assert cli_measures == ["pcsc:Virtual PCD 00 00"] * len(default_profiles())


def test_a_reader_is_virtual_or_pcsc_with_a_name(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["matrix", "--reader", "pcsc:"])
    assert stop.value.code == 2
    assert "a reader is 'virtual' or 'pcsc:NAME', got 'pcsc:'" in capsys.readouterr().err


def test_the_cli_writes_csv_html_and_the_heat_map(
    cli_measures: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str], measured: Matrix
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    arguments = ["--csv", str(out / "m.csv"), "--html", str(out / "m.html"), "--chart", str(out)]
    assert main(["matrix", "--profile", "legacy-2016", "--profile", "nextgen-2026-aliases", *arguments]) == 0
    printed = capsys.readouterr().out
    assert "conflicts (no profile satisfies both rows):\n  none" in printed
    csv_lines = (out / "m.csv").read_text(encoding="utf-8").splitlines()
    assert csv_lines[0] == ",".join(matrix_cli.compat_matrix.CSV_FIELDS)
    assert len(csv_lines) == 1 + 2 * 47
    with Image.open(out / "matrix.png") as image:
        assert image.format == "PNG"
        assert image.size == (1100, 1300)
    assert (out / "matrix.svg").read_text(encoding="utf-8").startswith("<?xml")


def test_the_html_page_is_self_contained(measured: Matrix) -> None:
    html = page(measured)
    assert html.startswith("<!DOCTYPE html>") and html.endswith("</body></html>")
    assert "<script" not in html and "src=" not in html and "href=" not in html
    assert html.count('<td class="pass">') == sum(len(measured.passes_on(s)) for _, s in measured.rows())
    assert "<code>test_mnb_basic_info_fixed_offsets</code> on legacy-2016-long-length" in html


PCSC_READER = "pcsc:Virtual PCD 00 01"  # slot 0 may be held by this session's own PC/SC tests
PCSC_PROFILES = ["legacy-2016-long-length", "nextgen-2026-aliases"]


def test_through_pcscd_and_vpcd_the_cells_are_the_same(measured: Matrix) -> None:
    """Two profiles (one per family; about 6 s each) measured through pcscd + vpcd give the golden's cells."""
    if importlib.util.find_spec("smartcard") is None:
        unavailable("pyscard is not installed (the pcsc extra)")
    through_pcsc = measure_matrix(PCSC_PROFILES, PCSC_READER)
    if not through_pcsc.cells:
        unavailable(f"every client sequence was skipped on {PCSC_READER} (no pcscd or vpcd)")
    assert through_pcsc.cells == tuple(c for c in measured.cells if c.profile in PCSC_PROFILES)


def test_both_html_pages_open_in_chromium(measured: Matrix, chromium: Any, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By

    pages = {"matrix.html": page(measured), "migration.html": migration_page(migration.report(measured))}
    for name, html in pages.items():
        (tmp_path / name).write_text(html, encoding="utf-8")
    chromium.get((tmp_path / "matrix.html").as_uri())
    assert chromium.title == "mynacard: today's clients × profiles"
    assert len(chromium.find_elements(By.CSS_SELECTOR, "table tr")) == 1 + 47
    assert len(chromium.find_elements(By.CSS_SELECTOR, "td.fail")) == 47 * len(measured.profiles) - len(
        [c for c in measured.cells if c.passed]
    )
    chromium.get((tmp_path / "migration.html").as_uri())
    assert chromium.title == "mynacard: migration legacy-2016 → nextgen-2026"
    assert "RSA → ECDSA" in chromium.find_element(By.TAG_NAME, "table").text
    assert [e for e in chromium.get_log("browser") if e["level"] == "SEVERE"] == []
    screenshot = tmp_path / "migration.png"
    assert chromium.save_screenshot(str(screenshot))
    with Image.open(screenshot) as image:
        low, high = image.convert("L").getextrema()
        assert image.width == 1280 and high - low > 100  # text on a background, not a blank page
