"""``mynacard test``: the conformance suites against a reader, with a summary table, JUnit and HTML reports.

The suites (``mynacard.tools.harness.suites``) run on pytest in a child process per reader, with the
``mynacard`` plugin's ``--reader``/``--profile``/``--suite`` and the safety options for real cards. Each run
writes JUnit XML (given or temporary), which the summary table is read from: per capability group, the tests
that passed, failed, were not applicable to the profile, or were skipped, and their time. With several
readers (``--reader`` repeated, or ``pcsc:*``) each reader gets its own run, in parallel, and its own
reports (``FILE`` becomes ``FILE-<reader>``); ``-n`` gives one reader's run pytest-xdist workers, which only
the virtual reader allows (one pcscd slot serves one worker).

Exit status: 0 every required test passed; 1 a test failed, or a required test was skipped (a missing
component, a refusal by the counter floor); 2 usage error (bad option, unknown profile, no test selected);
3 a ``pcsc:`` reader that does not exist.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import threading
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from mynacard.apdu.readers.base import ReaderError
from mynacard.apdu.readers.pcsc import list_readers
from mynacard.emulator.issuance.personalise import DEFAULT_PROFILE
from mynacard.emulator.issuance.profiles import load_profile
from mynacard.profiles.errors import ProfileError
from mynacard.tools.cli.exits import CliError, Exit
from mynacard.tools.harness.pcsc import vpcd_slot_of
from mynacard.tools.harness.plugin import CAPABILITIES, missing_reader

SUITES = "mynacard.tools.harness.suites"
NOT_APPLICABLE = "not applicable"
REFUSED = ("destructive test refused", "refused on a real card")
"""Skip reasons that are the harness doing its job, not a test left undone."""

_PYTEST_USAGE, _PYTEST_NO_TESTS = 4, 5


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "test",
        help="run the conformance suites against a reader: summary table, JUnit XML, HTML report",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--reader",
        action="append",
        metavar="R",
        help="'virtual' (default), 'pcsc:NAME' or 'pcsc:*' (every PC/SC reader); repeatable",
    )
    parser.add_argument(
        "--profile", default=DEFAULT_PROFILE, help="shipped name or TOML path (default: %(default)s)"
    )
    parser.add_argument(
        "--suite", action="append", choices=sorted(CAPABILITIES), help="capability group; repeatable"
    )
    parser.add_argument(
        "-k", dest="keyword", metavar="EXPR", help="only tests matching this pytest -k expression"
    )
    parser.add_argument("--junit", type=Path, metavar="FILE", help="write JUnit XML here")
    parser.add_argument("--html", type=Path, metavar="FILE", help="write one self-contained HTML report here")
    parser.add_argument("--json", metavar="FILE", help="write the summary as JSON here ('-' for stdout)")
    parser.add_argument("-n", dest="workers", type=int, default=0, metavar="N", help="pytest-xdist workers")
    parser.add_argument("--allow-destructive", action="store_true", help="see the plugin: real cards only")
    parser.add_argument("--confirm-card", metavar="FINGERPRINT", help="the real card's identity fingerprint")
    parser.add_argument("--assume-real-card", action="store_true", help="treat a vpcd reader as a real card")
    parser.add_argument("--timing", action="store_true", help="emulated cards answer at real-card pace")
    parser.add_argument("--quiet", action="store_true", help="no progress, only the summary")
    parser.set_defaults(func=run)


@dataclass
class GroupResult:
    """One capability group's counts in one run."""

    passed: int = 0
    failed: int = 0
    not_applicable: int = 0
    refused: int = 0
    skipped: int = 0
    seconds: float = 0.0


@dataclass
class RunResult:
    """One reader's run: the groups, the failing tests, where the reports went and pytest's own exit code."""

    reader: str
    profile: str
    pytest_exit: int
    groups: dict[str, GroupResult] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    junit: str = ""
    html: str = ""
    unconfirmed: str = ""
    """The real card's identity when destructive tests were refused for want of ``--confirm-card``."""

    @property
    def exit(self) -> Exit:
        if self.pytest_exit in (_PYTEST_USAGE, _PYTEST_NO_TESTS) or self.unconfirmed:
            return Exit.USAGE
        if self.pytest_exit != 0 or self.failures or self.skipped:
            return Exit.FAILED
        return Exit.OK


