"""Commands the card answers only with a status word, from profile data (e.g. ``80 FC`` → ``67 00``).

The official JPKI software uses a few proprietary commands that no open client sends; the profile
records what the card answers to them where a source shows it, so a probe sees the card's status word
instead of ``6D 00``. Where an entry names applets, it answers only there (a per-applet override).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from mynacard.apdu.command import CommandApdu
from mynacard.emulator.channel import Channel
from mynacard.emulator.context import CardContext
from mynacard.emulator.errors import CardError


@dataclass(frozen=True, slots=True)
class StatusCommand:
    """A command answered only with a status word, in the listed applets (empty = everywhere)."""

    proprietary: bool
    ins: int
    sw: int
    applets: frozenset[str]


def answer_with(command: StatusCommand) -> Callable[[CardContext, Channel, CommandApdu], bytes]:
    """A handler that answers ``command``'s status word."""

    def answer(card: CardContext, channel: Channel, cmd: CommandApdu) -> bytes:
        raise CardError(command.sw, f"INS {cmd.ins:02X} answered from the profile")

    return answer
