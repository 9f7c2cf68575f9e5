"""``mynacard capacity``: what each applet of a card takes of its chip's memory budget (容量), as a table,
JSON or a bar chart setting the profiles side by side (``legacy-2016``'s RSA beside ``nextgen-2026``'s ECC).

Each profile is personalised in memory for the ``default`` TEST persona and counted by
``mynacard.emulator.issuance.capacity``; every per-item cost is the profile's ``[capacity]`` table.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mynacard.tools.cli import charts
from mynacard.tools.cli.exits import CliError, Exit

if TYPE_CHECKING:
    from mynacard.emulator.issuance.capacity import CapacityReport
    from mynacard.profiles.schema import CapacitySpec

CHART_SIZE_INCHES = (12.0, 5.5)
"""``capacity.png`` is 1200 × 550 pixels (at ``charts.CHART_DPI``)."""

KIND_COLOURS = {
    "files": "#4c72b0",
    "keys": "#dd8452",
    "credentials": "#55a868",
    "rules": "#c44e52",
    "overhead": "#8172b3",
}


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "capacity", help="bytes per applet against the chip's memory budget (容量), table, JSON or chart"
    )
    parser.add_argument(
        "--profile",
        action="append",
        dest="profiles",
        metavar="PROFILE",
        help="card profile, by name or path; repeat to compare (default: legacy-2016 and nextgen-2026)",
    )
    parser.add_argument("--persona", default="default", help="TEST persona (default: %(default)s)")
    parser.add_argument("--json", action="store_true", help="print the reports as JSON")
    parser.add_argument(
        "--chart",
        type=Path,
        metavar="DIR",
        help=f"write capacity.png and capacity.svg ({charts.REPORTS_EXTRA})",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mynacard.emulator.issuance.capacity import CapacityError

    names: list[str] = args.profiles or ["legacy-2016", "nextgen-2026"]
    try:
        measured = [measure_profile(name, args.persona) for name in names]
    except CapacityError as exc:
        raise CliError(f"refused: {exc}", Exit.FAILED) from None
    written = write_chart([r for r, _ in measured], args.chart) if args.chart is not None else []
    if args.json:
        print(
            json.dumps({"profiles": [report_json(r, c) for r, c in measured]}, ensure_ascii=False, indent=2)
        )
        return Exit.OK
    print("\n\n".join(format_table(r) for r, _ in measured))
    if written:
        print("\nchart: " + ", ".join(str(p) for p in written))
    return Exit.OK


def measure_profile(name: str, persona: str) -> tuple[CapacityReport, CapacitySpec]:
    """Personalise ``name`` in memory (refused if it does not fit) and count it."""
    from mynacard.emulator.issuance.capacity import CardContents, measure
    from mynacard.emulator.issuance.personalise import open_card
    from mynacard.emulator.issuance.profiles import load_profile

    profile = load_profile(name)
    card = open_card(name, persona, None)
    return measure(profile, CardContents.from_card(card)), profile.capacity


def _share(part: int, budget: int | None) -> str:
    return "-" if budget is None else f"{100 * part / budget:.1f}%"


def _number(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def format_table(report: CapacityReport) -> str:
    """The per-applet table: bytes by kind, total, share of the budget, free area or not, what is left."""
    budget = "no budget" if report.budget is None else f"eeprom_bytes {report.budget:,} (ASSUMED)"
    header = ("applet", "files", "keys", "creds", "rules", "overhead", "bytes", "share", "area", "left")
    rows: list[tuple[str, ...]] = [header]
    for applet, left in zip(report.applets, report.left_after(), strict=True):
        kinds = [f"{v:,}" for v in applet.by_kind().values()]
        area = "free" if applet.free_area else "card"
        rows.append(
            (applet.id, *kinds, f"{applet.total:,}", _share(applet.total, report.budget), area, _number(left))
        )
    totals = [f"{v:,}" for v in report.kind_totals().values()]
    rows.append(
        ("total", *totals, f"{report.total:,}", _share(report.total, report.budget), "", _number(report.left))
    )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [f"{report.profile}: {budget}"]
    for i, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True)]
        lines.append("  ".join(cells).rstrip())
        if i == 0 or i == len(rows) - 2:
            lines.append("  ".join("-" * w for w in widths))
    lines.append(f"free area (空き領域): {_number(report.free_area)} bytes after the card's own applets")
    return "\n".join(lines)


def report_json(report: CapacityReport, cost: CapacitySpec) -> dict[str, Any]:
    """The same as the table, as JSON, with the per-item costs it was counted with."""
    applets = [
        {
            "id": a.id,
            "label": a.label,
            "free_area": a.free_area,
            **a.by_kind(),
            "bytes": a.total,
            "share": None if report.budget is None else round(a.total / report.budget, 4),
            "left": left,
        }
        for a, left in zip(report.applets, report.left_after(), strict=True)
    ]
    return {
        "profile": report.profile,
        "budget": report.budget,
        "total": report.total,
        "left": report.left,
        "free_area": report.free_area,
        "kinds": report.kind_totals(),
        "costs": cost.model_dump(),
        "applets": applets,
    }


def write_chart(reports: Sequence[CapacityReport], directory: Path) -> list[Path]:
    """``capacity.png`` and ``capacity.svg`` in ``directory``: the profiles side by side."""
    return charts.save(_figure(reports), directory, "capacity")


def _figure(reports: Sequence[CapacityReport]) -> Any:
    """Left: every applet, stacked by kind, grouped by profile. Right: each whole card against its budget."""
    from mynacard.emulator.issuance.capacity import KINDS

    plt = charts.pyplot("mynacard-capacity")
    figure, (per_applet, whole) = plt.subplots(
        1, 2, figsize=CHART_SIZE_INCHES, gridspec_kw={"width_ratios": [3, 1]}, layout="constrained"
    )
    bars: list[tuple[float, dict[str, int]]] = []
    ticks: list[str] = []
    for start, report in zip(_group_starts(reports), reports, strict=True):
        for offset, applet in enumerate(report.applets):
            bars.append((start + offset, applet.by_kind()))
            ticks.append(applet.id + (" *" if applet.free_area else ""))
        middle = start + (len(report.applets) - 1) / 2
        per_applet.annotate(
            report.profile,
            (middle, 0),
            xycoords=("data", "axes fraction"),
            xytext=(0, -62),
            textcoords="offset points",
            ha="center",
            fontsize=9,
            fontweight="bold",
        )
    _stack(per_applet, bars, KINDS)
    per_applet.set_xticks([x for x, _ in bars], ticks, fontsize=8, rotation=35, ha="right")
    per_applet.set_ylabel("bytes")
    per_applet.set_title("Per applet, stacked by kind (* = free area)", fontsize=10)
    per_applet.legend(loc="upper right", fontsize=8)
    _whole_cards(whole, reports, KINDS)
    for axes in (per_applet, whole):
        axes.yaxis.set_major_formatter(plt.matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
    figure.suptitle("Chip capacity (EEPROM): legacy RSA-2048 beside next-generation ECC P-384", fontsize=11)
    return figure


def _group_starts(reports: Sequence[CapacityReport]) -> list[float]:
    """Where each profile's first bar goes: the groups one bar-width apart."""
    starts, x = [], 0.0
    for report in reports:
        starts.append(x)
        x += len(report.applets) + 1
    return starts


