"""Small checks several handlers share: parameters, current applet and EF, lookups by SFI."""

from __future__ import annotations

from mynacard.apdu.command import Case, CommandApdu
from mynacard.apdu.status import SW
from mynacard.emulator.channel import Channel
from mynacard.emulator.errors import CardError
from mynacard.emulator.filesystem import Applet, Node


def require_p1p2(cmd: CommandApdu, p1: int, p2: int) -> None:
    if cmd.p1 != p1 or cmd.p2 != p2:
        raise CardError(SW.INCORRECT_P1_P2, f"P1-P2 must be {p1:02X} {p2:02X}")


def require_no_data(cmd: CommandApdu) -> None:
    if cmd.data:
        raise CardError(SW.WRONG_LENGTH, "this command takes no data field")


def require_le(cmd: CommandApdu) -> None:
    if cmd.case not in (Case.TWO, Case.FOUR):
        raise CardError(SW.WRONG_LENGTH, "this command needs Le")


def current_applet(channel: Channel, missing: SW = SW.FILE_NOT_FOUND) -> Applet:
    """The selected application; at MF level there is none, and the answer is ``missing``."""
    applet = channel.applet
    if applet is None or applet.is_default:
        raise CardError(missing, "no application is selected")
    return applet


def current_ef(channel: Channel) -> Node:
    if channel.ef is None:
        raise CardError(SW.COMMAND_NOT_ALLOWED_NO_CURRENT_EF, "no current EF")
    return channel.ef


def node_by_fid(channel: Channel, applet: Applet, fid: int) -> Node:
    """The EF ``fid`` of ``applet``. Selected through a legacy alias, only today's FIDs of the alias exist,
    each mapped to the applet's."""
    node = _through_alias(channel, applet, fid) if channel.alias is not None else applet.nodes.get(fid)
    if node is None:
        raise CardError(SW.FILE_NOT_FOUND, f"no EF {fid:04X}")
    return node


def sfi_lookup(channel: Channel, applet: Applet, sfi: int) -> Node | None:
    """The node with short EF identifier ``sfi``; through a legacy alias, today's SFI (the low byte of
    today's FID) maps like the FID."""
    if channel.alias is not None:
        return _through_alias(channel, applet, sfi)
    return applet.by_sfi.get(sfi)


def _through_alias(channel: Channel, applet: Applet, old_fid: int) -> Node | None:
    assert channel.alias is not None
    new_fid = channel.alias.fid_map.get(old_fid)
    return None if new_fid is None else applet.nodes.get(new_fid)


def node_by_sfi(channel: Channel, sfi: int) -> Node:
    """The EF with short EF identifier ``sfi`` in the current applet; it becomes the current EF."""
    node = sfi_lookup(channel, current_applet(channel), sfi)
    if node is None:
        raise CardError(SW.FILE_NOT_FOUND, f"no EF with SFI {sfi:02X}")
    channel.ef = node
    return node
