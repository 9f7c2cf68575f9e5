"""VERIFY (``00 20``), CHANGE REFERENCE DATA (``00 24``) and CHANGE KEY (``80 32``): 照合 and 暗証番号変更."""

from __future__ import annotations

from mynacard.apdu.command import Case, CommandApdu
from mynacard.apdu.status import SW, counter_sw
from mynacard.emulator.channel import Channel
from mynacard.emulator.commands.common import current_applet, sfi_lookup
from mynacard.emulator.context import CardContext
from mynacard.emulator.credentials import Credential
from mynacard.emulator.errors import CardError
from mynacard.emulator.security import check_access


def credential_for(channel: Channel, p2: int) -> Credential:
    """P2 = 80: the current EF; P2 = 80 | SFI: the credential with that short identifier."""
    if p2 == 0x80:
        node = channel.ef
        if node is None:
            raise CardError(SW.COMMAND_NOT_ALLOWED_NO_CURRENT_EF, "no current EF")
    elif 0x81 <= p2 <= 0x9E:
        node = sfi_lookup(channel, current_applet(channel, SW.DATA_NOT_FOUND), p2 & 0x1F)
    else:
        raise CardError(SW.INCORRECT_P1_P2, f"P2={p2:02X} names no reference data")
    if not isinstance(node, Credential):
        raise CardError(SW.DATA_NOT_FOUND, "the referenced EF holds no reference data")
    return node


def counter_status(credential: Credential) -> int:
    """``63 Cx`` with the tries left, or ``63 00`` for a credential without a retry limit."""
    if credential.max_tries is None:
        return SW.NO_RETRY_LIMIT
    return counter_sw(credential.state.tries_left)


def verify(card: CardContext, channel: Channel, cmd: CommandApdu) -> bytes:
    if cmd.p1 != 0x00:
        raise CardError(SW.INCORRECT_P1_P2, "P1 must be 00")
    credential = credential_for(channel, cmd.p2)
    credential.refresh()
    if cmd.case is Case.ONE:
        return _counter_query(card, channel, credential)
    if cmd.case is not Case.THREE:
        raise CardError(SW.WRONG_LENGTH, "VERIFY has no Le")
    require_usable(card, credential)
    if not credential.format.accepts(cmd.data) and card.behaviour.format_violation == "wrong_data":
        raise CardError(SW.WRONG_DATA, "value outside the credential's format")
    if credential.compare(cmd.data):
        channel.security.grant(credential.ref)
        return b""
    channel.security.revoke(credential.ref)
    raise CardError(counter_status(credential), f"{credential.id}: wrong value")


def _counter_query(card: CardContext, channel: Channel, credential: Credential) -> bytes:
    """The empty VERIFY: reports the counter and uses no try (JICSAP 6.4.9(5))."""
    if credential.blocked:
        raise CardError(counter_sw(0), f"{credential.id} is blocked")
    if not credential.is_set:
        raise CardError(card.behaviour.unset_reference_data_sw, f"{credential.id} is not set")
    if channel.security.has_verified(credential.ref) and card.behaviour.empty_verify_when_verified == "ok":
        return b""
    raise CardError(counter_status(credential), f"{credential.id}: counter query")


def require_usable(card: CardContext, credential: Credential) -> None:
    """Blocked: ``69 84``; never set (a PUK before the holder sets one): the profile's word."""
    if credential.blocked:
        raise CardError(SW.REFERENCE_DATA_NOT_USABLE, f"{credential.id} is blocked")
    if not credential.is_set:
        raise CardError(card.behaviour.unset_reference_data_sw, f"{credential.id} is not set")


def change_reference_data(card: CardContext, channel: Channel, cmd: CommandApdu) -> bytes:
    """P1 = 01: new value only, after the credential (or its change rule) was verified; P1 = 00: old ‖ new.

    A credential that was never set (a PUK) can only be set, with P1 = 01 under its change rule.
    """
    if cmd.p1 not in (0x00, 0x01):
        raise CardError(SW.INCORRECT_P1_P2, "P1 must be 00 or 01")
    credential = _credential_to_change(channel, cmd)
    if credential.blocked:
        raise CardError(SW.REFERENCE_DATA_NOT_USABLE, f"{credential.id} is blocked")
    if cmd.p1 == 0x00:
        require_usable(card, credential)
        old, new = _split_old_new(credential, cmd.data)
        _require_format(credential, new)
        _check_old_value(channel, credential, old)
        credential.set_value(new)
        return b""
    check_access(credential.change, channel.security)
    if credential.is_set and credential.policy.set_without_old == "while_unset":
        raise CardError(card.behaviour.reset_refused_sw, f"{credential.id} is set; change it with old ‖ new")
    store_new_value(credential, cmd.data)
    return b""


def change_key(card: CardContext, channel: Channel, cmd: CommandApdu) -> bytes:
    """CHANGE KEY ``80 32 00 80``: the 共通カードAP / 住基AP way to set a new PIN after VERIFY."""
    if cmd.p1 != 0x00:
        raise CardError(SW.INCORRECT_P1_P2, "P1 must be 00")
    credential = _credential_to_change(channel, cmd)
    require_usable(card, credential)
    check_access(credential.change, channel.security)
    store_new_value(credential, cmd.data)
    return b""


def _credential_to_change(channel: Channel, cmd: CommandApdu) -> Credential:
    if cmd.case is not Case.THREE:
        raise CardError(SW.WRONG_LENGTH, "a new value is sent as data, without Le")
    credential = credential_for(channel, cmd.p2)
    credential.refresh()
    return credential


def _require_format(credential: Credential, value: bytes) -> None:
    """A new value outside the format is refused before anything is counted or written (``6A 80``)."""
    if not credential.format.accepts(value):
        raise CardError(SW.WRONG_DATA, "the new value is outside the credential's format")


def store_new_value(credential: Credential, new: bytes) -> None:
    _require_format(credential, new)
    credential.set_value(new)


def _split_old_new(credential: Credential, data: bytes) -> tuple[bytes, bytes]:
    """``old ‖ new``: by the fixed length of the format, or as two equal halves where the profile says so."""
    fmt = credential.format
    if fmt.min_length == fmt.max_length and len(data) == 2 * fmt.max_length:
        size = fmt.max_length
    elif credential.policy.old_new_split == "equal_halves" and len(data) % 2 == 0:
        size = len(data) // 2
    else:
        raise CardError(SW.WRONG_DATA, "old and new values cannot be told apart")
    return data[:size], data[size:]


def _check_old_value(channel: Channel, credential: Credential, old: bytes) -> None:
    if not credential.compare(old):
        channel.security.revoke(credential.ref)
        raise CardError(counter_status(credential), f"{credential.id}: wrong current value")
