"""``mynacard test`` as a product (issue 11 items 1, 2, 4): the summary, JUnit and HTML reports, exit codes,
a profile with one wrong access rule failing at the test that names its clause, the HTML report in headless
Chromium, and real-card safety rehearsed on a vpcd slot (``--assume-real-card``): refusals, the identity
fingerprint, the counter floor."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image

from mynacard.apdu.applets.jpki import JPKI_AID
from mynacard.apdu.readers.processors import ProcessedReader
from mynacard.apdu.readers.virtual import VirtualReader
from mynacard.emulator.issuance.personalise import open_card
from mynacard.emulator.issuance.personas import load_persona
from mynacard.tools.harness.plugin import unavailable
from mynacard.tools.harness.safety import CounterFloor, CounterFloorError, card_identity

PERSONA = load_persona("default")
VPCD_SLOT_1 = "pcsc:Virtual PCD 00 01"  # slot 0 may be held by this session's own PC/SC tests
TWO_VERIFY_TESTS = (
    "test_auth_pin_counts_down_blocks_and_stays_blocked or test_wrong_verify_leaves_the_card_unopened"
)


def mynacard_test(tmp_path: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "mynacard", "test", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=tmp_path)


def cases(junit: Path) -> dict[str, dict[str, str]]:
    """testcase name → its properties plus its outcome ("passed", "failed", "skipped: reason")."""
    found = {}
    for case in ET.parse(junit).iter("testcase"):
        properties = {str(p.get("name")): str(p.get("value")) for p in case.iter("property")}
        skipped = case.find("skipped")
        failed = case.find("failure") is not None or case.find("error") is not None
        outcome = (
            "failed" if failed else ("passed" if skipped is None else f"skipped: {skipped.get('message')}")
        )
        found[str(case.get("name"))] = properties | {"outcome": outcome}
    return found


@pytest.fixture(scope="module")
def legacy_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    """PINs and selection on legacy-2016, with every report; the PIN suite's traces carry masked VERIFYs."""
    folder = tmp_path_factory.mktemp("legacy-run")
    run = mynacard_test(
        folder,
        "--suite",
        "pins",
        "--suite",
        "selection",
        "--junit",
        "j.xml",
        "--html",
        "r.html",
        "--json",
        "s.json",
    )
    return run, folder


