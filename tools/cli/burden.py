"""``mynacard burden``: what each workflow asks of the holder (PINs, card taps) on each profile, measured
by running it on the card (``mynacard.tools.harness.burden``), as a table, JSON or a bar chart."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mynacard.emulator.issuance.personalise import open_card
from mynacard.emulator.issuance.personas import load_persona
from mynacard.tools.cli import charts
from mynacard.tools.cli.demo import card_family
from mynacard.tools.cli.exits import Exit
from mynacard.tools.harness.burden import Tally, run_all, table

DEFAULT_PROFILES = ("legacy-2016", "nextgen-2026")
CHART_SIZE_INCHES = (11.0, 4.5)
MEASURES = (("pin_entries", "PIN entries"), ("secrets", "secrets to know"), ("sessions", "card taps"))


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "burden", help="PIN entries and card taps per workflow, legacy beside next-gen, measured on the card"
    )
    parser.add_argument("--profile", action="append", help="a profile (repeatable; default: both cards)")
    parser.add_argument("--persona", default="default", help="the TEST persona whose secrets are entered")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument(
        "--chart", type=Path, metavar="DIR", help=f"write burden.png and burden.svg ({charts.REPORTS_EXTRA})"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    persona = load_persona(args.persona)
    cards = [open_card(name, persona.id, None) for name in args.profile or DEFAULT_PROFILES]
    tallies = run_all([(card, card_family(card)) for card in cards], persona)
    print(
        json.dumps([t.row() for t in tallies], ensure_ascii=False, indent=2) if args.json else table(tallies)
    )
    if args.chart is not None:
        for path in write_chart(tallies, args.chart):
            print(f"wrote {path}")
    return Exit.OK


def write_chart(tallies: Sequence[Tally], directory: Path) -> list[Path]:
    """One panel per measure: a bar per profile in each workflow's group."""
    plt = charts.pyplot("mynacard-burden")
    workflows = sorted({t.workflow for t in tallies})
    profiles = sorted({t.profile for t in tallies})
    figure, axes = plt.subplots(1, len(MEASURES), figsize=CHART_SIZE_INCHES, sharey=False)
    width = 0.8 / len(profiles)
    for panel, (key, label) in zip(axes, MEASURES, strict=True):
        for i, profile in enumerate(profiles):
            values = [_value(tallies, w, profile, key) for w in workflows]
            panel.bar([x + i * width for x in range(len(workflows))], values, width, label=profile)
        panel.set_title(label)
        ticks = [x + width * (len(profiles) - 1) / 2 for x in range(len(workflows))]
        panel.set_xticks(ticks, workflows, rotation=30, ha="right")
        panel.yaxis.get_major_locator().set_params(integer=True)
    axes[0].legend()
    figure.tight_layout()
    return charts.save(figure, directory, "burden")


def _value(tallies: Sequence[Tally], workflow: str, profile: str, key: str) -> Any:
    row = next(t.row() for t in tallies if t.workflow == workflow and t.profile == profile)
    return row[key]
