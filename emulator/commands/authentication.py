"""EXTERNAL AUTHENTICATE (``00 82``): a terminal proves itself by signing the card's challenge (端末認証).

The terminal first asks GET CHALLENGE; it then sends ``00 82 00 <key reference> Lc <signature r ‖ s>`` over
that challenge. The challenge is used once, whatever the outcome. A signature that verifies with the
applet's terminal key counts in the channel's security state like a verified credential (the rule of the
住民票コード EF, for instance, names the terminal key next to the PIN).
"""

from __future__ import annotations

from mynacard.apdu.command import Case, CommandApdu
from mynacard.apdu.status import SW
from mynacard.emulator.channel import Channel
from mynacard.emulator.commands.common import current_applet
from mynacard.emulator.context import CardContext
from mynacard.emulator.crypto import ecdsa_verify_plain, hash_algorithm
from mynacard.emulator.errors import CardError


def external_authenticate(card: CardContext, channel: Channel, cmd: CommandApdu) -> bytes:
    if cmd.p1 != 0x00:
        raise CardError(SW.INCORRECT_P1_P2, "P1 must be 00 (the algorithm is the key's)")
    if cmd.case is not Case.THREE:
        raise CardError(SW.WRONG_LENGTH, "EXTERNAL AUTHENTICATE sends the signature as data, without Le")
    key = current_applet(channel, SW.DATA_NOT_FOUND).terminal_keys.get(cmd.p2)
    if key is None:
        raise CardError(SW.DATA_NOT_FOUND, f"no terminal key {cmd.p2:02X}")
    challenge, channel.challenge = channel.challenge, b""
    if not challenge:
        raise CardError(SW.CONDITIONS_OF_USE_NOT_SATISFIED, "no challenge: GET CHALLENGE first")
    if not ecdsa_verify_plain(key.public_key, cmd.data, challenge, hash_algorithm(key.hash)):
        channel.security.revoke(key.ref)
        raise CardError(card.behaviour.external_authenticate_failed_sw, f"{key.ref}: signature wrong")
    channel.security.grant(key.ref)
    return b""
