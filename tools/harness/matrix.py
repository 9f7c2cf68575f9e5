"""The compatibility matrix (互換性マトリクス): every golden client sequence × every profile, measured.

Each profile is measured with ``compat.measure`` (today's client sequences under ``--compatibility``) and
each outcome becomes a cell: ``pass``, or the first failing exchange with the expected and the actual
answer and a one-line reason.

The sequences that read the text AP's EF ``0002`` run on both settings of its outer length (``[short]``
and ``[long]``, current-card §9.5), whatever the profile; a profile's cell is the run on the profile's own
setting (``[personalisation] attributes_length_form``). Where a client parses only one setting, its
sequence on the other asserts that the client misreads the bytes: that run passing is the measurement
that the client breaks on such a card, and the cell says so. This is where today's clients conflict:
no single card satisfies both MNB (``FF 20 82 HH LL``) and MBE (``FF 20 LL``); ``conflicts`` lists such
pairs of rows.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from itertools import combinations
from typing import Any

from mynacard.emulator.issuance.profiles import load_profile
from mynacard.profiles.schema import list_profiles
from mynacard.tools.harness import compat

LEGACY = "legacy-2016"
NEXTGEN = ("nextgen-2026", "nextgen-2026-aliases")
"""The next card with ``legacy_aliases`` off (the shipped default) and on."""

FORM_HEADERS = {"short": "FF 20 LL", "long": "FF 20 82 HH LL"}
"""The two settings of the text AP's EF 0002 outer length (``attributes_length_form``), as bytes."""

CLIENT_FORM = {"test_mnb_basic_info_fixed_offsets": "long", "test_mbe_basic_four_by_sfi": "short"}
"""Sequences whose client parses one setting only (the suite's docstring, §9.5): on the other setting the
sequence asserts the client's misreading, so its passing there means the client breaks."""

_FORM_RUN = re.compile(r"^(?P<row>.+)\[(?P<form>short|long)\]$")

Measure = Callable[[str, str], list[compat.Outcome]]


def default_profiles() -> list[str]:
    """Today's card, each of its shipped variants, and the next card with aliases off and on."""
    variants = [name for name in list_profiles() if name.startswith(LEGACY + "-")]
    return [LEGACY, *variants, *NEXTGEN]


@dataclass(frozen=True, slots=True)
class Cell:
    """One sequence (a row) on one profile (a column)."""

    client: str
    sequence: str
    profile: str
    passed: bool
    measured: str
    """The run this cell comes from: the sequence, with its FF 20 setting where it has one."""
    exchange: int | None = None
    command: str | None = None
    answer: str | None = None
    expected: str | None = None
    reason: str = ""

    @property
    def cause(self) -> str:
        """The reason's kind (its text before the first colon); empty for a pass."""
        return "" if self.passed else self.reason.partition(":")[0]

    @property
    def short(self) -> str:
        """``pass``, ``#n SW`` (the exchange it stopped at), or ``misreads`` (all answers as expected)."""
        if self.passed:
            return "pass"
        if self.exchange is None:
            return "misreads"
        return f"#{self.exchange} {(self.answer or '?').rpartition('  ')[2][:5]}"


@dataclass(frozen=True, slots=True)
class Conflict:
    """Two rows of different clients that pass somewhere, but never on the same profile."""

    first: tuple[str, str]
    second: tuple[str, str]
    first_passes_on: tuple[str, ...]
    second_passes_on: tuple[str, ...]


