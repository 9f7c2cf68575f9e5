"""``mynacard replay`` and ``mynacard script``: a recorded trace against a card, a ``scriptor`` script.

``replay TRACE --state DIR`` runs the trace (``mynacard.apdu.tracefile``; record one with ``demo --trace``)
against the card in ``DIR`` (the card that was recorded, or a copy: its keys and certificates are its own)
on the virtual reader and stops at the first answer that differs, printing both. A masked VERIFY gets its
value back from the TEST persona the card was made for (the credential it names, in the applet then
selected), so a session with PINs replays without a PIN ever being written down. ``script FILE`` runs a
pcsc-tools ``scriptor`` script on a fresh virtual card.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mynacard.apdu.readers.base import Reader
from mynacard.apdu.readers.virtual import VirtualReader
from mynacard.apdu.trace import Exchange
from mynacard.apdu.tracefile import Recorded, SecretFiller, read_script, read_trace, replay
from mynacard.emulator.card import Card
from mynacard.emulator.commands.verification import credential_for
from mynacard.emulator.errors import CardError
from mynacard.emulator.issuance.personalise import DEFAULT_PERSONA, DEFAULT_PROFILE, open_card
from mynacard.emulator.issuance.personas import Persona, load_persona
from mynacard.emulator.issuance.profiles import load_profile
from mynacard.emulator.store.documents import CardDocument
from mynacard.emulator.store.state import StateStore
from mynacard.tools.cli.exits import CliError, Exit

_VERIFY = 0x20


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    replay_parser = subparsers.add_parser(
        "replay", help="replay a recorded trace against a fresh card; stop at the first difference"
    )
    replay_parser.add_argument("trace", type=Path, help="a trace file (demo --trace, emulate --trace)")
    replay_parser.add_argument(
        "--state", type=Path, required=True, help="the card's state directory (the recorded card or a copy)"
    )
    replay_parser.set_defaults(func=run_replay)
    script = subparsers.add_parser("script", help="run a pcsc-tools scriptor script on a virtual card")
    script.add_argument("script", type=Path, help="hex APDUs one per line, # comments, reset, exit")
    script.add_argument("--profile", default=DEFAULT_PROFILE, help="default: %(default)s")
    script.add_argument("--persona", default=DEFAULT_PERSONA, help="default: %(default)s")
    script.set_defaults(func=run_script)


def run_replay(args: argparse.Namespace) -> int:
    exchanges = read_trace(args.trace)
    store = StateStore(args.state)
    if not store.exists():
        raise CliError(f"{args.state}: no card here (replay needs the recorded card's state directory)")
    card = open_card(None, None, args.state)
    made_for = store.read_document(StateStore.CARD, CardDocument).persona
    persona = load_persona(made_for or DEFAULT_PERSONA)
    reader = VirtualReader(card)
    reader.power_on()
    difference = replay(exchanges, lambda c: reader.transmit(c).to_bytes(), _filler(card, persona))
    if difference is not None:
        print(difference.describe())
        return Exit.FAILED
    print(f"{len(exchanges)} exchanges replayed on {card.name}: every answer identical")
    return Exit.OK


def run_script(args: argparse.Namespace) -> int:
    reader: Reader = VirtualReader(open_card(args.profile, args.persona, None))
    print(f"> power on: ATR {reader.power_on().hex(' ').upper()}")
    for step in read_script(args.script):
        if step.action == "exit":
            break
        if step.action == "reset":
            print(f"> reset: ATR {reader.reset().hex(' ').upper()}")
            continue
        exchange = Exchange.record(step.command, reader.transmit(step.command).to_bytes())
        print(exchange.format())
    return Exit.OK


def _filler(card: Card, persona: Persona) -> SecretFiller:
    """The secret of a masked VERIFY: the persona's value of the credential the command names now."""
    profile = load_profile(card.name)

    def fill(index: int, recorded: Recorded) -> bytes:
        command = recorded.command
        if command[1] != _VERIFY or recorded.mask is None:
            raise CliError(
                f"exchange #{index + 1}: only a masked VERIFY can be filled in, not INS {command[1]:02X}"
            )
        channel = card.channel(0)
        assert channel is not None
        try:
            credential = credential_for(channel, command[3])
        except CardError as exc:
            raise CliError(f"exchange #{index + 1}: the VERIFY names no credential ({exc})") from None
        spec = next(
            c
            for a in profile.applets
            if a.id == credential.ref.applet
            for c in a.credentials
            if c.id == credential.ref.credential
        )
        value = getattr(persona, spec.value.persona or "", None)
        if not isinstance(value, str):
            raise CliError(f"exchange #{index + 1}: {credential.id} has no value in persona {persona.id!r}")
        secret = value.encode("ascii")
        full = command[:4] + bytes((len(secret),)) + secret
        if len(full) != len(command):
            raise CliError(f"exchange #{index + 1}: the recorded VERIFY is not the persona's {credential.id}")
        return full

    return fill
