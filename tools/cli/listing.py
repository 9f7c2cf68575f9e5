"""``mynacard profiles`` and ``mynacard personas``: what ships with the package."""

from __future__ import annotations

import argparse

from mynacard.tools.cli.exits import Exit


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("profiles", help="list the shipped card profiles")
    parser.set_defaults(func=run_profiles)
    parser = subparsers.add_parser("personas", help="list the shipped TEST personas")
    parser.set_defaults(func=run_personas)


def run_profiles(args: argparse.Namespace) -> int:
    from mynacard.emulator.issuance.profiles import load_profile
    from mynacard.profiles.schema import list_profiles

    for name in list_profiles():
        print(f"{name:16} {load_profile(name).profile.description}")
    return Exit.OK


def run_personas(args: argparse.Namespace) -> int:
    from mynacard.emulator.issuance.personas import list_personas, load_persona

    for name in list_personas():
        print(f"{name:20} {load_persona(name).label}")
    return Exit.OK
