"""GET DATA (``00 CA``): card-level data objects, answered at MF level (カード管理データ)."""

from __future__ import annotations

from mynacard.apdu.command import CommandApdu
from mynacard.apdu.status import SW
from mynacard.emulator.channel import Channel
from mynacard.emulator.commands.common import require_le, require_no_data
from mynacard.emulator.context import CardContext
from mynacard.emulator.errors import CardError


def get_data(card: CardContext, channel: Channel, cmd: CommandApdu) -> bytes:
    """P1-P2 is the tag (``00 42``, ``5F 51``); a missing object, or one out of scope, is ``6A 88``."""
    require_no_data(cmd)
    require_le(cmd)
    tag = cmd.p1 << 8 | cmd.p2
    obj = card.data_objects.get(tag)
    if obj is None or (obj.mf_only and not channel.at_mf_level):
        raise CardError(SW.DATA_NOT_FOUND, f"no data object {tag:04X} here")
    return obj.value
