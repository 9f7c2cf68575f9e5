"""``mynacard apdu R HEX...``: send command APDUs one-shot, as ``opensc-tool -s`` does.

Each command is printed as sent (``>``), then its answer (``<``): the data in hex and the status word
with its meaning. A command that can carry a secret (VERIFY, CHANGE REFERENCE DATA, ...) is shown masked
from byte 5 on, as every trace masks it (``mynacard.apdu.trace``); a malformed argument is refused
without echoing it, since it may hold a PIN. Every argument is checked before the first is sent. The
exit status is 1 when any answer is an error (SW1 64–6F, ISO 7816-4 §5.6), 0 otherwise (normal and
warning answers).
"""

from __future__ import annotations

import argparse
import json
import string
from dataclasses import dataclass

from mynacard.apdu.readers.base import Reader
from mynacard.apdu.status import describe
from mynacard.apdu.trace import HEADER_LENGTH, Exchange
from mynacard.tools.cli.exits import CliError, Exit
from mynacard.tools.cli.readers import add_reader_arguments, opened_reader

_SEPARATORS = " :\t"
_ERROR_SW1 = range(0x64, 0x70)
"""Execution and checking errors (ISO 7816-4 §5.6); 90 00, 61xx, 62xx and 63xx are not failures."""


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "apdu", help="send APDUs one-shot and print each answer with its status word (secrets masked)"
    )
    add_reader_arguments(parser)
    parser.add_argument(
        "commands",
        nargs="+",
        metavar="HEX",
        help="one command APDU each, e.g. 00A4040C0AD392F000260100000001 or '00 A4 04 0C ...' or 00:A4:…",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON document instead")
    parser.set_defaults(func=run)
    return parser


def parse_hex_apdu(text: str) -> bytes:
    """Hex digits, bytes optionally apart by spaces or colons; ``ValueError`` says what is wrong but never
    repeats the text, which may hold a PIN."""
    digits = "".join(c for c in text if c not in _SEPARATORS)
    if any(c not in string.hexdigits for c in digits):
        raise ValueError("not hex (digits 0-9 A-F, spaces or colons between bytes)")
    if len(digits) % 2:
        raise ValueError(f"an odd number of hex digits ({len(digits)})")
    command = bytes.fromhex(digits)
    if len(command) < HEADER_LENGTH:
        raise ValueError(
            f"a command APDU has at least {HEADER_LENGTH} bytes (CLA INS P1 P2), got {len(command)}"
        )
    return command


def parse_command(text: str, number: int) -> bytes:
    """One argument as APDU bytes; a usage error names the argument by its number only."""
    try:
        return parse_hex_apdu(text)
    except ValueError as exc:
        raise CliError(f"APDU #{number}: {exc}") from None


@dataclass(frozen=True, slots=True)
class Answered:
    """One command sent and its answer, the command masked as a trace shows it."""

    exchange: Exchange

    @property
    def sw(self) -> int:
        return self.exchange.response[-2] << 8 | self.exchange.response[-1]

    @property
    def failed(self) -> bool:
        return self.sw >> 8 in _ERROR_SW1

    def to_json(self) -> dict[str, object]:
        return {
            "command": self.exchange.command_text(),
            "masked": self.exchange.masked,
            "data": self.exchange.response[:-2].hex(" ").upper(),
            "sw": f"{self.sw:04X}",
            "status": describe(self.sw),
        }


def send(reader: Reader, command: bytes) -> Answered:
    response = reader.transmit(command)
    return Answered(Exchange.record(command, response.to_bytes()))


def run(args: argparse.Namespace) -> int:
    commands = [parse_command(text, number) for number, text in enumerate(args.commands, start=1)]
    answers: list[Answered] = []
    with opened_reader(args) as opened:
        if not (args.json or args.quiet):
            print(f"reader {opened.reader.name}: ATR {opened.atr.hex(' ').upper()}")
        for command in commands:
            answered = send(opened.reader, command)
            answers.append(answered)
            if not args.json:
                print(answered.exchange.response_text() if args.quiet else answered.exchange.format())
        if args.json:
            document = {
                "reader": opened.reader.name,
                "atr": opened.atr.hex(" ").upper(),
                "exchanges": [a.to_json() for a in answers],
            }
            print(json.dumps(document, ensure_ascii=False, indent=2))
    return Exit.FAILED if any(a.failed for a in answers) else Exit.OK