@dataclass(frozen=True)
class Matrix:
    profiles: tuple[str, ...]
    forms: dict[str, str]
    """Each profile's setting of the EF 0002 outer length."""
    cells: tuple[Cell, ...]
    _index: dict[tuple[str, str], Cell] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {(c.sequence, c.profile): c for c in self.cells})

    def rows(self) -> list[tuple[str, str]]:
        """(client, sequence), sorted by client then sequence."""
        return sorted({(c.client, c.sequence) for c in self.cells})

    def cell(self, sequence: str, profile: str) -> Cell | None:
        return self._index.get((sequence, profile))

    def passes_on(self, sequence: str) -> tuple[str, ...]:
        return tuple(p for p in self.profiles if (c := self.cell(sequence, p)) is not None and c.passed)

    def clients(self) -> list[str]:
        return sorted({c.client for c in self.cells})

    def passes_whole(self, client: str) -> tuple[str, ...]:
        """The profiles on which every sequence of ``client`` passes."""
        mine = [s for c, s in self.rows() if c == client]
        return tuple(p for p in self.profiles if all(p in self.passes_on(s) for s in mine))

    def conflicts(self) -> list[Conflict]:
        """Rows of two clients that no single profile satisfies together."""
        found = []
        for (a, sa), (b, sb) in combinations(self.rows(), 2):
            on_a, on_b = self.passes_on(sa), self.passes_on(sb)
            if a != b and on_a and on_b and not set(on_a) & set(on_b):
                found.append(Conflict((a, sa), (b, sb), on_a, on_b))
        return found

    def client_conflicts(self) -> list[tuple[str, str]]:
        """Clients that each pass whole somewhere, but never on the same profile."""
        whole = {c: set(self.passes_whole(c)) for c in self.clients()}
        return [
            (a, b)
            for a, b in combinations(self.clients(), 2)
            if whole[a] and whole[b] and not whole[a] & whole[b]
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "profiles": list(self.profiles),
            "forms": self.forms,
            "rows": [
                {
                    "client": client,
                    "sequence": sequence,
                    "passes_on": list(self.passes_on(sequence)),
                    "cells": {p: _cell_json(c) for p in self.profiles if (c := self.cell(sequence, p))},
                }
                for client, sequence in self.rows()
            ],
            "passes_whole": {c: list(self.passes_whole(c)) for c in self.clients()},
            "conflicts": [_conflict_json(c) for c in self.conflicts()],
            "client_conflicts": [list(pair) for pair in self.client_conflicts()],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Matrix:
        cells = [
            Cell(row["client"], row["sequence"], profile, **values)
            for row in data["rows"]
            for profile, values in row["cells"].items()
        ]
        return cls(tuple(data["profiles"]), dict(data["forms"]), tuple(cells))


_ROW_KEYS = ("client", "sequence", "profile")


def _conflict_json(conflict: Conflict) -> dict[str, list[str]]:
    return {key: list(value) for key, value in asdict(conflict).items()}


def _cell_json(cell: Cell) -> dict[str, Any]:
    """The cell's own values; those at their defaults (a pass has no exchange and no reason) left out."""
    return {k: v for k, v in asdict(cell).items() if k not in _ROW_KEYS and v not in (None, "")}


def measure_matrix(
    profiles: Sequence[str],
    reader: str = "virtual",
    measure: Measure | None = None,
    progress: Callable[[str], None] | None = None,
) -> Matrix:
    """Measure every profile in turn (each a pytest process of its own: ``compat.measure`` unless
    ``measure`` is given) and bind its runs to cells; ``progress`` hears each profile's name first."""
    forms: dict[str, str] = {p: load_profile(p).personalisation.attributes_length_form for p in profiles}
    cells = []
    for profile in profiles:
        if progress is not None:
            progress(profile)
        cells += bind((measure or compat.measure)(profile, reader), forms[profile])
    return Matrix(tuple(profiles), forms, tuple(cells))


def bind(outcomes: Iterable[compat.Outcome], form: str) -> list[Cell]:
    """The cells of one profile: each run, but of a two-setting sequence only the run on ``form``."""
    cells = []
    for outcome in outcomes:
        run = _FORM_RUN.match(outcome.sequence)
        if run is None:
            cells.append(_cell(outcome, outcome.sequence))
        elif run["form"] == form:
            cells.append(_form_cell(outcome, run["row"], form))
    return cells


def _cell(outcome: compat.Outcome, sequence: str) -> Cell:
    o = outcome
    return Cell(
        o.client,
        sequence,
        o.profile,
        o.passed,
        o.sequence,
        o.exchange,
        o.command,
        o.answer,
        o.expected,
        o.reason,
    )


def _form_cell(outcome: compat.Outcome, sequence: str, form: str) -> Cell:
    parses = CLIENT_FORM.get(sequence, form)
    if not outcome.passed or parses == form:
        return _cell(outcome, sequence)
    reason = (
        f"content layout changed: the client parses EF 0002 as {FORM_HEADERS[parses]}, this card writes"
        f" {FORM_HEADERS[form]} (current-card §9.5)"
    )
    return Cell(outcome.client, sequence, outcome.profile, False, outcome.sequence, reason=reason)


# --- views ------------------------------------------------------------------------------------------------


def causes(matrix: Matrix) -> list[str]:
    """The distinct causes of failing cells, in order of first appearance (row by row)."""
    found: dict[str, None] = {}
    for _, sequence in matrix.rows():
        for profile in matrix.profiles:
            cell = matrix.cell(sequence, profile)
            if cell is not None and cell.cause:
                found.setdefault(cell.cause)
    return list(found)


def table(matrix: Matrix) -> str:
    """Rows × numbered profile columns, each cell ``pass`` or ``#n SW`` with a letter for its cause."""
    letters = {cause: chr(ord("a") + i) for i, cause in enumerate(causes(matrix))}
    columns = range(1, len(matrix.profiles) + 1)
    width = max(len(s) for _, s in matrix.rows()) - len("test_")
    lines = [
        f"{n}  {p} (EF 0002 {FORM_HEADERS[matrix.forms[p]]})"
        for n, p in zip(columns, matrix.profiles, strict=True)
    ]
    lines += ["", f"{'client':<8} {'sequence':<{width}} " + " ".join(f"{n:<10}" for n in columns)]
    for client, sequence in matrix.rows():
        texts = [_short(matrix.cell(sequence, p), letters) for p in matrix.profiles]
        lines.append(
            f"{client:<8} {sequence.removeprefix('test_'):<{width}} " + " ".join(f"{t:<10}" for t in texts)
        )
    lines += ["", "causes:", *(f"  {letter}  {cause}" for cause, letter in letters.items())]
    return "\n".join([*lines, "", *summary_lines(matrix)])


def _short(cell: Cell | None, letters: dict[str, str]) -> str:
    if cell is None:
        return "—"
    return cell.short if cell.passed else f"{cell.short} {letters[cell.cause]}"


def summary_lines(matrix: Matrix) -> list[str]:
    """Where each client passes whole, and the conflicts between clients."""
    lines = ["passes whole:"]
    for client in matrix.clients():
        lines.append(f"  {client:<8} {', '.join(matrix.passes_whole(client)) or 'no profile'}")
    lines.append("conflicts (no profile satisfies both rows):")
    for c in matrix.conflicts():
        lines.append(f"  {c.first[0]} {c.first[1]} (passes on {', '.join(c.first_passes_on)})")
        lines.append(f"    × {c.second[0]} {c.second[1]} (passes on {', '.join(c.second_passes_on)})")
    if not matrix.conflicts():
        lines.append("  none")
    return lines


CSV_FIELDS = ["client", "sequence", "profile", "passed", "measured", "exchange", "command", "answer"]
CSV_FIELDS += ["expected", "reason"]


def csv_rows(matrix: Matrix) -> list[dict[str, object]]:
    """One CSV row per cell (long format), rows in table order."""
    return [
        {key: getattr(cell, key) for key in CSV_FIELDS}
        for _, sequence in matrix.rows()
        for profile in matrix.profiles
        if (cell := matrix.cell(sequence, profile)) is not None
    ]
