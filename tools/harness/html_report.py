"""What the ``mynacard`` plugin adds to a pytest-html report (試験報告): the reader and profile in the
title, each test's spec clause and capability group as columns, and its masked APDU trace under its row.

Registered by the plugin only when pytest-html is loaded; the trace and the clause come from the reports'
``user_properties``, which the plugin fills whether or not an HTML report is written.
"""

from __future__ import annotations

from collections.abc import Generator
from html import escape
from typing import Any

import pytest


class HtmlReport:
    """pytest-html hooks for one run on ``reader`` with ``profile``."""

    def __init__(self, reader: str, profile: str) -> None:
        self.reader, self.profile = reader, profile

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_report_title(self, report: Any) -> None:
        report.title = f"mynacard test: {self.reader} · {self.profile}"

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_header(self, cells: list[str]) -> None:
        cells.insert(2, "<th>Clause</th>")
        cells.insert(3, "<th>Capability</th>")

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_table_row(self, report: pytest.TestReport, cells: list[str]) -> None:
        properties = dict(report.user_properties)
        cells.insert(2, f"<td>{escape(str(properties.get('clause', '')))}</td>")
        cells.insert(3, f"<td>{escape(str(properties.get('capability', '')))}</td>")

    @pytest.hookimpl(wrapper=True, tryfirst=True)  # outermost: after the plugin recorded the trace
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        """The masked trace the plugin recorded, shown under the test's row."""
        report: pytest.TestReport = yield
        trace = dict(report.user_properties).get("trace") if report.when == "call" else None
        if trace:
            from pytest_html import extras

            shown = extras.html(f"<pre class=apdu-trace>{escape(str(trace))}</pre>")
            report.extras = [*getattr(report, "extras", []), shown]  # type: ignore[attr-defined]
        return report
