"""``mynacard matrix``: today's client sequences against every profile (``mynacard.tools.harness.matrix``),
as a table, CSV, JSON, an HTML page and a heat map."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Any

from mynacard.tools.cli import charts
from mynacard.tools.cli.exits import CliError, Exit
from mynacard.tools.harness import matrix as compat_matrix
from mynacard.tools.harness.matrix import Matrix
from mynacard.tools.harness.matrix_html import page

CHART_SIZE_INCHES = (11.0, 13.0)
PASS_COLOUR, NOT_RUN_COLOUR = "#4c9a2a", "#dddddd"
CAUSE_COLOURS = ["#d62728", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf", "#7f7f7f"]
"""One colour per cause of a failing cell, in the order the causes first appear (then round again)."""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "matrix", help="today's client sequences × profiles: pass, or where and why each client stops"
    )
    parser.add_argument(
        "--profile",
        action="append",
        help="a profile (repeatable; default: legacy-2016, its variants, nextgen)",
    )
    parser.add_argument(
        "--reader", default="virtual", type=reader_name, help="virtual (default) or pcsc:NAME"
    )
    parser.add_argument("--json", metavar="FILE", help="write the matrix as JSON to FILE ('-': print it)")
    parser.add_argument("--csv", type=Path, metavar="FILE", help="write one row per cell as CSV")
    parser.add_argument("--html", type=Path, metavar="FILE", help="write a self-contained HTML page")
    parser.add_argument(
        "--chart", type=Path, metavar="DIR", help=f"write matrix.png and matrix.svg ({charts.REPORTS_EXTRA})"
    )
    parser.set_defaults(func=run)


def reader_name(text: str) -> str:
    """``virtual`` or ``pcsc:NAME`` (what the harness plugin's ``--reader`` takes)."""
    if text == "virtual" or (text.startswith("pcsc:") and len(text) > len("pcsc:")):
        return text
    raise argparse.ArgumentTypeError(f"a reader is 'virtual' or 'pcsc:NAME', got {text!r}")


def run(args: argparse.Namespace) -> int:
    profiles = args.profile or compat_matrix.default_profiles()
    measured = compat_matrix.measure_matrix(profiles, args.reader, progress=_progress)
    if args.json == "-":
        print(json.dumps(measured.to_json(), ensure_ascii=False, indent=1))
    else:
        print(compat_matrix.table(measured))
    for path in write_files(measured, args):
        print(f"wrote {path}", file=sys.stderr if args.json == "-" else sys.stdout)
    return Exit.OK


def _progress(profile: str) -> None:
    print(f"measuring {profile} …", file=sys.stderr, flush=True)


def write_files(measured: Matrix, args: argparse.Namespace) -> list[Path]:
    written = []
    if args.json not in (None, "-"):
        written.append(_write(Path(args.json), json.dumps(measured.to_json(), ensure_ascii=False, indent=1)))
    if args.csv is not None:
        written.append(write_csv(measured, args.csv))
    if args.html is not None:
        written.append(_write(args.html, page(measured)))
    if args.chart is not None:
        written += write_chart(measured, args.chart)
    return written


def _write(path: Path, text: str) -> Path:
    try:
        path.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot write {path}: {exc.strerror}") from None
    return path


def write_csv(measured: Matrix, path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=compat_matrix.CSV_FIELDS)
        writer.writeheader()
        writer.writerows(compat_matrix.csv_rows(measured))
    return path


def write_chart(measured: Matrix, directory: Path) -> list[Path]:
    """A heat map: one row per sequence, one column per profile, green for a pass, a colour per cause."""
    plt = charts.pyplot("mynacard-matrix")
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    causes = compat_matrix.causes(measured)
    colours = [
        PASS_COLOUR,
        NOT_RUN_COLOUR,
        *(CAUSE_COLOURS[i % len(CAUSE_COLOURS)] for i in range(len(causes))),
    ]
    rows = measured.rows()
    grid = [[_colour_index(measured, s, p, causes) for p in measured.profiles] for _, s in rows]
    figure, axes = plt.subplots(figsize=CHART_SIZE_INCHES)
    axes.imshow(grid, cmap=ListedColormap(colours), vmin=0, vmax=len(colours) - 1, aspect="auto")
    axes.set_xticks(range(len(measured.profiles)), measured.profiles, rotation=40, ha="right", fontsize=8)
    axes.set_xticks([x - 0.5 for x in range(1, len(measured.profiles))], minor=True)
    axes.set_yticks([y - 0.5 for y in range(1, len(rows))], minor=True)
    axes.grid(which="minor", color="white", linewidth=0.8)
    axes.tick_params(which="minor", length=0)
    labels = [f"{client}  {sequence.removeprefix('test_')}" for client, sequence in rows]
    axes.set_yticks(range(len(rows)), labels, fontsize=6)
    handles = [Patch(color=c, label=t) for c, t in zip(colours, ["pass", "not run", *causes], strict=True)]
    axes.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize=7)
    axes.set_title("today's client sequences × profiles (measured)")
    figure.subplots_adjust(left=0.42, right=0.98, top=0.96, bottom=0.22)
    return charts.save(figure, directory, "matrix")


def _colour_index(measured: Matrix, sequence: str, profile: str, causes: list[str]) -> Any:
    cell = measured.cell(sequence, profile)
    if cell is None:
        return 1
    return 0 if cell.passed else 2 + causes.index(cell.cause)
