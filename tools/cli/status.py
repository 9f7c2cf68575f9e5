"""``mynacard status R``: each credential's tries left, without spending any.

For every applet of the card's profile that holds credentials, the applet is selected by its AID and each
credential gets the empty VERIFY (``00 20 00 P2``, no data; ISO 7816-4 §11.5.6, JICSAP 6.4.9(5)): ``P2 =
80 | SFI`` when the credential has a short identifier, else ``80`` after SELECT EF. The answer is the
counter: ``63 Cx`` x tries left (``63 C0`` blocked), ``90 00`` already verified in this session (some cards
say so instead of the counter), ``69 83``/``69 84`` blocked, ``63 00`` no retry limit, the profile's
"not set" word (a PUK before the holder sets one). An applet that takes commands only under secure
messaging (the next card's 券面等AP) is not asked: its counters cannot be read in plain, and the table
says so rather than guess. Exit status 1 when a card answered something else (an applet missing, …).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from enum import StrEnum

from mynacard.apdu.applets.session import select_df_name
from mynacard.apdu.readers.base import Reader
from mynacard.apdu.status import SW, describe, tries_left
from mynacard.profiles.schema import AppletSpec, CredentialSpec, Profile, resolve_sfi
from mynacard.tools.cli.exits import Exit
from mynacard.tools.cli.readers import add_reader_arguments, opened_reader

_BLOCKED = frozenset({SW.AUTHENTICATION_METHOD_BLOCKED, SW.REFERENCE_DATA_NOT_USABLE})


class CounterState(StrEnum):
    """What the card said of one credential's counter."""

    TRIES = "tries"
    BLOCKED = "blocked"
    VERIFIED = "verified"
    NO_LIMIT = "no_limit"
    NOT_SET = "not_set"
    SECURE_MESSAGING = "secure_messaging"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class CredentialStatus:
    """One credential's counter as read from the card (``sw`` is None when it was not asked)."""

    applet: AppletSpec
    credential: CredentialSpec
    state: CounterState
    sw: int | None
    tries_left: int | None = None

    def describe(self) -> str:
        """``'2 of 3 tries left'``, ``'blocked (63 C0)'``, … for the table."""
        shown = f" ({self.sw >> 8:02X} {self.sw & 0xFF:02X})" if self.sw is not None else ""
        match self.state:
            case CounterState.TRIES:
                return f"{self.tries_left} of {self.credential.max_tries} tries left"
            case CounterState.BLOCKED:
                return f"blocked{shown}"
            case CounterState.VERIFIED:
                return f"verified in this session, counter not shown{shown}"
            case CounterState.NO_LIMIT:
                return f"no retry limit{shown}"
            case CounterState.NOT_SET:
                return f"not set{shown}"
            case CounterState.SECURE_MESSAGING:
                return "cannot be read in plain (secure messaging only)"
        assert self.sw is not None
        return f"card answered {describe(self.sw)}"

    def to_json(self) -> dict[str, object]:
        return {
            "applet": self.applet.id,
            "aid": self.applet.aid.hex(" ").upper(),
            "credential": self.credential.id,
            "fid": f"{self.credential.fid:04X}",
            "label": self.credential.label,
            "kind": self.credential.kind,
            "max_tries": self.credential.max_tries,
            "state": str(self.state),
            "tries_left": self.tries_left,
            "sw": None if self.sw is None else f"{self.sw:04X}",
        }


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "status", help="each credential's tries left, read without spending any"
    )
    add_reader_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of the table")
    parser.set_defaults(func=run)
    return parser


def counter_query(credential: CredentialSpec) -> list[bytes]:
    """The commands that ask for the counter: the empty VERIFY by SFI, else SELECT EF and ``P2 = 80``."""
    sfi = resolve_sfi(credential.sfi, credential.fid)
    if sfi is not None:
        return [bytes((0x00, 0x20, 0x00, 0x80 | sfi))]
    return [bytes.fromhex("00A4020C02") + credential.fid.to_bytes(2, "big"), bytes.fromhex("00200080")]


def query_credential(
    reader: Reader, applet: AppletSpec, credential: CredentialSpec, unset_sw: int
) -> CredentialStatus:
    """The counter of one credential of the applet that is selected now; uses no try."""
    *selects, verify = counter_query(credential)
    for command in selects:
        sw = reader.transmit(command).sw
        if sw != SW.OK:
            return _classify(applet, credential, sw, unset_sw)
    return _classify(applet, credential, reader.transmit(verify).sw, unset_sw)


def _classify(applet: AppletSpec, credential: CredentialSpec, sw: int, unset_sw: int) -> CredentialStatus:
    count = tries_left(sw)
    if count is not None:
        state = CounterState.TRIES if count else CounterState.BLOCKED
        return CredentialStatus(applet, credential, state, sw, count)
    state = {
        SW.OK: CounterState.VERIFIED,
        SW.NO_RETRY_LIMIT: CounterState.NO_LIMIT,
        SW.SECURITY_STATUS_NOT_SATISFIED: CounterState.SECURE_MESSAGING
        if applet.requires_secure_messaging
        else CounterState.ERROR,
        unset_sw: CounterState.NOT_SET,
    }.get(sw, CounterState.BLOCKED if sw in _BLOCKED else CounterState.ERROR)
    return CredentialStatus(applet, credential, state, sw)


def query_applet(reader: Reader, applet: AppletSpec, unset_sw: int) -> list[CredentialStatus]:
    """Select the applet and read each of its counters; an SM-only applet is not asked."""
    if applet.requires_secure_messaging:
        return [CredentialStatus(applet, c, CounterState.SECURE_MESSAGING, None) for c in applet.credentials]
    sw = reader.transmit(select_df_name(applet.aid)).sw
    if sw != SW.OK:
        return [CredentialStatus(applet, c, CounterState.ERROR, sw) for c in applet.credentials]
    return [query_credential(reader, applet, c, unset_sw) for c in applet.credentials]


def read_counters(reader: Reader, profile: Profile) -> list[CredentialStatus]:
    """Every credential of the profile, applet by applet, in the profile's order."""
    unset_sw = profile.behaviour.unset_reference_data_sw
    return [
        s for applet in profile.applets if applet.credentials for s in query_applet(reader, applet, unset_sw)
    ]


def table(statuses: list[CredentialStatus]) -> list[str]:
    """The human table: applet, FID, credential, what is left, label."""
    rows = [("applet", "FID", "credential", "tries left", "label")] + [
        (s.applet.id, f"{s.credential.fid:04X}", s.credential.id, s.describe(), s.credential.label)
        for s in statuses
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return [
        "  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[4]]) for row in rows
    ]


def run(args: argparse.Namespace) -> int:
    with opened_reader(args) as opened:
        statuses = read_counters(opened.reader, opened.profile)
        if args.json:
            document = {
                "reader": opened.reader.name,
                "profile": opened.profile.name,
                "credentials": [s.to_json() for s in statuses],
            }
            print(json.dumps(document, ensure_ascii=False, indent=2))
        else:
            if not args.quiet:
                print(f"reader {opened.reader.name}, profile {opened.profile.name}")
            print("\n".join(table(statuses)))
    return Exit.FAILED if any(s.state is CounterState.ERROR for s in statuses) else Exit.OK
