"""Which of today's clients survive a card (クライアント互換性): the golden client sequences, measured.

Every golden sequence of today's card (``suites/test_legacy_clients.py``: MYNA, MYNA-GO, OpenSC, TRET, MNB,
PYJ, MBE, jsapdu) runs against a profile with ``--compatibility``: on today's card each passes; on another
card a failure says at which exchange the client stopped, what it expected and what the card answered.
``classify`` turns that into a one-line reason a vendor can act on.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

SUITE = "mynacard.tools.harness.suites.test_legacy_clients"

CLIENTS = {
    "myna_go": "MYNA-GO",
    "myna": "MYNA",
    "opensc": "OpenSC",
    "tret": "TRET",
    "mnb": "MNB",
    "pyj": "PYJ",
    "mbe": "MBE",
    "jsapdu": "jsapdu",
}
"""Test-name prefix → the public client whose sequence it is (spec current-card §8)."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """One sequence on one profile: passed, or where and why it stopped."""

    profile: str
    client: str
    sequence: str
    passed: bool
    exchange: int | None = None
    """1-based number of the exchange the client stopped at (None: it stopped before any, or passed)."""
    command: str | None = None
    answer: str | None = None
    expected: str | None = None
    reason: str = ""

    @property
    def cell(self) -> str:
        """``pass``, or ``#n CMD → SW`` for a table (long commands cut after the header and Lc)."""
        if self.passed:
            return "pass"
        if self.exchange is None:
            return "stopped before any exchange"
        command = _shorten(self.command or "", 5)
        status = (self.answer or "?").rpartition("  ")[2][:5]
        return f"#{self.exchange} {command} → {status}"


CARD_CHECK = "(card)"
"""Tests of the suite that check the card's data, not a client's sequence: left out of the matrix."""


def client_of(sequence: str) -> str:
    name = sequence.removeprefix("test_")
    for prefix in sorted(CLIENTS, key=len, reverse=True):
        if name.startswith(prefix + "_"):
            return CLIENTS[prefix]
    return CARD_CHECK


def measure(profile: str, reader: str = "virtual", timeout: float = 900.0) -> list[Outcome]:
    """Run every golden sequence against ``profile`` on ``reader``, in a pytest process of its own."""
    with tempfile.TemporaryDirectory(prefix="mynacard-compat-") as tmp:
        results = Path(tmp) / "results.json"
        command = [
            sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
            "-p", "mynacard.tools.harness.compat_report", f"--compat-json={results}",
            "--pyargs", SUITE, f"--profile={profile}", f"--reader={reader}", "--compatibility",
        ]  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=tmp, check=False)
        if not results.exists():
            raise RuntimeError(
                f"the compatibility run did not report:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
            )
        entries = json.loads(results.read_text(encoding="utf-8"))
    outcomes = [_outcome(profile, entry) for entry in entries if entry["outcome"] != "skipped"]
    return [o for o in outcomes if o.client != CARD_CHECK]


_EXCHANGE = re.compile(r"^(\d+): > (.*)\n< (.*)$", re.S)
_EXPECTED = re.compile(r"SW ([0-9A-F]{4}), expected ([0-9A-F]{4})")


def _outcome(profile: str, entry: dict[str, object]) -> Outcome:
    sequence = str(entry["nodeid"]).split("::")[-1]
    client = client_of(sequence)
    if entry["outcome"] == "passed":
        return Outcome(profile, client, sequence, True)
    message = str(entry["message"])
    exchange = command = answer = raw = None
    match = _EXCHANGE.match(str(entry.get("failing_exchange") or ""))
    if match:
        exchange, command, raw = int(match[1]), match[2], match[3]
        data, _, status = raw.rpartition("  ")
        answer = f"{_shorten(data)}  {status}" if data else status
    expected_sw = _EXPECTED.search(message)
    expected = f"{expected_sw[2][:2]} {expected_sw[2][2:]}" if expected_sw else None
    outcome = Outcome(profile, client, sequence, False, exchange, command, raw, expected)
    return Outcome(**(asdict(outcome) | {"answer": answer, "reason": classify(outcome, message)}))


def _shorten(hex_text: str, limit: int = 8) -> str:
    count = len(hex_text.split())
    return hex_text if count <= limit else f"{' '.join(hex_text.split()[:limit])} … ({count} bytes)"


TOKEN_LABEL_3 = "4A 50 4B 49 41 50 49 43 43 54 4F 4B 45 4E 33"
"""``JPKIAPICCTOKEN3`` in hex, as a trace shows it."""


_NEVER_ACCESS_CHECKED = ("00 A4", "00 20", "00 22", "00 24", "00 2C")
"""SELECT, VERIFY, MSE, CHANGE and RESET RETRY COUNTER: no file's access rule answers them ``69 82``, an
applet that requires secure messaging does (``requires_secure_messaging``)."""


