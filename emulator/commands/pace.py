"""PACE on the card: MSE:Set AT (``00 22 C1 A4``) and GENERAL AUTHENTICATE (``00/10 86 00 00``).

ICAO Doc 9303-11 §4.4, BSI TR-03110-3; the My Number card's use is ASSUMED (nextgen-2026 §4). The password
a reference names is a credential of the profile (``pace_reference``): 照合番号B as the CAN (``02``), the
4-digit PIN (``03``), 照合番号A (``81``). A completed run grants that credential, exactly as a VERIFY
would, and starts secure messaging; a wrong password (the terminal's token does not verify) costs a try
of that credential, taken before the answer, and answers ``63 Cx`` like a wrong VERIFY.
"""

from __future__ import annotations

from mynacard.apdu.command import ClassByte, CommandApdu
from mynacard.apdu.sm import MseSetAt, PaceAuthenticationError, PaceChip, PaceError
from mynacard.apdu.status import SW
from mynacard.emulator.channel import Channel
from mynacard.emulator.commands.common import require_p1p2
from mynacard.emulator.commands.verification import counter_status, require_usable
from mynacard.emulator.context import CardContext
from mynacard.emulator.errors import CardError

P1_SET_AT = 0xC1
P2_AUTHENTICATION_TEMPLATE = 0xA4


def mse_set_at(card: CardContext, channel: Channel, cmd: CommandApdu) -> bytes:
    """Start a PACE run with the protocol, password and domain parameters the terminal names."""
    require_p1p2(cmd, P1_SET_AT, P2_AUTHENTICATION_TEMPLATE)
    channel.pace = None
    try:
        mse = MseSetAt.from_data(cmd.data)
    except PaceError as error:
        raise CardError(error.sw, str(error)) from None
    offered = [i for i in card.pace_infos if i.protocol == mse.protocol]
    if mse.parameter_id is not None:
        offered = [i for i in offered if i.parameter_id == mse.parameter_id]
    if not offered:
        raise CardError(SW.WRONG_DATA, "protocol or domain parameters not offered in EF.CardAccess")
    credential = card.filesystem.pace_credential(mse.password)
    if credential is None:
        raise CardError(SW.DATA_NOT_FOUND, f"password reference {mse.password:02X} names no password")
    credential.refresh()
    require_usable(card, credential)
    info = offered[0]
    channel.pace = PaceChip(info.protocol, info.parameters, credential.pace_password())
    channel.pace_credential = credential
    return b""


def general_authenticate(card: CardContext, channel: Channel, cmd: CommandApdu) -> bytes:
    """One step of the run: steps 1–3 come chained (CLA ``10``), step 4 unchained, then SM starts."""
    require_p1p2(cmd, 0x00, 0x00)
    chip = channel.pace
    if chip is None:
        raise CardError(SW.CONDITIONS_OF_USE_NOT_SATISFIED, "no PACE run: MSE:Set AT first")
    if ClassByte(cmd.cla).chaining == chip.final_step_due:
        channel.pace = None
        raise CardError(SW.CONDITIONS_OF_USE_NOT_SATISFIED, "steps 1-3 are chained, step 4 ends the chain")
    if not chip.final_step_due:
        return _step(channel, chip, cmd.data)
    credential = channel.pace_credential
    assert credential is not None  # set with channel.pace
    answer = b""

    def token_verifies() -> bool:
        nonlocal answer
        try:
            answer = chip.respond(cmd.data)
        except PaceAuthenticationError:
            return False
        return True

    try:
        verified = credential.attempt(token_verifies)
    except PaceError as error:
        channel.pace = None
        raise CardError(error.sw, str(error)) from None
    channel.pace = None
    if not verified:
        channel.security.revoke(credential.ref)
        raise CardError(counter_status(credential), f"{credential.id}: wrong PACE password")
    channel.security.grant(credential.ref)
    channel.sm = chip.secure_messaging()
    channel.security.secure_messaging = True
    return answer


def _step(channel: Channel, chip: PaceChip, data: bytes) -> bytes:
    try:
        return chip.respond(data)
    except PaceError as error:
        channel.pace = None
        raise CardError(error.sw, str(error)) from None