def run(args: argparse.Namespace) -> int:
    _check_profile(args.profile)
    readers = _expand(args.reader or ["virtual"])
    if args.workers > 1 and any(r != "virtual" for r in readers):
        raise CliError("-n: one pcscd slot serves one worker; give each worker its own reader (--reader ...)")
    if args.html is not None:
        _require_pytest_html()
    with tempfile.TemporaryDirectory(prefix="mynacard-test-") as scratch:
        results = _run_all(args, readers, Path(scratch))
    for result in results:
        print(summary_table(result))
    if args.json:
        _write_json(args.json, results)
    return max(result.exit for result in results)


def _check_profile(profile: str) -> None:
    try:
        load_profile(profile)
    except ProfileError as exc:
        raise CliError(f"--profile {profile}: {exc}") from exc


def _expand(options: Sequence[str]) -> list[str]:
    """Validates every ``--reader``; ``pcsc:*`` becomes every PC/SC reader there is."""
    readers: list[str] = []
    for option in options:
        if option == "virtual":
            readers.append(option)
        elif option == "pcsc:*":
            readers += [f"pcsc:{name}" for name in _pcsc_readers()]
        elif option.startswith("pcsc:") and option != "pcsc:":
            _check_pcsc_reader(option.removeprefix("pcsc:"))
            readers.append(option)
        else:
            raise CliError(f"--reader {option!r}: expected 'virtual', 'pcsc:NAME' or 'pcsc:*'")
    if len(set(readers)) != len(readers):
        raise CliError("--reader: a reader given twice would get two runs on one slot")
    if not readers:
        raise CliError("--reader pcsc:*: no PC/SC reader found", Exit.NO_READER)
    return readers


def _pcsc_readers() -> list[str]:
    try:
        return list_readers()
    except ReaderError as exc:  # pyscard missing, or pcscd not running
        raise CliError(f"PC/SC: {exc}", Exit.NO_READER) from exc


def _check_pcsc_reader(name: str) -> None:
    """A vpcd slot is served by the harness itself (it starts pcscd); any other reader must exist now."""
    if vpcd_slot_of(name) is None and (problem := missing_reader(name)):
        raise CliError(f"--reader pcsc:{name}: {problem}", Exit.NO_READER)


def _require_pytest_html() -> None:
    try:
        import pytest_html  # noqa: F401
    except ImportError as exc:
        raise CliError("--html needs pytest-html (pip install 'mynacard[harness]')") from exc


def _run_all(args: argparse.Namespace, readers: list[str], scratch: Path) -> list[RunResult]:
    results: list[RunResult] = []
    threads = [
        threading.Thread(target=lambda r=reader: results.append(_run_one(args, r, scratch, len(readers) > 1)))
        for reader in readers
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(results, key=lambda result: readers.index(result.reader))


def _slug(reader: str) -> str:
    """A reader's name as a file-name part: ``pcsc:Virtual PCD 00 01`` → ``pcsc-virtual-pcd-00-01``."""
    return re.sub(r"[^A-Za-z0-9]+", "-", reader).strip("-").lower()


def report_path(path: Path, reader: str, several: bool) -> Path:
    """``path`` itself, or ``path-<reader>`` when several readers run (a report per reader)."""
    return path.with_name(f"{path.stem}-{_slug(reader)}{path.suffix}") if several else path


def pytest_command(
    args: argparse.Namespace, reader: str, junit: Path, html: Path | None, ini: Path
) -> list[str]:
    """The child pytest: the shipped suites with an ini of its own, so no project's settings apply."""
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-c",
        str(ini),
        "--rootdir",
        str(ini.parent),
        "-p",
        "no:cacheprovider",
    ]
    command += [
        "--pyargs",
        SUITES,
        "--reader",
        reader,
        "--profile",
        str(args.profile),
        "--junitxml",
        str(junit),
    ]
    command += ["-q", "-rfE"] if not args.quiet else ["-q", "--no-header", "-p", "no:terminalprogress"]
    for suite in args.suite or []:
        command += ["--suite", suite]
    if args.keyword:
        command += ["-k", args.keyword]
    if html is not None:
        command += ["--html", str(html), "--self-contained-html"]
    if args.workers > 0:
        command += ["-n", str(args.workers)]
    for flag in ("allow_destructive", "assume_real_card", "timing"):
        if getattr(args, flag):
            command.append("--" + flag.replace("_", "-"))
    if args.confirm_card:
        command += ["--confirm-card", args.confirm_card]
    return command