def _stack(
    axes: Any, bars: list[tuple[float, dict[str, int]]], kinds: Sequence[str], label: bool = True
) -> None:
    bottoms = [0] * len(bars)
    for kind in kinds:
        heights = [values[kind] for _, values in bars]
        axes.bar(
            [x for x, _ in bars],
            heights,
            bottom=bottoms,
            color=KIND_COLOURS[kind],
            label=kind if label else None,
            width=0.8,
        )
        bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]


def _whole_cards(axes: Any, reports: Sequence[CapacityReport], kinds: Sequence[str]) -> None:
    """One bar per card, stacked by kind, and each card's budget as a dashed line over its bar."""
    _stack(axes, [(float(i), r.kind_totals()) for i, r in enumerate(reports)], kinds, label=False)
    for i, report in enumerate(reports):
        if report.budget is not None:
            axes.hlines(report.budget, i - 0.5, i + 0.5, colors="black", linestyles="dashed")
            axes.annotate(
                f"budget {report.budget:,}\nfree {report.free_area:,}",
                (i, report.budget),
                textcoords="offset points",
                xytext=(0, 4),
                ha="center",
                fontsize=7,
            )
    axes.set_xticks(range(len(reports)), [r.profile for r in reports], fontsize=8)
    axes.set_title("Whole card vs budget (dashed)", fontsize=10)
    axes.set_ylabel("bytes")
    top = max([r.budget or 0 for r in reports] + [r.total for r in reports])
    axes.set_ylim(0, top * 1.15)
