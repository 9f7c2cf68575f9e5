"""``mynacard``: the command line of the emulator and the reader test harness.

One module per subcommand, each with ``add_parser(subparsers)`` and a ``run(args) -> int``; the exit
codes are those of ``exits.Exit`` for every command.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import mynacard
from mynacard.tools.cli import (
    apdu,
    burden,
    capacity,
    demo,
    emulate,
    listing,
    matrix,
    migrate,
    personalise,
    shell,
    status,
    testing,
    trace,
)
from mynacard.tools.cli.exits import EPILOG, CliError, Exit

_INPUT_ERRORS = (ValueError, OSError, RuntimeError)
"""Bad profiles, personas and state directories (``ProfileError``, ``PersonaError``, ``StateError``, …)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mynacard",
        description="A software My Number card (マイナンバーカード) and a reader test harness.",
        epilog=EPILOG,
    )
    parser.add_argument("--version", action="version", version=f"mynacard {mynacard.__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    demo.add_parser(subparsers)
    emulate.add_parser(subparsers)
    personalise.add_parser(subparsers)
    listing.add_parser(subparsers)
    capacity.add_parser(subparsers)
    burden.add_parser(subparsers)
    matrix.add_parser(subparsers)
    migrate.add_parser(subparsers)
    trace.add_parser(subparsers)
    testing.add_parser(subparsers)
    apdu.add_parser(subparsers)
    status.add_parser(subparsers)
    shell.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return Exit.USAGE
    try:
        result: int = args.func(args)
    except CliError as exc:
        print(f"mynacard: {exc}", file=sys.stderr)
        return exc.code
    except _INPUT_ERRORS as exc:
        print(f"mynacard: {exc}", file=sys.stderr)
        return Exit.USAGE
    return result


if __name__ == "__main__":
    sys.exit(main())