def _run_one(args: argparse.Namespace, reader: str, scratch: Path, several: bool) -> RunResult:
    junit = report_path(args.junit, reader, several) if args.junit else scratch / f"{_slug(reader)}.xml"
    html = report_path(args.html, reader, several) if args.html else None
    ini = scratch / _slug(reader) / "pytest.ini"
    ini.parent.mkdir(parents=True, exist_ok=True)
    ini.write_text("[pytest]\njunit_family = xunit1\n")
    process = subprocess.Popen(
        pytest_command(args, reader, junit, html, ini),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        if not args.quiet or "confirm-card" in line or line.startswith(("ERROR", "  ")):
            sys.stdout.write(f"[{reader}] {line}" if several else line)
            sys.stdout.flush()
    result = RunResult(reader, str(args.profile), process.wait(), junit=str(junit), html=str(html or ""))
    if junit.exists():
        read_junit(junit, result)
    return result


def read_junit(path: Path, result: RunResult) -> None:
    """Counts each testcase of the JUnit file into its capability group (a property the plugin writes)."""
    for case in ET.parse(path).iter("testcase"):
        properties = {p.get("name"): p.get("value") for p in case.iter("property")}
        group = result.groups.setdefault(properties.get("capability") or "other", GroupResult())
        group.seconds += float(case.get("time") or 0)
        name = f"{case.get('classname')}::{case.get('name')}"
        outcome = _outcome(case)
        setattr(group, outcome, getattr(group, outcome) + 1)
        if outcome == "refused" and _UNCONFIRMED in (reason := _skip_reason(case)):
            result.unconfirmed = reason
        if outcome == "failed":
            result.failures.append(name)
        elif outcome == "skipped":
            result.skipped.append(name)


_UNCONFIRMED = "--confirm-card"


def _skip_reason(case: ET.Element) -> str:
    skipped = case.find("skipped")
    return "" if skipped is None else (skipped.get("message") or "")


def _outcome(case: ET.Element) -> str:
    if case.find("failure") is not None or case.find("error") is not None:
        return "failed"
    skipped = case.find("skipped")
    if skipped is None:
        return "passed"
    reason = skipped.get("message") or ""
    if NOT_APPLICABLE in reason:
        return "not_applicable"
    return "refused" if any(text in reason for text in REFUSED) else "skipped"


def summary_table(result: RunResult) -> str:
    """Per capability group: passed / failed / n/a / refused / skipped and time, then a total line."""
    lines = [
        f"\n{result.reader} · {result.profile}",
        f"  {'suite':18} {'passed':>7} {'failed':>7} {'n/a':>6} {'refused':>8} {'skipped':>8} {'time':>8}",
    ]
    total = GroupResult()
    for name in sorted(result.groups):
        group = result.groups[name]
        lines.append(_row(name, group))
        for key, value in asdict(group).items():
            setattr(total, key, getattr(total, key) + value)
    lines.append(_row("total", total))
    lines += [f"  FAILED  {name}" for name in result.failures]
    lines += [f"  SKIPPED (required) {name}" for name in result.skipped]
    if result.html:
        lines.append(f"  HTML report: {result.html}")
    if result.unconfirmed:
        lines.append("  " + result.unconfirmed.removeprefix("Skipped: ").replace("\n", "\n  "))
    lines.append(f"  result: {_verdict(result)}")
    return "\n".join(lines)


def _row(name: str, g: GroupResult) -> str:
    return (
        f"  {name:18} {g.passed:7} {g.failed:7} {g.not_applicable:6} {g.refused:8} {g.skipped:8}"
        f" {g.seconds:7.1f}s"
    )


def _verdict(result: RunResult) -> str:
    return {
        Exit.OK: "passed",
        Exit.FAILED: "FAILED",
        Exit.USAGE: "destructive tests not run: confirm the card"
        if result.unconfirmed
        else f"not run (pytest exit {result.pytest_exit})",
        Exit.NO_READER: "no reader",
    }[result.exit]


def _write_json(target: str, results: list[RunResult]) -> None:
    document = [
        asdict(result) | {"exit": int(result.exit), "verdict": _verdict(result)} for result in results
    ]
    text = json.dumps(document, ensure_ascii=False, indent=2)
    if target == "-":
        print(text)
    else:
        Path(target).write_text(text + "\n", encoding="utf-8")
