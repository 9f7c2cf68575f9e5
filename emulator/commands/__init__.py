"""Command handlers, one module per family, and the INS table the card dispatches on.

Every handler is ``handler(card, channel, command) -> response data`` and raises ``CardError`` to answer
with a status word. Handlers decode P1/P2; the file system only stores.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mynacard.emulator.commands import channels, data, fixed, reading, selection, signing, verification
from mynacard.profiles.schema import BehaviourSpec

if TYPE_CHECKING:
    from mynacard.emulator.card import Handler, StatusCommand

INTERINDUSTRY = False
PROPRIETARY = True


def handler_table(
    behaviour: BehaviourSpec, status_commands: list[StatusCommand]
) -> dict[tuple[bool, int], Handler]:
    """(proprietary class?, INS) → handler, for the commands this card answers."""
    table: dict[tuple[bool, int], Handler] = {
        (INTERINDUSTRY, 0xA4): selection.select,
        (INTERINDUSTRY, 0xB0): reading.read_binary,
        (INTERINDUSTRY, 0xB2): reading.read_record,
        (INTERINDUSTRY, 0x20): verification.verify,
        (INTERINDUSTRY, 0x24): verification.change_reference_data,
        (INTERINDUSTRY, 0x84): signing.get_challenge,
        (INTERINDUSTRY, 0x88): signing.internal_authenticate,
        (INTERINDUSTRY, 0xCA): data.get_data,
        (INTERINDUSTRY, 0xC0): channels.get_response,
        (PROPRIETARY, 0x2A): signing.compute_digital_signature,
        (PROPRIETARY, 0x32): verification.change_key,
    }
    if behaviour.logical_channels > 1:
        table[(INTERINDUSTRY, 0x70)] = channels.manage_channel
    for key, handler in fixed.status_handlers(status_commands).items():
        if key in table:
            raise ValueError(f"status command INS {key[1]:02X} would replace a modelled command")
        table[key] = handler
    return table
