"""GET RESPONSE (``00 C0``) and MANAGE CHANNEL (``00 70``, only where the profile enables channels)."""

from __future__ import annotations

from mynacard.apdu.command import CommandApdu
from mynacard.apdu.status import SW
from mynacard.emulator.channel import Channel
from mynacard.emulator.commands.common import require_le, require_no_data, require_p1p2
from mynacard.emulator.context import CardContext, ResponseRemainder
from mynacard.emulator.errors import CardError


def get_response(card: CardContext, channel: Channel, cmd: CommandApdu) -> bytes:
    """The response announced by ``61 xx``; the card's one exit gives Ne bytes and ``61 xx`` for the rest."""
    require_p1p2(cmd, 0x00, 0x00)
    require_no_data(cmd)
    require_le(cmd)
    if not channel.pending:
        raise CardError(SW.CONDITIONS_OF_USE_NOT_SATISFIED, "no response data pending")
    remainder, channel.pending = ResponseRemainder(channel.pending), b""
    return remainder


def manage_channel(card: CardContext, channel: Channel, cmd: CommandApdu) -> bytes:
    """P1 = 00 opens (P2 = 00: the card picks and answers the number), P1 = 80 closes channel P2."""
    require_no_data(cmd)
    channels = card.behaviour.logical_channels
    if cmd.p1 == 0x00:
        if cmd.p2 == 0x00:
            require_le(cmd)
            free = next((n for n in range(1, channels) if card.channel(n) is None), None)
            if free is None:
                raise CardError(SW.FUNCTION_NOT_SUPPORTED, "no free logical channel")
            card.open_channel(free)
            return bytes((free,))
        if not 1 <= cmd.p2 < channels or card.channel(cmd.p2) is not None:
            raise CardError(SW.INCORRECT_P1_P2, f"channel {cmd.p2} cannot be opened")
        card.open_channel(cmd.p2)
        return b""
    if cmd.p1 == 0x80:
        if not 1 <= cmd.p2 < channels or card.channel(cmd.p2) is None:
            raise CardError(SW.INCORRECT_P1_P2, f"channel {cmd.p2} is not open")
        card.close_channel(cmd.p2)
        return b""
    raise CardError(SW.INCORRECT_P1_P2, "P1 must be 00 (open) or 80 (close)")