def classify(outcome: Outcome, message: str) -> str:
    """A one-line reason from the failing exchange and the client's own check."""
    command, answer = outcome.command or "", outcome.answer or ""
    if TOKEN_LABEL_3 in answer or "JPKIAPICCTOKEN2" in message:
        return "token label changed (JPKIAPICCTOKEN3): the client matches today's label"
    if command.startswith("00 A4 04") and answer.startswith("6A 82"):
        return "AID moved: today's AID is not on this card (no legacy alias)"
    if command.startswith("00 A4 02") and answer.startswith("6A 82"):
        return "file moved or gone: today's FID is not on this card"
    if "RSAPublicKey" in message or "RSAPrivateKey" in message or "rsa" in message.lower():
        return "RSA-only client meets an ECDSA P-384 key"
    if answer.startswith("63 C") or answer.startswith("6A 88"):
        return "a credential of today's card is not there or has another counter"
    if command.startswith("80 2A") or command.startswith("00 88"):
        return "signature form changed: ECDSA r‖s over a hash, not PKCS#1 over a DigestInfo"
    if answer.startswith("69 82") and command[:5] in _NEVER_ACCESS_CHECKED:
        return "secure messaging now required: the AP refuses plain commands after SELECT"
    if answer.startswith("69 82"):
        return "access rule changed: the client's credential does not open this file"
    if "data" in message or "==" in message or "assert" in message.lower():
        return "content layout changed: the bytes the client parses are not where it looks"
    return message[:120]


def matrix_markdown(outcomes: Iterable[Outcome], profiles: list[str]) -> str:
    """One row per sequence, one column per profile: ``pass`` or where the client stopped, and why."""
    by_key = {(o.sequence, o.profile): o for o in outcomes}
    sequences = sorted({(o.client, o.sequence) for o in by_key.values()})
    head = "| client | sequence | " + " | ".join(profiles) + " |"
    lines = [head, "|---|---|" + "---|" * len(profiles)]
    for client, sequence in sequences:
        cells = []
        for profile in profiles:
            o = by_key.get((sequence, profile))
            text = "—" if o is None else ("pass" if o.passed else f"{o.cell}<br>*{o.reason}*")
            cells.append(text.replace("|", "\\|"))
        lines.append(f"| {client} | `{sequence}` | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def summary_markdown(outcomes: Iterable[Outcome], profiles: list[str]) -> str:
    """Per client and profile: sequences that pass out of all."""
    rows = list(outcomes)
    clients = sorted({o.client for o in rows})
    lines = ["| client | " + " | ".join(profiles) + " |", "|---|" + "---|" * len(profiles)]
    for client in clients:
        cells = []
        for profile in profiles:
            mine = [o for o in rows if o.client == client and o.profile == profile]
            cells.append(f"{sum(o.passed for o in mine)} / {len(mine)}")
        lines.append(f"| {client} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def markdown_table(outcomes: Iterable[Outcome]) -> str:
    """Sequence × profile, ``pass`` or the exchange the client stopped at, with the reason."""
    rows = sorted(outcomes, key=lambda o: (o.client, o.sequence, o.profile))
    lines = ["| client | sequence | profile | result | reason |", "|---|---|---|---|---|"]
    for o in rows:
        cell = o.cell.replace("|", "\\|")
        lines.append(f"| {o.client} | `{o.sequence}` | {o.profile} | {cell} | {o.reason} |")
    return "\n".join(lines) + "\n"


def to_json(outcomes: Iterable[Outcome]) -> list[dict[str, object]]:
    return [asdict(o) for o in outcomes]


BEGIN, END = "<!-- compatibility: begin (generated) -->", "<!-- compatibility: end -->"
"""The generated part of a document: ``python -m mynacard.tools.harness.compat --write FILE`` rewrites it."""

DOC_PROFILES = ["legacy-2016", "nextgen-2026", "nextgen-2026-aliases"]


def document_section(outcomes: Iterable[Outcome], profiles: list[str]) -> str:
    rows = list(outcomes)
    return (
        f"{BEGIN}\n\nSequences that pass, per client:\n\n{summary_markdown(rows, profiles)}\n"
        f"Each sequence: `pass`, or the exchange the client stopped at (its command, the card's status word)"
        f" and why.\n\n{matrix_markdown(rows, profiles)}\n{END}"
    )


def rewrite_section(text: str, section: str) -> str:
    """``text`` with its generated part replaced by ``section``."""
    start, end = text.index(BEGIN), text.index(END) + len(END)
    return text[:start] + section + text[end:]


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description="measure today's client sequences against profiles")
    parser.add_argument("--profile", action="append", dest="profiles", help="profile (repeatable)")
    parser.add_argument("--write", type=Path, help="rewrite the generated part of this Markdown file")
    args = parser.parse_args(argv)
    profiles = args.profiles or DOC_PROFILES
    outcomes = [o for profile in profiles for o in measure(profile)]
    section = document_section(outcomes, profiles)
    if args.write:
        args.write.write_text(
            rewrite_section(args.write.read_text(encoding="utf-8"), section), encoding="utf-8"
        )
    else:
        print(section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
