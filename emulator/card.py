"""The card OS: power states, ATR, logical channels, dispatch by INS and error containment.

``Card.process`` takes command bytes and always returns response bytes: malformed input gets the status
word the standard names, a handler's ``CardError`` its status word, and an internal bug ``6F 00`` with a
logged traceback, after which the card keeps serving. Le truncation, ``61xx`` and ``6Cxx`` are applied
in one place, ``_finish``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from mynacard.apdu.command import ApduFormatError, ClassByte, CommandApdu, SecureMessaging
from mynacard.apdu.status import SW
from mynacard.emulator.channel import Channel
from mynacard.emulator.errors import CardError
from mynacard.emulator.filesystem import FileSystem
from mynacard.profiles.schema import BehaviourSpec

log = logging.getLogger(__name__)

_OK = b"\x90\x00"
_NO_PRECISE_DIAGNOSIS = SW.NO_PRECISE_DIAGNOSIS.bytes

Handler = Callable[["Card", Channel, CommandApdu], bytes]


@dataclass(frozen=True, slots=True)
class StatusCommand:
    """A command answered only with a status word, in the listed applets (empty = everywhere)."""

    proprietary: bool
    ins: int
    sw: int
    applets: frozenset[str]


@dataclass(frozen=True, slots=True)
class DataObject:
    """A GET DATA object (データオブジェクト); ``mf_only`` answers only at MF level."""

    tag: int
    label: str
    value: bytes
    mf_only: bool


class Card:
    """One smart card: a file system, data objects and behaviours from a profile, behind ``process``."""

    def __init__(
        self,
        name: str,
        atr: bytes,
        filesystem: FileSystem,
        behaviour: BehaviourSpec,
        data_objects: list[DataObject] | None = None,
        status_commands: list[StatusCommand] | None = None,
    ) -> None:
        from mynacard.emulator.commands import handler_table

        self.name = name
        self._atr = atr
        self.filesystem = filesystem
        self.behaviour = behaviour
        self.data_objects = {d.tag: d for d in data_objects or []}
        self.handlers: dict[tuple[bool, int], Handler] = handler_table(behaviour, status_commands or [])
        self._channels: list[Channel | None] = []
        self._powered = False

    # --- power -----------------------------------------------------------------------------------------

    @property
    def atr(self) -> bytes:
        return self._atr

    @property
    def powered(self) -> bool:
        return self._powered

    def power_on(self) -> bytes:
        """Cold start: every volatile state is cleared; the card manager is the current DF."""
        self._powered = True
        self._channels = [Channel(applet=self.filesystem.default)]
        self._channels += [None] * (self.behaviour.logical_channels - 1)
        return self._atr

    def power_off(self) -> None:
        self._powered = False
        self._channels = []

    def reset(self) -> bytes:
        """Warm reset: the basic channel keeps its state if the profile says so; others close."""
        basic = self._channels[0] if self._powered and self._channels else None
        self.power_on()
        if basic is not None and self.behaviour.reset_keeps_security:
            basic.pending = b""
            self._channels[0] = basic
        return self._atr

    def channel(self, number: int) -> Channel | None:
        return self._channels[number] if 0 <= number < len(self._channels) else None

    def open_channel(self, number: int) -> None:
        self._channels[number] = Channel(applet=self.filesystem.default)

    def close_channel(self, number: int) -> None:
        self._channels[number] = None

    # --- commands --------------------------------------------------------------------------------------

    def process(self, command: bytes) -> bytes:
        """One command APDU in, one response APDU out; never raises."""
        if not self._powered:
            log.warning("command received while the card is not powered")
            return _NO_PRECISE_DIAGNOSIS
        try:
            return self._process(command)
        except Exception:
            log.exception("internal error while processing %s", command[:4].hex(" ").upper())
            return _NO_PRECISE_DIAGNOSIS

    def _process(self, raw: bytes) -> bytes:
        try:
            cmd = CommandApdu.from_bytes(raw)
            channel = self._channel_for(cmd.cla)
            handler = self._handler_for(cmd)
            if cmd.ins != 0xC0:
                channel.pending = b""
            return self._finish(channel, cmd, handler(self, channel, cmd))
        except ApduFormatError as exc:
            return exc.sw.to_bytes(2, "big")
        except CardError as exc:
            return exc.data + exc.sw.to_bytes(2, "big")

    def _channel_for(self, cla: int) -> Channel:
        if cla == 0x00 or cla == 0x80:  # the basic channel, no SM, no chaining: the common case
            channel = self._channels[0]
            assert channel is not None
            return channel
        decoded = ClassByte(cla)
        if decoded.chaining:
            raise CardError(SW.COMMAND_CHAINING_NOT_SUPPORTED, "command chaining is not supported")
        if decoded.secure_messaging is not SecureMessaging.NONE:
            raise CardError(SW.SECURE_MESSAGING_NOT_SUPPORTED, "secure messaging is not supported")
        channel = self.channel(decoded.channel)
        if channel is None:
            raise CardError(
                SW.LOGICAL_CHANNEL_NOT_SUPPORTED, f"logical channel {decoded.channel} is not open"
            )
        return channel

    def _handler_for(self, cmd: CommandApdu) -> Handler:
        proprietary = bool(cmd.cla & 0x80)
        handler = self.handlers.get((proprietary, cmd.ins))
        if handler is not None:
            return handler
        if (not proprietary, cmd.ins) in self.handlers:
            raise CardError(SW.CLA_NOT_SUPPORTED, f"INS {cmd.ins:02X} is not defined for CLA {cmd.cla:02X}")
        raise CardError(SW.INS_NOT_SUPPORTED, f"INS {cmd.ins:02X} is not supported")

    def _finish(self, channel: Channel, cmd: CommandApdu, data: bytes) -> bytes:
        """Apply Ne to a handler's data: ``61xx`` when Le was absent, ``6Cxx`` (or truncation) when short."""
        if not data:
            return _OK
        n = len(data)
        if cmd.ne == 0:
            channel.pending = data
            return bytes((0x61, n & 0xFF if n < 256 else 0))
        if n > cmd.ne:
            if not cmd.extended and n > 256:
                raise CardError(SW.WRONG_LENGTH, f"{n} bytes need an extended Le")
            if self.behaviour.le_too_short == "6Cxx":
                return bytes((0x6C, n & 0xFF))
            data = data[: cmd.ne]
        return data + _OK
