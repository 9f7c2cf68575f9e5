"""``mynacard emulate``: run a card on a vpcd slot, so every PC/SC application on the machine sees it.

pcscd must be running with vsmartcard's vpcd driver (Debian: ``pcscd``, ``vsmartcard-vpcd``); the card
connects to vpcd and reconnects by itself when pcscd restarts. SIGINT or SIGTERM stops it cleanly.

vpcd serves one card per slot: a second card's connection only waits in vpcd's backlog, so a slot that is
already served is refused at once (exit status 2), naming the process that serves it.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from mynacard.apdu.readers.base import SoftCard
from mynacard.apdu.readers.vpcd import PORT_BASE, VpcdBridge, reader_name, serve_until_signalled
from mynacard.apdu.trace import TRAFFIC
from mynacard.apdu.tracefile import TraceWriter
from mynacard.emulator.timing import with_timing
from mynacard.tools.cli.exits import CliError, Exit
from mynacard.tools.harness.pcsc import vpcd_slot_holders

if TYPE_CHECKING:
    from mynacard.emulator.card import Card


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``emulate`` on the CLI's subparsers; ``args.func(args)`` runs it and returns the exit code."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "emulate",
        help="run a card on vsmartcard's vpcd (pcscd), until Ctrl-C",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--profile", help="card profile (default: the card's own, or legacy-2016 for a new card)"
    )
    parser.add_argument(
        "--persona", help="TEST cardholder (default: the card's own, or default for a new card)"
    )
    parser.add_argument(
        "--state",
        type=Path,
        required=True,
        help="card state directory: personalised when empty, reopened otherwise",
    )
    parser.add_argument("--slot", type=int, default=0, help="vpcd slot; port = port base + slot (default: 0)")
    parser.add_argument("--host", default="127.0.0.1", help="where vpcd listens (default: %(default)s)")
    parser.add_argument(
        "--port-base", type=int, default=PORT_BASE, help="vpcd's slot-0 port (default: %(default)s)"
    )
    parser.add_argument(
        "-v", "--traffic", action="store_true", help="log every APDU exchange (PINs masked) to stderr"
    )
    parser.add_argument(
        "--trace", type=Path, metavar="FILE", help="record every exchange, secrets masked (mynacard replay)"
    )
    parser.add_argument(
        "--timing",
        action="store_true",
        help="answer as slowly as a real card: the profile's [timing] (bit rate, per-APDU and sign delays)",
    )
    parser.set_defaults(func=run)
    return parser


def configure_logging(traffic: bool) -> None:
    """Connection events always; APDU traffic (level TRAFFIC, below DEBUG) only when asked."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    vpcd_log = logging.getLogger("mynacard.apdu.readers.vpcd")
    vpcd_log.addHandler(handler)
    vpcd_log.setLevel(TRAFFIC if traffic else logging.INFO)
    logging.getLogger("mynacard.emulator").addHandler(handler)


def occupied_slot_message(slot: int, host: str, port: int) -> str | None:
    """Why the slot cannot take this card (another process is connected to it), or None when it is free.

    The holders come from the kernel's TCP table (``vpcd_slot_holders`` says why not from a lock file).
    """
    holders = vpcd_slot_holders(host, port)
    if not holders:
        return None
    serving, *waiting = holders
    verb = "served by" if serving.accepted else "taken by"
    message = f"vpcd slot {slot} ({host}:{port}) is already {verb} {serving.describe()}"
    if waiting:
        message += "; waiting for it: " + "; ".join(holder.describe() for holder in waiting)
    return message + ". vpcd serves one card per slot: stop that process or choose another --slot"


def _choices(args: argparse.Namespace) -> tuple[str | None, str | None]:
    """Profile and persona: as given (checked against an existing card), else a new card's defaults."""
    from mynacard.emulator.issuance.personalise import DEFAULT_PERSONA, DEFAULT_PROFILE
    from mynacard.emulator.store.state import StateStore

    if StateStore(args.state).exists():
        return args.profile, args.persona
    return args.profile or DEFAULT_PROFILE, args.persona or DEFAULT_PERSONA


def run(args: argparse.Namespace) -> int:
    """Open (or personalise) the card, serve it on vpcd until a signal. Returns the exit code."""
    from mynacard.emulator.issuance.personalise import open_card

    configure_logging(args.traffic)
    port = args.port_base + args.slot
    occupied = occupied_slot_message(args.slot, args.host, port)
    if occupied is not None:
        print(f"mynacard emulate: {occupied}", file=sys.stderr)
        return Exit.USAGE
    try:
        card = open_card(*_choices(args), args.state)
    except (OSError, ValueError) as exc:
        print(f"mynacard emulate: cannot open the card in {args.state}: {exc}", file=sys.stderr)
        return Exit.USAGE
    bridge = VpcdBridge(_timed(card, args), slot=args.slot, host=args.host, port_base=args.port_base)
    trace = _open_trace(args.trace)
    if trace is not None:
        bridge.add_observer(TraceWriter(trace, reader_name(args.slot)))
    print(
        f"card {args.state} ({card.atr.hex(' ').upper()}) on vpcd {args.host}:{port}; "
        f"PC/SC reader: {reader_name(args.slot)}",
        flush=True,
    )
    try:
        serve_until_signalled([bridge])
    finally:
        if trace is not None:
            trace.close()
    return Exit.OK


def _timed(card: Card, args: argparse.Namespace) -> SoftCard:
    """The card, or the card answering at the pace of its profile's timing class (``--timing``)."""
    from mynacard.tools.cli.readers import stored_profile

    return with_timing(card, stored_profile(args.state).timing, force=args.timing)


def _open_trace(path: Path | None) -> TextIO | None:
    if path is None:
        return None
    try:
        return path.open("w", encoding="utf-8")
    except OSError as exc:
        raise CliError(f"--trace {path}: {exc.strerror or exc}") from exc
