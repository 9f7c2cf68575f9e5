"""``mynacard shell R``: an interactive APDU shell on any reader (the commands: ``shell_commands``).

On a terminal it runs on prompt_toolkit (``pip install 'mynacard[shell]'``): line editing, and a history
kept in ``$XDG_STATE_HOME/mynacard/shell_history`` (``~/.local/state/...``; ``--history FILE`` elsewhere,
``--no-history`` in memory only) with every secret masked. ``verify`` asks for the value without echo.
When input is not a terminal the shell reads one line per command, and the line after a ``verify`` as
its value; nothing is kept then.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Protocol

from mynacard.tools.cli.exits import CliError, Exit
from mynacard.tools.cli.readers import add_reader_arguments, opened_reader
from mynacard.tools.cli.shell_commands import ShellSession

_INSTALL_HINT = "mynacard shell needs prompt_toolkit on a terminal: pip install 'mynacard[shell]'"


class Console(Protocol):
    def read_command(self, prompt: str) -> str | None: ...

    def read_secret(self, prompt: str) -> str | None: ...


class LineConsole:
    """Input that is not a terminal: one command per line, no history."""

    def read_command(self, prompt: str) -> str | None:
        print(prompt, end="", flush=True)
        line = sys.stdin.readline()
        if not line:
            print()
            return None
        return line.rstrip("\n")

    def read_secret(self, prompt: str) -> str | None:
        print(prompt, flush=True)
        line = sys.stdin.readline()
        return line.rstrip("\n") or None


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "shell", help="an interactive APDU shell: hex or named commands, decoded answers, secrets masked"
    )
    add_reader_arguments(parser)
    history = parser.add_mutually_exclusive_group()
    history.add_argument("--history", type=Path, help=f"the history file (default: {default_history_file()})")
    history.add_argument("--no-history", action="store_true", help="keep the history in memory only")
    parser.set_defaults(func=run)
    return parser


def default_history_file() -> Path:
    """``$XDG_STATE_HOME/mynacard/shell_history``, ``~/.local/state/mynacard/shell_history`` by default."""
    state_home = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state_home) / "mynacard" / "shell_history"


def open_console(args: argparse.Namespace) -> Console:
    """prompt_toolkit on a terminal, else plain lines."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        return LineConsole()
    try:
        from mynacard.tools.cli.shell_terminal import TerminalConsole
    except ImportError:
        raise CliError(_INSTALL_HINT) from None
    if args.no_history:
        return TerminalConsole(None)
    history_file: Path = args.history or default_history_file()
    history_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    return TerminalConsole(history_file)


def run(args: argparse.Namespace) -> int:
    console = open_console(args)
    with opened_reader(args) as opened:
        session = ShellSession(opened.reader, opened.profile, opened.atr, console.read_secret)
        if not args.quiet:
            print(f"{opened.reader.name} ({opened.profile.name}): ATR {opened.atr.hex(' ').upper()}")
            print("type help for the commands, quit to leave")
        while (line := console.read_command(session.prompt())) is not None:
            if not session.execute(line):
                break
    return Exit.OK
