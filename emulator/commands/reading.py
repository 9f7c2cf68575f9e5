"""READ BINARY (``00 B0``) and READ RECORD (``00 B2``): the only ways file content leaves the card."""

from __future__ import annotations

from mynacard.apdu.command import CommandApdu
from mynacard.apdu.status import SW
from mynacard.emulator.channel import Channel
from mynacard.emulator.commands.common import current_ef, node_by_sfi, require_le, require_no_data
from mynacard.emulator.context import CardContext
from mynacard.emulator.errors import CardError
from mynacard.emulator.filesystem import Node, RecordEF, TransparentEF
from mynacard.emulator.security import check_access


def read_binary(card: CardContext, channel: Channel, cmd: CommandApdu) -> bytes:
    """P1 b8=0: 15-bit offset in the current EF; P1 = 100x xxxx: SFI in P1, 8-bit offset in P2."""
    require_no_data(cmd)
    require_le(cmd)
    if cmd.p1 & 0x80:
        if cmd.p1 & 0x60:
            raise CardError(SW.INCORRECT_P1_P2, f"P1={cmd.p1:02X} is neither an offset nor an SFI")
        node, offset = node_by_sfi(channel, cmd.p1 & 0x1F), cmd.p2
    else:
        node, offset = current_ef(channel), (cmd.p1 << 8) | cmd.p2
    ef = _transparent(node)
    check_access(ef.read, channel.security)
    content = ef.content
    if offset >= len(content):
        raise CardError(SW.WRONG_P1_P2, f"offset {offset} is at or past the end ({len(content)} bytes)")
    chunk = content[offset : offset + cmd.ne]
    if len(chunk) < cmd.ne and card.behaviour.read_past_end == "end_of_file_warning":
        raise CardError(SW.END_OF_FILE, "end of file", data=chunk)
    return chunk


def _transparent(node: Node) -> TransparentEF:
    if not isinstance(node, TransparentEF):
        raise CardError(SW.COMMAND_INCOMPATIBLE_WITH_FILE, "not a transparent EF")
    return node


_ONE_RECORD = 0b100
_FROM_RECORD_TO_LAST = 0b101


def read_record(card: CardContext, channel: Channel, cmd: CommandApdu) -> bytes:
    """P1 = record number; P2 = SFI << 3 | 100 (that record) or 101 (that record to the last)."""
    require_no_data(cmd)
    require_le(cmd)
    sfi, mode = cmd.p2 >> 3, cmd.p2 & 0x07
    if mode not in (_ONE_RECORD, _FROM_RECORD_TO_LAST) or sfi == 0x1F:
        raise CardError(SW.INCORRECT_P1_P2, f"P2={cmd.p2:02X} is not supported")
    node = node_by_sfi(channel, sfi) if sfi else current_ef(channel)
    if not isinstance(node, RecordEF):
        raise CardError(SW.COMMAND_INCOMPATIBLE_WITH_FILE, "not a record EF")
    check_access(node.read, channel.security)
    if not 1 <= cmd.p1 <= len(node.records):
        raise CardError(SW.RECORD_NOT_FOUND, f"no record {cmd.p1}")
    if mode == _ONE_RECORD:
        return node.records[cmd.p1 - 1]
    return b"".join(node.records[cmd.p1 - 1 :])
