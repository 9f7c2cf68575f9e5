"""``mynacard migrate``: per client and function, legacy-2016 → nextgen-2026 with aliases on and off: what
works, what breaks and why, what the client must change (``mynacard.tools.harness.migration``), from the
compatibility matrix measured now or read from ``mynacard matrix --json FILE``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mynacard.tools.cli.exits import CliError, Exit
from mynacard.tools.cli.matrix import reader_name
from mynacard.tools.harness import matrix as compat_matrix
from mynacard.tools.harness import migration
from mynacard.tools.harness.matrix import Matrix
from mynacard.tools.harness.migration_html import page


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "migrate",
        help="per client and function: what works on the next card (aliases on/off), what breaks, why",
    )
    parser.add_argument(
        "--reader", default="virtual", type=reader_name, help="virtual (default) or pcsc:NAME"
    )
    parser.add_argument(
        "--matrix",
        type=Path,
        metavar="FILE",
        help="use this `mynacard matrix --json` output instead of measuring",
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--html", type=Path, metavar="FILE", help="write a self-contained HTML page")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    measured = _load(args.matrix) if args.matrix else _measure(args.reader)
    entries = migration.report(measured)
    if args.json:
        print(json.dumps(migration.to_json(entries), ensure_ascii=False, indent=1))
    else:
        print(migration.text(entries), end="")
    if args.html is not None:
        try:
            args.html.write_text(page(entries) + "\n", encoding="utf-8")
        except OSError as exc:
            raise CliError(f"cannot write {args.html}: {exc.strerror}") from None
        print(f"wrote {args.html}", file=sys.stderr if args.json else sys.stdout)
    return Exit.OK


def _measure(reader: str) -> Matrix:
    def progress(profile: str) -> None:
        print(f"measuring {profile} …", file=sys.stderr, flush=True)

    return compat_matrix.measure_matrix(compat_matrix.default_profiles(), reader, progress=progress)


def _load(path: Path) -> Matrix:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Matrix.from_json(data)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CliError(f"{path}: not a `mynacard matrix --json` file ({exc})") from None
