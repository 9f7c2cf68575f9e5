"""A pytest plugin for compatibility runs: each test's outcome, and where a failing one stopped, as JSON.

Loaded with ``-p mynacard.tools.harness.compat_report --compat-json FILE`` by ``compat.measure`` in a pytest
process of its own; the ``mynacard`` plugin has put the failing exchange in each report's
``user_properties``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

_RESULTS: list[dict[str, object]] = []


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--compat-json", help="write each test's outcome and failing exchange to this file")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """One entry per test: from its call, or from the setup that failed or skipped it."""
    if (report.when != "call" and report.passed) or (report.when == "teardown" and not report.failed):
        return
    properties = dict(report.user_properties)
    message = ""
    if report.failed:
        crash = getattr(report.longrepr, "reprcrash", None)
        message = str(getattr(crash, "message", report.longrepr)).splitlines()[0]
    elif report.skipped and isinstance(report.longrepr, tuple):
        message = str(report.longrepr[2])
    _RESULTS.append(
        {
            "nodeid": report.nodeid,
            "outcome": report.outcome,
            "message": message,
            "exchanges": properties.get("exchanges", 0),
            "failing_exchange": properties.get("failing_exchange"),
        }
    )


def pytest_sessionfinish(session: pytest.Session) -> None:
    target = session.config.getoption("--compat-json")
    if target:
        Path(str(target)).write_text(json.dumps(_RESULTS, ensure_ascii=False, indent=1), encoding="utf-8")
