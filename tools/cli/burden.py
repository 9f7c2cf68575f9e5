"""``mynacard burden``: what each workflow asks of the holder (PINs, card taps) on each profile, measured
by running it on the card (``mynacard.tools.harness.burden``), as a table, JSON, an HTML page or a bar chart.

On the virtual reader each ``--profile`` gets a fresh card of the TEST persona. ``--reader pcsc:NAME``
measures the one card in that reader (``mynacard emulate`` of the persona, or a bench card): ``--profile``
then says which card it is, and on a reader that is not a vpcd slot every VERIFY goes through the counter
floor (``mynacard.tools.harness.safety``), since the persona's PINs are not a real holder's."""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mynacard.apdu.readers.base import Reader, ReaderError
from mynacard.apdu.readers.pcsc import PcscReader
from mynacard.apdu.readers.processors import ProcessedReader
from mynacard.emulator.issuance.personalise import open_card
from mynacard.emulator.issuance.personas import Persona, load_persona
from mynacard.emulator.issuance.profiles import load_profile
from mynacard.tools.cli import charts
from mynacard.tools.cli.demo import card_family
from mynacard.tools.cli.exits import CliError, Exit
from mynacard.tools.cli.readers import parse_reader
from mynacard.tools.harness.burden import WORKFLOWS, Tally, run_all, run_on_reader, table
from mynacard.tools.harness.burden_html import page
from mynacard.tools.harness.pcsc import vpcd_slot_of
from mynacard.tools.harness.safety import CounterFloor, CounterFloorError

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
        "--html", type=Path, metavar="FILE", help="write the table (and chart) as one HTML page"
    )
    parser.add_argument(
        "--reader", default="virtual", metavar="R", help="'virtual' (default) or 'pcsc:NAME' (one --profile)"
    )
    parser.add_argument(
        "--chart", type=Path, metavar="DIR", help=f"write burden.png and burden.svg ({charts.REPORTS_EXTRA})"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    persona = load_persona(args.persona)
    profiles = args.profile or list(DEFAULT_PROFILES)
    tallies = _measure(args.reader, profiles, persona)
    print(
        json.dumps([t.row() for t in tallies], ensure_ascii=False, indent=2) if args.json else table(tallies)
    )
    if args.chart is not None:
        for path in write_chart(tallies, args.chart):
            print(f"wrote {path}")
    if args.html is not None:
        args.html.write_text(page(tallies, _chart_svg(tallies)), encoding="utf-8")
        print(f"wrote {args.html}")
    return Exit.OK


def _measure(reader: str, profiles: list[str], persona: Persona) -> list[Tally]:
    name = parse_reader(reader)
    if name is None:
        cards = [(open_card(profile, persona.id, None), load_profile(profile).timing) for profile in profiles]
        return run_all([(card, card_family(card), timing) for card, timing in cards], persona)
    if len(profiles) != 1:
        raise CliError("--reader pcsc:NAME measures the one card in it: give its --profile once")
    loaded = load_profile(profiles[0])
    pcsc: Reader = PcscReader(name)
    if vpcd_slot_of(name) is None:
        pcsc = ProcessedReader(pcsc, [CounterFloor()])
    try:
        family, timing = loaded.profile.family, loaded.timing
        return [run_on_reader(pcsc, profiles[0], family, persona, w, timing) for w in WORKFLOWS]
    except (ReaderError, CounterFloorError) as exc:
        raise CliError(f"{reader}: {exc}", Exit.FAILED) from None
    finally:
        pcsc.close()


def _chart_svg(tallies: Sequence[Tally]) -> str | None:
    """The chart as SVG text for the HTML page; None without matplotlib (the page then has the table)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return None
    with tempfile.TemporaryDirectory() as folder:
        paths = write_chart(tallies, Path(folder))
        return paths[1].read_text(encoding="utf-8")


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
