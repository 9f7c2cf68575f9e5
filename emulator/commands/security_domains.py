"""GET STATUS (``80 F2``) of the card manager (カードマネージャ): the GlobalPlatform registry a reader sees.

GP Card Specification 2.3 §11.4: P1 ``80`` the ISD, ``40`` the applications and SSDs, ``20``/``10`` the load
files (none here: code is not modelled); P2 ``02`` the TLV format, an ``E3`` entry per item with ``4F`` AID,
``9F 70`` life cycle, ``C5`` privileges and ``CC`` the associated security domain. On a real card GET STATUS
needs the secure channel the issuer's keys open; the profile's ``get_status = "secure_channel"`` answers
``69 82`` (what a reader without those keys sees), ``open`` the registry. The entries are built once, when
the card is loaded, from the profile's ``[global_platform]``. An answer longer than a short Le gives the
entries that fit with ``63 10``; GET STATUS with P2 = 03 continues (GP's next occurrence).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mynacard.apdu.command import CommandApdu
from mynacard.apdu.status import SW
from mynacard.apdu.tlv import TlvError, ber_decode, ber_encode
from mynacard.emulator.channel import Channel
from mynacard.emulator.context import CardContext
from mynacard.emulator.errors import CardError

P1_ISD = 0x80
P1_APPLICATIONS = 0x40
P1_LOAD_FILES = (0x20, 0x10)
P2_TLV = 0x02
P2_NEXT = 0x01
SW_MORE_ENTRIES = SW.MORE_DATA_AVAILABLE
"""GP: more data available, fetched with GET STATUS P2 = 03 (next occurrence)."""


@dataclass(frozen=True, slots=True)
class RegistryEntry:
    """One line of the GP registry: an ISD, SSD or application."""

    aid: bytes
    lifecycle: int
    privileges: bytes
    domain: bytes
    """The AID of the security domain that holds it (the ISD's own for the ISD)."""
    is_isd: bool = False

    def encode(self) -> bytes:
        body = ber_encode(0x4F, self.aid) + ber_encode(0x9F70, bytes((self.lifecycle,)))
        body += ber_encode(0xC5, self.privileges) + ber_encode(0xCC, self.domain)
        return ber_encode(0xE3, body)


def _criteria(data: bytes) -> bytes:
    """The AID prefix of the search criteria ``4F L <prefix>`` (``4F 00``: every entry)."""
    try:
        tlv = ber_decode(data)
    except TlvError:
        raise CardError(SW.WRONG_DATA, "search criteria are not 4F L AID") from None
    if tlv.tag != 0x4F or tlv.end != len(data):
        raise CardError(SW.WRONG_DATA, "search criteria are not 4F L AID")
    return tlv.value


def get_status_handler(
    entries: Sequence[RegistryEntry], *, open_registry: bool
) -> Callable[[CardContext, Channel, CommandApdu], bytes]:
    """The ISD's GET STATUS over ``entries``."""

    sent: dict[int, int] = {}
    """Per channel (by identity): how many entries the last answer reached, for the next occurrence."""

    def get_status(card: CardContext, channel: Channel, cmd: CommandApdu) -> bytes:
        if not open_registry:
            raise CardError(SW.SECURITY_STATUS_NOT_SATISFIED, "GET STATUS needs the issuer's secure channel")
        if cmd.p2 not in (P2_TLV, P2_TLV | P2_NEXT):
            raise CardError(SW.INCORRECT_P1_P2, "only the TLV format (P2 = 02, next 03) is modelled")
        prefix = _criteria(cmd.data)
        if cmd.p1 in P1_LOAD_FILES:
            raise CardError(SW.DATA_NOT_FOUND, "no load files are registered")
        if cmd.p1 not in (P1_ISD, P1_APPLICATIONS):
            raise CardError(SW.INCORRECT_P1_P2, f"P1={cmd.p1:02X} names no registry subset")
        wanted = [e.encode() for e in entries if e.is_isd == (cmd.p1 == P1_ISD) and e.aid.startswith(prefix)]
        start = sent.get(id(channel), 0) if cmd.p2 & P2_NEXT else 0
        if not wanted[start:]:
            raise CardError(SW.DATA_NOT_FOUND, "no (further) registry entry matches")
        answer, count = _page(wanted[start:], min(cmd.ne or 256, 256) if not cmd.extended else cmd.ne)
        sent[id(channel)] = start + count
        if start + count < len(wanted):
            raise CardError(SW_MORE_ENTRIES, "more entries: GET STATUS with P2 = 03", data=answer)
        return answer

    return get_status


def _page(encoded: list[bytes], limit: int) -> tuple[bytes, int]:
    """As many whole entries as fit ``limit`` bytes (at least one)."""
    answer, count = b"", 0
    for entry in encoded:
        if count and len(answer) + len(entry) > limit:
            break
        answer, count = answer + entry, count + 1
    return answer, count
