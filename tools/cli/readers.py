"""Open the reader a command names: ``virtual`` (an in-process card) or ``pcsc:NAME`` (a PC/SC reader).

The commands that talk to a card (``apdu``, ``status``, ``shell``) share these options and this one way
of opening a reader, so a bad reader is reported the same way everywhere: a reader that is not
``virtual`` or ``pcsc:NAME`` is one usage error line (exit 2), a PC/SC reader that does not exist or holds
no card is one line with exit 3, never a traceback. The card's profile says which applets hold which
credential: a virtual card's own (its state directory's copy), for a PC/SC card the one ``--profile``
names (default ``legacy-2016``).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mynacard.apdu.readers.base import Reader, ReaderError
from mynacard.apdu.readers.pcsc import PcscReader
from mynacard.apdu.readers.virtual import VirtualReader
from mynacard.apdu.trace import TRAFFIC, Exchange
from mynacard.apdu.tracefile import TraceWriter
from mynacard.emulator.issuance.personalise import DEFAULT_PERSONA, DEFAULT_PROFILE, open_card
from mynacard.emulator.issuance.profiles import load_profile
from mynacard.emulator.store.state import StateStore
from mynacard.profiles.schema import Profile, parse_profile
from mynacard.tools.cli.exits import CliError, Exit

VIRTUAL = "virtual"
PCSC_PREFIX = "pcsc:"
LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG", "TRAFFIC")

logger = logging.getLogger("mynacard.tools.cli")


def parse_reader(text: str) -> str | None:
    """``virtual`` (None) or ``pcsc:NAME`` (NAME: exact, or a unique prefix); else a usage error."""
    if text == VIRTUAL:
        return None
    name = text.removeprefix(PCSC_PREFIX)
    if text.startswith(PCSC_PREFIX) and name.strip():
        return name
    raise CliError(f"reader {text!r}: expected 'virtual' or 'pcsc:NAME'", Exit.USAGE)


@dataclass(frozen=True, slots=True)
class OpenReader:
    """A powered reader, its card's ATR and the profile that says what the card holds."""

    reader: Reader
    atr: bytes
    profile: Profile


def add_reader_arguments(parser: argparse.ArgumentParser) -> None:
    """The reader ``R`` and the options of every command that talks to a card."""
    parser.add_argument("reader", metavar="R", help="'virtual' (an in-process card) or 'pcsc:NAME'")
    parser.add_argument(
        "--profile",
        help=f"the card's profile (default: a virtual card's own, else {DEFAULT_PROFILE}); for pcsc: "
        "the layout the card is read with",
    )
    parser.add_argument("--persona", help=f"TEST persona of a new virtual card (default: {DEFAULT_PERSONA})")
    parser.add_argument(
        "--state", type=Path, help="virtual reader: the card's state directory (default: a card in memory)"
    )
    parser.add_argument(
        "--trace", type=Path, metavar="FILE", help="record the session as a trace, secrets masked (replay)"
    )
    add_logging_arguments(parser)


def add_logging_arguments(parser: argparse.ArgumentParser) -> None:
    quiet = parser.add_mutually_exclusive_group()
    quiet.add_argument(
        "--log-level",
        type=str.upper,
        choices=LOG_LEVELS,
        default="WARNING",
        help="log to stderr from this level on; TRAFFIC logs every exchange, secrets masked "
        "(default: %(default)s)",
    )
    quiet.add_argument(
        "--quiet",
        action="store_true",
        help="leave out the banner lines (apdu: print only the answers); log errors only",
    )


class _StderrHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is when a record comes (tests capture it)."""

    def emit(self, record: logging.LogRecord) -> None:
        print(self.format(record), file=sys.stderr)


_HANDLER = _StderrHandler()
_HANDLER.setFormatter(logging.Formatter("mynacard: %(levelname)s %(name)s: %(message)s"))


@contextlib.contextmanager
def logging_to_stderr(args: argparse.Namespace) -> Iterator[None]:
    """``mynacard.*`` logs to stderr at the level asked (``--quiet``: errors only) while the command runs;
    the logger is as it was afterwards (commands also run in process, from tests)."""
    root = logging.getLogger("mynacard")
    level = root.level
    root.addHandler(_HANDLER)
    root.setLevel(logging.ERROR if args.quiet else logging.getLevelName(args.log_level))
    try:
        yield
    finally:
        root.removeHandler(_HANDLER)
        root.setLevel(level)


def log_exchange(exchange: Exchange) -> None:
    """An observer: every exchange at level TRAFFIC, as the trace shows it (secrets masked)."""
    logger.log(TRAFFIC, "%s", exchange.format().replace("\n", " | "))


@contextlib.contextmanager
def opened_reader(args: argparse.Namespace) -> Iterator[OpenReader]:
    """The reader ``args.reader`` names, powered, with logging as asked; closed on the way out. A reader
    that fails later (a card pulled, pcscd gone) ends the command with one line and exit 1."""
    pcsc_name = parse_reader(args.reader)
    with logging_to_stderr(args):
        reader, profile = _virtual(args) if pcsc_name is None else _pcsc(args, pcsc_name)
        with _traced(reader, getattr(args, "trace", None)):
            try:
                yield _powered(reader, profile)
            except ReaderError as exc:
                raise CliError(f"{reader.name}: {exc}", Exit.FAILED) from None
            finally:
                with contextlib.suppress(ReaderError):
                    reader.close()


@contextlib.contextmanager
def _traced(reader: Reader, path: Path | None) -> Iterator[None]:
    """With ``--trace FILE``, every exchange of the session goes to FILE (``mynacard.apdu.tracefile``)."""
    if path is None:
        yield
        return
    try:
        out = path.open("w", encoding="utf-8")
    except OSError as exc:
        raise CliError(f"--trace {path}: {exc.strerror or exc}", Exit.USAGE) from None
    with out:
        reader.add_observer(TraceWriter(out, reader.name))
        yield


def _powered(reader: Reader, profile: Profile) -> OpenReader:
    reader.add_observer(log_exchange)
    try:
        atr = reader.power_on()
    except ReaderError as exc:
        raise CliError(f"{reader.name}: {exc}", Exit.NO_READER) from None
    return OpenReader(reader, atr, profile)


def _virtual(args: argparse.Namespace) -> tuple[Reader, Profile]:
    state: Path | None = args.state
    if state is not None and StateStore(state).exists():
        card = open_card(args.profile, args.persona, state)
        return VirtualReader(card), stored_profile(state)
    profile = args.profile or DEFAULT_PROFILE
    card = open_card(profile, args.persona or DEFAULT_PERSONA, state)
    return VirtualReader(card), load_profile(profile)


def stored_profile(state: Path) -> Profile:
    """The card's own copy of its profile, as the card reopens with it."""
    store = StateStore(state)
    return parse_profile(store.read(StateStore.PROFILE).decode("utf-8"), store.where(StateStore.PROFILE))


def _pcsc(args: argparse.Namespace, name: str) -> tuple[Reader, Profile]:
    for option in ("state", "persona"):
        if getattr(args, option) is not None:
            raise CliError(f"--{option} is for the virtual reader, not {args.reader!r}", Exit.USAGE)
    profile = load_profile(args.profile or DEFAULT_PROFILE)
    try:
        return PcscReader(name), profile
    except ReaderError as exc:
        raise CliError(str(exc), Exit.NO_READER) from None
