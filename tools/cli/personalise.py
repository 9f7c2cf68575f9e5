"""``mynacard personalise``: make a card's state directory from a profile and a TEST persona (個人化)."""

from __future__ import annotations

import argparse
from pathlib import Path

from mynacard.tools.cli.exits import CliError, Exit


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "personalise", help="make a card's state directory from a profile and persona"
    )
    parser.add_argument("--profile", default="legacy-2016", help="card profile (default: %(default)s)")
    parser.add_argument("--persona", default="default", help="TEST persona (default: %(default)s)")
    parser.add_argument("--state", type=Path, required=True, help="new directory for the card's state")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mynacard.emulator.issuance.personalise import open_card
    from mynacard.emulator.store.state import StateStore

    if StateStore(args.state).exists():
        raise CliError(f"{args.state} already holds a card")
    card = open_card(args.profile, args.persona, args.state)
    print(f"personalised {card.name} for persona {args.persona!r} in {args.state}")
    return Exit.OK