def test_a_passing_run_exits_0_with_the_summary_junit_and_json(
    legacy_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    run, folder = legacy_run
    assert run.returncode == 0, run.stdout + run.stderr
    found = cases(folder / "j.xml")
    groups = {name: props["capability"] for name, props in found.items()}
    assert set(groups.values()) == {"pins", "selection"}
    nextgen = {name for name, props in found.items() if props["outcome"].startswith("skipped")}
    assert nextgen and all("not applicable" in found[name]["outcome"] for name in nextgen)
    assert all(found[name]["outcome"] == "passed" for name in set(found) - nextgen)
    summary = json.loads((folder / "s.json").read_text())
    assert [r["reader"] for r in summary] == ["virtual"] and summary[0]["exit"] == 0
    pins = summary[0]["groups"]["pins"]
    assert pins["passed"] + pins["not_applicable"] == sum(1 for g in groups.values() if g == "pins")
    assert pins["failed"] == pins["skipped"] == pins["refused"] == 0
    row = re.search(r"^  pins +(\d+) +0 +(\d+) +0 +0 +[\d.]+s$", run.stdout, re.M)
    assert row and (int(row[1]), int(row[2])) == (pins["passed"], pins["not_applicable"])
    assert "  result: passed" in run.stdout


def test_every_test_names_its_spec_clause_and_traces_are_masked(
    legacy_run: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    _, folder = legacy_run
    found = cases(folder / "j.xml")
    assert all(props.get("clause") for props in found.values())
    traces = [props["trace"] for props in found.values() if "trace" in props]
    verifies = [line for trace in traces for line in trace.splitlines() if line.startswith("> 00 20 00 98 ")]
    assert verifies and all(set(line[14:].split()) == {"**"} for line in verifies)
    assert PERSONA.auth_pin.encode().hex(" ").upper() not in "\n".join(traces)


def test_a_profile_with_one_wrong_access_rule_fails_at_the_test_naming_that_clause(tmp_path: Path) -> None:
    (tmp_path / "wrong-rule.toml").write_text(
        '[profile]\nname = "wrong-rule"\ndescription = "test: 000A of the JPKI-AP behind the auth PIN"\n'
        'extends = "legacy-2016"\n[[applets]]\nid = "jpki"\n'
        '[[applets.files]]\nfid = "000A"\nread = "auth_pin"\n'
    )
    run = mynacard_test(tmp_path, "--profile", "wrong-rule.toml", "--suite", "access", "--junit", "j.xml")
    assert run.returncode == 1, run.stdout + run.stderr
    failed = {
        name: props for name, props in cases(tmp_path / "j.xml").items() if props["outcome"] == "failed"
    }
    matrix = {name for name in failed if name.startswith("test_read_with_and_without_each_credential")}
    assert "test_read_with_and_without_each_credential[jpki-000A-none]" in matrix
    assert all("jpki-000A-" in name for name in matrix)
    assert {failed[name]["clause"] for name in matrix} == {"current-card §3.1, §5: jpki EF 000A access"}
    assert (
        "FAILED  test_legacy_access_matrix::test_read_with_and_without_each_credential[jpki-000A-none]"
        in (run.stdout)
    )


def test_usage_errors_are_one_line_and_exit_2(tmp_path: Path) -> None:
    bad_reader = mynacard_test(tmp_path, "--reader", "usb0")
    assert (bad_reader.returncode, bad_reader.stdout) == (2, "")
    assert bad_reader.stderr.strip().splitlines() == [
        "mynacard: --reader 'usb0': expected 'virtual', 'pcsc:NAME' or 'pcsc:*'"
    ]
    bad_profile = mynacard_test(tmp_path, "--profile", "no-such-profile")
    assert bad_profile.returncode == 2 and len(bad_profile.stderr.strip().splitlines()) == 1
    nothing = mynacard_test(tmp_path, "-k", "no_test_is_called_this")
    assert nothing.returncode == 2 and "not run (pytest exit 5)" in nothing.stdout
    workers = mynacard_test(tmp_path, "--reader", VPCD_SLOT_1, "-n", "2")
    assert workers.returncode == 2 and "one pcscd slot serves one worker" in workers.stderr


def test_a_pcsc_reader_that_does_not_exist_exits_3(tmp_path: Path) -> None:
    run = mynacard_test(tmp_path, "--reader", "pcsc:No Such Reader 00 00")
    assert run.returncode == 3, run.stdout + run.stderr
    assert "pcsc:No Such Reader 00 00" in run.stderr


# -- the HTML report in headless Chromium -----------------------------------------------------------------


def test_the_html_report_opens_in_chromium_without_console_errors_and_shows_a_masked_trace(
    legacy_run: tuple[subprocess.CompletedProcess[str], Path], chromium: object, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver

    assert isinstance(chromium, WebDriver)
    _, folder = legacy_run
    chromium.get((folder / "r.html").resolve().as_uri())
    assert chromium.title == "mynacard test: virtual · legacy-2016"
    summary = chromium.find_element(By.ID, "results-table").text
    assert (
        "Clause" in summary and "current-card §4.4, §4.5, §5, §7.2 (VERIFY, CHANGE REFERENCE DATA)" in summary
    )
    assert re.search(r"\d+ Passed", chromium.find_element(By.CLASS_NAME, "summary").text)
    chromium.find_element(By.ID, "show_all_details").click()
    shown = [
        pre.text for pre in chromium.find_elements(By.CSS_SELECTOR, "pre.apdu-trace") if pre.is_displayed()
    ]
    assert any("> 00 20 00 98 ** ** ** ** **" in text for text in shown)
    errors = [entry for entry in chromium.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []
    screenshot = tmp_path / "report.png"
    assert chromium.save_screenshot(str(screenshot))
    with Image.open(screenshot) as image:
        assert image.width == 1280 and image.height > 1000
        low, high = image.convert("L").getextrema()
        assert high - low > 100  # text on a background, not a blank page


# -- real-card safety, rehearsed on a vpcd slot ------------------------------------------------------------


def test_the_counter_floor_refuses_a_verify_that_could_leave_fewer_than_two_tries() -> None:
    virtual = VirtualReader(open_card("legacy-2016", "default", None))
    virtual.power_on()
    guarded = ProcessedReader(virtual, [CounterFloor()])
    assert guarded.transmit(bytes((0x00, 0xA4, 0x04, 0x0C, len(JPKI_AID))) + JPKI_AID).sw == 0x9000
    assert guarded.transmit(bytes.fromhex("0020009804 30303030")).sw == 0x63C2  # 3 → 2 is allowed
    with pytest.raises(CounterFloorError, match="has 2 tries left; a wrong value would leave 1"):
        guarded.transmit(bytes.fromhex("0020009804 30303030"))
    assert virtual.transmit(bytes.fromhex("00200098")).sw == 0x63C2  # the refused VERIFY was never sent
    assert guarded.transmit(bytes.fromhex("00200098")).sw == 0x63C2  # reading the counter is always allowed


def test_the_card_identity_reads_the_token_label_and_certificate_serial_without_a_verify() -> None:
    virtual = VirtualReader(open_card("legacy-2016", "default", None))
    atr = virtual.power_on()
    identity = card_identity(virtual, atr)
    assert identity.token_label == "JPKIAPICCTOKEN2"
    assert re.fullmatch(r"[0-9A-F]{1,8}", identity.serial_number)
    assert re.fullmatch(r"[0-9A-F]{16}", identity.fingerprint)
    assert virtual.transmit(bytes.fromhex("00200098")).sw == 0x63C3


@pytest.mark.pcsc
def test_destructive_tests_on_a_real_card_are_refused_then_need_the_identity_then_keep_the_floor(
    tmp_path: Path,
) -> None:
    if not shutil.which("pcscd"):
        unavailable("pcscd is missing (tools/dev/pcsc-packages.sh)")
    rehearsal = ("--reader", VPCD_SLOT_1, "--assume-real-card", "--suite", "pins", "-k", TWO_VERIFY_TESTS)
    refused = mynacard_test(tmp_path, *rehearsal, "--json", "refused.json")
    assert refused.returncode == 0, refused.stdout + refused.stderr
    groups = json.loads((tmp_path / "refused.json").read_text())[0]["groups"]
    assert groups["pins"]["refused"] == 2 and groups["pins"]["passed"] == 0

    unconfirmed = mynacard_test(tmp_path, *rehearsal, "--allow-destructive")
    assert unconfirmed.returncode == 2, unconfirmed.stdout + unconfirmed.stderr
    assert "ATR            3B E0 00 FF 81 31 FE 45 14" in unconfirmed.stdout
    assert "token label    JPKIAPICCTOKEN2" in unconfirmed.stdout
    fingerprint = re.search(r"--confirm-card ([0-9A-F]{16})", unconfirmed.stdout)
    assert fingerprint

    confirmed = mynacard_test(
        tmp_path, *rehearsal, "--allow-destructive", "--confirm-card", fingerprint[1], "--junit", "j.xml"
    )
    assert confirmed.returncode == 0, confirmed.stdout + confirmed.stderr
    found = cases(tmp_path / "j.xml")
    assert found["test_wrong_verify_leaves_the_card_unopened"]["outcome"] == "passed"  # 5 → 4 tries
    blocked = found["test_auth_pin_counts_down_blocks_and_stays_blocked"]
    assert blocked["outcome"].startswith("skipped: refused on a real card: counter floor: reference 98 has 2")
    assert blocked["trace"].splitlines()[
        -2:
    ] == [  # the counter check, and no VERIFY after it: two tries kept
        "> 00 20 00 98",
        "< 63 C2: verification failed or counter query, 2 tries left",
    ]


def test_a_missing_reader_is_one_usage_error_for_plain_pytest_too(tmp_path: Path) -> None:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--pyargs"]
    command += ["mynacard.tools.harness.suites", "--reader", "pcsc:No Such Reader 00 00"]
    run = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert run.returncode == 4, run.stdout + run.stderr
    assert run.stderr.startswith("ERROR: --reader pcsc:No Such Reader 00 00: ")
    assert "Traceback" not in run.stdout + run.stderr and "passed" not in run.stdout


@pytest.mark.pcsc
def test_several_readers_run_side_by_side_with_a_report_each(tmp_path: Path) -> None:
    if not shutil.which("pcscd"):
        unavailable("pcscd is missing (tools/dev/pcsc-packages.sh)")
    readers = ("--reader", "virtual", "--reader", VPCD_SLOT_1)
    run = mynacard_test(tmp_path, *readers, "--suite", "transport", "--junit", "j.xml", "--json", "s.json")
    assert run.returncode == 0, run.stdout + run.stderr
    virtual, pcsc = cases(tmp_path / "j-virtual.xml"), cases(tmp_path / "j-pcsc-virtual-pcd-00-01.xml")
    assert set(virtual) == set(pcsc) and len(virtual) > 10
    assert all(props["outcome"] == "passed" for props in [*virtual.values(), *pcsc.values()])
    summary = json.loads((tmp_path / "s.json").read_text())
    assert [r["reader"] for r in summary] == ["virtual", VPCD_SLOT_1]
    assert "\nvirtual · legacy-2016\n" in run.stdout and f"\n{VPCD_SLOT_1} · legacy-2016\n" in run.stdout
