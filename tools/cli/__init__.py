"""``mynacard``: the command line of the emulator and the reader test harness."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from mynacard.tools.cli import demo, emulate


def _add_listing(subparsers: Any) -> None:
    parser = subparsers.add_parser("profiles", help="list the shipped card profiles")
    parser.set_defaults(func=_list_profiles)
    parser = subparsers.add_parser("personas", help="list the shipped TEST personas")
    parser.set_defaults(func=_list_personas)


def _list_profiles(args: argparse.Namespace) -> int:
    from mynacard.emulator.issuance.profiles import load_profile
    from mynacard.profiles.schema import list_profiles

    for name in list_profiles():
        print(f"{name:16} {load_profile(name).profile.description}")
    return 0


def _list_personas(args: argparse.Namespace) -> int:
    from mynacard.emulator.issuance.personas import list_personas, load_persona

    for name in list_personas():
        print(f"{name:20} {load_persona(name).label}")
    return 0


def _add_personalise(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "personalise", help="make a card's state directory from a profile and persona"
    )
    parser.add_argument("--profile", default="legacy-2016")
    parser.add_argument("--persona", default="default")
    parser.add_argument("--state", type=Path, required=True, help="new directory for the card's state")
    parser.set_defaults(func=_personalise)


def _personalise(args: argparse.Namespace) -> int:
    from mynacard.emulator.issuance.personalise import open_card
    from mynacard.emulator.store.state import StateStore

    if StateStore(args.state).exists():
        print(f"mynacard: {args.state} already holds a card", file=sys.stderr)
        return 2
    card = open_card(args.profile, args.persona, args.state)
    print(f"personalised {card.name} for persona {args.persona!r} in {args.state}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mynacard",
        description="A software My Number card (マイナンバーカード) and a reader test harness.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo.add_parser(subparsers)
    emulate.add_parser(subparsers)
    _add_personalise(subparsers)
    _add_listing(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    try:
        result: int = args.func(args)
    except (ValueError, OSError, RuntimeError) as exc:
        print(f"mynacard: {exc}", file=sys.stderr)
        return 1
    return result


if __name__ == "__main__":
    sys.exit(main())
