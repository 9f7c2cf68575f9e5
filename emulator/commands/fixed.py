"""Commands the card answers only with a status word, from profile data (e.g. ``80 FC`` → ``67 00``).

The official JPKI software uses a few proprietary commands that no open client sends; the profile
records what the card answers to them where a source shows it, so a probe sees the card's status word
instead of ``6D 00``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

from mynacard.apdu.command import CommandApdu
from mynacard.apdu.status import SW
from mynacard.emulator.channel import Channel
from mynacard.emulator.errors import CardError

if TYPE_CHECKING:
    from mynacard.emulator.card import Card, Handler, StatusCommand


def status_handlers(commands: list[StatusCommand]) -> dict[tuple[bool, int], Handler]:
    """One handler per (class, INS), answering as the entry for the current applet says."""
    grouped: dict[tuple[bool, int], list[StatusCommand]] = defaultdict(list)
    for command in commands:
        grouped[(command.proprietary, command.ins)].append(command)
    return {key: _answer_with(entries) for key, entries in grouped.items()}


def _answer_with(entries: list[StatusCommand]) -> Handler:
    def answer(card: Card, channel: Channel, cmd: CommandApdu) -> bytes:
        applet = channel.applet.id if channel.applet is not None else ""
        for entry in entries:
            if not entry.applets or applet in entry.applets:
                raise CardError(entry.sw, f"INS {cmd.ins:02X} answered from the profile")
        raise CardError(SW.INS_NOT_SUPPORTED, f"INS {cmd.ins:02X} is not supported here")

    return answer
