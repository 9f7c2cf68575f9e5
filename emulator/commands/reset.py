"""RESET RETRY COUNTER (``00 2C``): the PUK unblocks or resets a PIN (PUKによる暗証番号の初期化).

``P1 = 00``: data = PUK ‖ new value (the target's format fixes the new value's length); the target gets the
new value and a full counter. ``P1 = 01``: data = PUK; the target keeps its value and gets a full counter.
``P2 = 80 | SFI`` (or ``80``: the current EF) names the target. Only the PUK the target's profile names may
reset it; a wrong PUK costs one of the PUK's own tries, and a used-up PUK is blocked for good.
"""

from __future__ import annotations

from mynacard.apdu.command import Case, CommandApdu
from mynacard.apdu.status import SW
from mynacard.emulator.channel import Channel
from mynacard.emulator.commands.common import current_applet
from mynacard.emulator.commands.verification import counter_status, credential_for, require_usable
from mynacard.emulator.context import CardContext
from mynacard.emulator.credentials import Credential
from mynacard.emulator.errors import CardError

_NEW_VALUE, _COUNTER_ONLY = 0x00, 0x01


def reset_retry_counter(card: CardContext, channel: Channel, cmd: CommandApdu) -> bytes:
    if cmd.p1 not in (_NEW_VALUE, _COUNTER_ONLY):
        raise CardError(SW.INCORRECT_P1_P2, "P1 must be 00 (PUK ‖ new value) or 01 (PUK only)")
    if cmd.case is not Case.THREE:
        raise CardError(SW.WRONG_LENGTH, "RESET RETRY COUNTER sends the PUK as data, without Le")
    target = credential_for(channel, cmd.p2)
    target.refresh()
    puk = _puk_for(card, channel, target)
    puk_value, new_value = _split(target, cmd)
    if not puk.format.accepts(puk_value):
        raise CardError(SW.WRONG_DATA, "the PUK is outside its format")
    if not puk.compare(puk_value):
        raise CardError(counter_status(puk), f"{puk.id}: wrong value")
    if new_value is None:
        target.unblock()
    else:
        target.set_value(new_value)
    channel.security.revoke(target.ref)
    return b""


def _puk_for(card: CardContext, channel: Channel, target: Credential) -> Credential:
    """The target's PUK, usable; refused before any try is counted."""
    reference = target.policy.reset_by
    if reference is None:
        raise CardError(card.behaviour.reset_refused_sw, f"nothing may reset {target.id}")
    if target.policy.reset_requires_blocked and not target.blocked:
        raise CardError(card.behaviour.reset_refused_sw, f"{target.id} is not blocked")
    applet = current_applet(channel, SW.DATA_NOT_FOUND)
    puk = next((c for c in applet.credentials() if c.ref == reference), None)
    if puk is None:
        raise CardError(SW.DATA_NOT_FOUND, f"{reference} is not in this applet")
    puk.refresh()
    require_usable(card, puk)
    return puk


def _split(target: Credential, cmd: CommandApdu) -> tuple[bytes, bytes | None]:
    """PUK and new value; the new value is checked against the target's format before the PUK is tried."""
    if cmd.p1 == _COUNTER_ONLY:
        return cmd.data, None
    fmt = target.format
    if fmt.min_length != fmt.max_length or len(cmd.data) <= fmt.max_length:
        raise CardError(SW.WRONG_DATA, "PUK and new value cannot be told apart")
    puk_value, new_value = cmd.data[: -fmt.max_length], cmd.data[-fmt.max_length :]
    if not fmt.accepts(new_value):
        raise CardError(SW.WRONG_DATA, "the new value is outside the credential's format")
    return puk_value, new_value
