"""SELECT (``00 A4``): applications by DF name, EFs by file identifier (選択)."""

from __future__ import annotations

from mynacard.apdu.command import CommandApdu
from mynacard.apdu.status import SW
from mynacard.apdu.tlv import ber_encode
from mynacard.emulator.channel import Channel
from mynacard.emulator.commands.common import node_by_fid
from mynacard.emulator.context import CardContext
from mynacard.emulator.errors import CardError
from mynacard.emulator.filesystem import Applet, AppletAlias, Node, RecordEF, TransparentEF

MF_FID = 0x3F00
_NO_RESPONSE_DATA = 0x0C
_OCCURRENCE_FIRST, _OCCURRENCE_NEXT = 0x00, 0x02


def select(card: CardContext, channel: Channel, cmd: CommandApdu) -> bytes:
    if cmd.p1 == 0x04:
        return _select_df_name(card, channel, cmd)
    if cmd.p1 == 0x02:
        return _select_ef(card, channel, cmd)
    if cmd.p1 == 0x00:
        return _select_mf_or_ef(card, channel, cmd)
    raise CardError(SW.INCORRECT_P1_P2, f"selection method P1={cmd.p1:02X} is not supported")


def _response_kind(p2: int) -> int:
    """P2 b4-b3: 00 FCI, 01 FCP, 11 no data (10 FMD is not supported)."""
    kind = p2 & 0x0C
    if p2 & 0xF0 or kind == 0x08:
        raise CardError(SW.INCORRECT_P1_P2, f"P2={p2:02X} is not supported")
    return kind


def _select_df_name(card: CardContext, channel: Channel, cmd: CommandApdu) -> bytes:
    kind = _response_kind(cmd.p2)
    occurrence = cmd.p2 & 0x03
    if occurrence not in (_OCCURRENCE_FIRST, _OCCURRENCE_NEXT):
        raise CardError(SW.INCORRECT_P1_P2, "only first and next occurrence are supported")
    if not cmd.data:
        raise CardError(SW.FILE_NOT_FOUND, "no DF name given and the card has no MF")
    after = channel.applet if occurrence == _OCCURRENCE_NEXT else None
    applet, alias = card.filesystem.find(cmd.data, after), None
    if applet is None and after is None and (found := card.filesystem.find_alias(cmd.data)) is not None:
        alias, applet = found
    if applet is None:
        raise CardError(SW.FILE_NOT_FOUND, "no application with this DF name")
    _enter(channel, applet, alias)
    return b"" if kind == _NO_RESPONSE_DATA else fci(applet, alias)


def _enter(channel: Channel, applet: Applet, alias: AppletAlias | None = None) -> None:
    if applet.select_clears_security:
        channel.security.forget_applet(applet.id)
    channel.applet = applet
    channel.alias = alias
    channel.ef = None


def fci(applet: Applet, alias: AppletAlias | None = None) -> bytes:
    """FCI of an application: the profile's, or ``6F { 84 DF-name }`` (the real card's is unknown); the DF
    name is the one it was selected by."""
    if applet.fci is not None:
        return applet.fci
    return ber_encode(0x6F, ber_encode(0x84, alias.aid if alias is not None else applet.aid))


def _select_ef(card: CardContext, channel: Channel, cmd: CommandApdu) -> bytes:
    kind = _response_kind(cmd.p2)
    if len(cmd.data) != 2:
        raise CardError(SW.WRONG_LENGTH, "a file identifier is 2 bytes")
    fid = int.from_bytes(cmd.data, "big")
    if channel.applet is None:
        raise CardError(SW.FILE_NOT_FOUND, "no DF is selected")
    channel.ef = node = node_by_fid(channel, channel.applet, fid)
    if kind == _NO_RESPONSE_DATA or card.behaviour.ef_fcp == "none":
        return b""
    return fcp(node)


def _select_mf_or_ef(card: CardContext, channel: Channel, cmd: CommandApdu) -> bytes:
    """``00 A4 00 00``: no MF here; with an application selected it is accepted and changes nothing."""
    if not cmd.data:
        _response_kind(cmd.p2)
        if channel.at_mf_level:
            raise CardError(SW.INCORRECT_P1_P2, "no application selected and no MF")
        return b""
    if cmd.data == MF_FID.to_bytes(2, "big"):
        raise CardError(SW.FILE_NOT_FOUND, "the card has no MF")
    return _select_ef(card, channel, cmd)


def fcp(node: Node) -> bytes:
    """The ``minimal`` FCP of an EF: size (transparent), descriptor, FID and SFI (the real one is UNKNOWN)."""
    body = b""
    if isinstance(node, TransparentEF):
        body += ber_encode(0x80, len(node.content).to_bytes(2, "big")) + ber_encode(0x82, b"\x01")
    elif isinstance(node, RecordEF):
        body += ber_encode(0x82, b"\x02")
    else:
        body += ber_encode(0x82, b"\x08")
    body += ber_encode(0x83, node.fid.to_bytes(2, "big"))
    if node.sfi is not None:
        body += ber_encode(0x88, bytes((node.sfi << 3,)))
    return ber_encode(0x62, body)
