"""The INS table the card dispatches on: an ISO base table plus per-applet overrides (命令表).

Every handler is ``handler(card, channel, command) -> response data`` and raises ``CardError`` to answer
with a status word. The table is built from the profile when a card is opened and handed to the card, so
the card never imports a handler module. Keys are ``(proprietary class?, INS)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from mynacard.apdu.command import CommandApdu
from mynacard.emulator.channel import Channel
from mynacard.emulator.commands import (
    authentication,
    channels,
    data,
    fixed,
    pace,
    reading,
    reset,
    residence,
    selection,
    signing,
    verification,
)
from mynacard.emulator.context import CardContext
from mynacard.profiles.schema import BehaviourSpec

Handler = Callable[[CardContext, Channel, CommandApdu], bytes]
InsKey = tuple[bool, int]
"""(proprietary class?, INS)"""

INTERINDUSTRY = False
PROPRIETARY = True

ISO_BASE: dict[InsKey, Handler] = {
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
"""The commands every profile's card answers (ISO 7816-4 and the My Number card's ``80 2A``/``80 32``)."""

OPTIONAL: dict[str, tuple[InsKey, Handler]] = {
    "reset_retry_counter": ((INTERINDUSTRY, 0x2C), reset.reset_retry_counter),
    "external_authenticate": ((INTERINDUSTRY, 0x82), authentication.external_authenticate),
}
"""Commands an applet answers only when its data needs them (a PUK that resets, a terminal key); elsewhere
they stay ``6D 00`` as on today's card."""

PACE: dict[InsKey, Handler] = {
    (INTERINDUSTRY, 0x22): pace.mse_set_at,
    (INTERINDUSTRY, 0x86): pace.general_authenticate,
}
"""The commands of a card whose profile has ``[pace]``, in every applet and at MF level."""

RESIDENCE: dict[InsKey, Handler] = {
    (INTERINDUSTRY, 0xA4): residence.select,
    (INTERINDUSTRY, 0xB0): residence.read_binary,
    (INTERINDUSTRY, 0x20): residence.verify,
    (INTERINDUSTRY, 0x84): residence.get_challenge,
    (INTERINDUSTRY, 0x82): residence.mutual_authenticate,
}
"""The residence card's own command set (在留カード等, residence-card.md §7.1), replacing the ISO base's."""

SPECIFIED_RESIDENCE: dict[InsKey, Handler] = {
    (INTERINDUSTRY, 0xB0): residence.read_binary,
    (INTERINDUSTRY, 0x20): residence.verify,
    (PROPRIETARY, 0xAE): residence.set_session_key,
}
"""The 在留AP's commands on a 特定在留カード (residence-card.md §9.2): overrides in its applets only."""

OWN_CHAINING: frozenset[InsKey] = frozenset({(INTERINDUSTRY, 0x86)})
"""Commands whose chained parts are steps, each answered (GENERAL AUTHENTICATE, BSI TR-03110-3), instead of
parts the card joins into one command."""

_SELECT = (INTERINDUSTRY, 0xA4)


_GET_RESPONSE = (INTERINDUSTRY, 0xC0)


def accepted_in_plain(key: InsKey, cmd: CommandApdu) -> bool:
    """What an applet that requires secure messaging still takes in plain: PACE itself, SELECT by DF name
    (which leaves the applet; its own EFs are selected under SM), and GET RESPONSE for the rest of a plain
    SELECT's FCI (a plain command ends any session first, and with it what a protected answer left)."""
    return key in PACE or key == _GET_RESPONSE or (key == _SELECT and cmd.p1 == 0x04)


@dataclass(frozen=True, slots=True)
class InsTable:
    """Handlers for the whole card, and those that differ in one applet (by applet id)."""

    base: Mapping[InsKey, Handler]
    overrides: Mapping[str, Mapping[InsKey, Handler]] = field(default_factory=dict)

    def handler(self, applet_id: str | None, key: InsKey) -> Handler | None:
        """The handler for ``key`` in the applet that is current (None at MF level)."""
        if applet_id is not None:
            handler = self.overrides.get(applet_id, {}).get(key)
            if handler is not None:
                return handler
        return self.base.get(key)

    def defines(self, key: InsKey) -> bool:
        """Whether any applet answers ``key`` (so the other class of the same INS is ``6E 00``)."""
        return key in self.base or any(key in table for table in self.overrides.values())


def build_ins_table(
    behaviour: BehaviourSpec,
    status_commands: list[fixed.StatusCommand],
    optional: Mapping[str, Iterable[str]] | None = None,
    *,
    pace_commands: bool = False,
    residence_commands: bool = False,
    residence_applets: Iterable[str] = (),
    applet_commands: Mapping[str, Mapping[InsKey, Handler]] | None = None,
) -> InsTable:
    """The table of a card with these behaviours and status-only commands; ``optional`` names, per applet
    id, the ``OPTIONAL`` commands it answers."""
    base = dict(ISO_BASE)
    if behaviour.logical_channels > 1:
        base[(INTERINDUSTRY, 0x70)] = channels.manage_channel
    if pace_commands:
        base.update(PACE)
    if residence_commands:
        base.update(RESIDENCE)
    overrides: dict[str, dict[InsKey, Handler]] = {}
    for applet, names in (optional or {}).items():
        overrides[applet] = dict(OPTIONAL[name] for name in names)
    for applet in residence_applets:
        overrides.setdefault(applet, {}).update(SPECIFIED_RESIDENCE)
    for applet, commands in (applet_commands or {}).items():
        overrides.setdefault(applet, {}).update(commands)
    for command in status_commands:
        key = (command.proprietary, command.ins)
        if key in ISO_BASE:
            raise ValueError(f"status command INS {command.ins:02X} would replace a modelled command")
        handler = fixed.answer_with(command)
        if not command.applets:
            base.setdefault(key, handler)
        for applet in command.applets:
            overrides.setdefault(applet, {}).setdefault(key, handler)
    return InsTable(base, overrides)
