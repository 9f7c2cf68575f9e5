"""Destructive tests (they use up tries or change PINs) never run on a real card unless asked to."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DESTRUCTIVE = "tools/harness/suites/test_verify.py::test_auth_pin_counts_down_blocks_and_stays_blocked"


def run_pytest(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_destructive_test_is_refused_on_a_real_reader() -> None:
    # a vpcd slot treated as a real card: the refusal comes before any reader is opened
    result = run_pytest(DESTRUCTIVE, "--reader", "pcsc:Virtual PCD 00 01", "--assume-real-card")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 skipped" in result.stdout
    assert "destructive test refused on the real card in pcsc:Virtual PCD 00 01" in result.stdout


def test_a_real_reader_that_is_not_there_stops_the_run_before_any_test() -> None:
    result = run_pytest(DESTRUCTIVE, "--reader", "pcsc:ACS ACR39U ICC Reader 00 00")
    assert result.returncode == 4, result.stdout + result.stderr
    assert result.stderr.startswith("ERROR: --reader pcsc:ACS ACR39U ICC Reader 00 00: ")
    assert "skipped" not in result.stdout and "passed" not in result.stdout


def test_a_destructive_test_runs_on_the_virtual_reader() -> None:
    result = run_pytest(DESTRUCTIVE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
