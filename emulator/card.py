"""The card OS: power states, ATR, logical channels, dispatch by INS and error containment.

``Card.process`` takes command bytes and always returns response bytes: malformed input gets the status
word the standard names, a handler's ``CardError`` its status word, and an internal bug ``6F 00`` with a
logged traceback, after which the card keeps serving. Every answer, whatever produced it, leaves through
one method, ``_respond``: it applies Ne, ``61xx`` and ``6Cxx`` to data, then wraps the answer when the
command came under secure messaging (ISO 7816-4 §10): Ne applies to the plain data, before the wrap.

A protected command is unwrapped first; an SM error answers ``69 87``/``69 88`` in plain and ends the session
with the channel's security state, and so does any plain command while a session runs (BSI TR-03110-3).
Chained parts (CLA b5) are joined into one command before dispatch, except where the parts are steps.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from mynacard.apdu.command import ApduFormatError, ClassByte, CommandApdu, SecureMessaging
from mynacard.apdu.sm import PaceInfo, ResidenceSm, SecureMessagingError, SmSession
from mynacard.apdu.sm.residence import Random
from mynacard.apdu.status import SW
from mynacard.emulator.channel import Chain, Channel
from mynacard.emulator.commands.table import OWN_CHAINING, Handler, InsTable, accepted_in_plain
from mynacard.emulator.context import ResponseRemainder
from mynacard.emulator.errors import CardError, StorageError
from mynacard.emulator.filesystem import DataObject, FileSystem
from mynacard.profiles.schema import BehaviourSpec, ResidenceSpec

log = logging.getLogger(__name__)

_GET_RESPONSE = 0xC0


class Card:
    """One smart card: a file system, data objects and behaviours from a profile, behind ``process``."""

    def __init__(
        self,
        name: str,
        atr: bytes,
        filesystem: FileSystem,
        behaviour: BehaviourSpec,
        table: InsTable,
        data_objects: list[DataObject] | None = None,
    ) -> None:
        self.name = name
        self._atr = atr
        self._filesystem = filesystem
        self._behaviour = behaviour
        self._data_objects = {d.tag: d for d in data_objects or []}
        self.table = table
        self._channels: list[Channel | None] = []
        self._powered = False
        self.pace_infos: Sequence[PaceInfo] = ()
        """The PACE protocols of EF.CardAccess; empty: protected commands answer ``68 82``."""
        self.residence: ResidenceSpec | None = None
        """A residence card's ``[residence]``: its own authentication and SM (residence-card.md §5)."""
        self.residence_random: Random | None = None
        """RND.ICC and K.ICC of the residence card; None: from the OS."""
        self.residence_delivery_key: RSAPrivateKey | None = None
        """The specified residence card's RSA delivery key (SET SESSION KEY)."""

    @property
    def filesystem(self) -> FileSystem:
        return self._filesystem

    @property
    def behaviour(self) -> BehaviourSpec:
        return self._behaviour

    @property
    def data_objects(self) -> Mapping[int, DataObject]:
        return self._data_objects

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
            basic.pending, basic.chain, basic.pace = b"", None, None
            if basic.sm is not None:  # the session's keys do not survive a reset, nor what it opened
                basic.end_secure_messaging()
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
            return self._respond(None, None, b"", SW.NO_PRECISE_DIAGNOSIS)
        try:
            return self._process(command)
        except Exception:
            log.exception("internal error while processing %s", command[:4].hex(" ").upper())
            return self._respond(None, None, b"", SW.NO_PRECISE_DIAGNOSIS)

    def _process(self, raw: bytes) -> bytes:
        channel: Channel | None = None
        cmd: CommandApdu | None = None
        session: SmSession | ResidenceSm | None = None
        try:
            cmd = CommandApdu.from_bytes(raw)
            decoded = None if cmd.cla in (0x00, 0x80) else ClassByte(cmd.cla)  # the common case first
            channel = self._channel_for(cmd.cla, decoded)
            cmd, session = self._unwrap(channel, cmd, decoded)
            handler = self._handler_for(channel, cmd, session)
            if cmd.ins != _GET_RESPONSE:
                channel.pending = b""
            whole = self._chain(channel, cmd, decoded)
            if whole is None:  # a part of a chain: kept, answered 90 00
                return self._respond(channel, cmd, b"", SW.OK, session)
            return self._respond(channel, whole, handler(self, channel, whole), SW.OK, session)
        except ApduFormatError as exc:
            return self._respond(None, None, b"", exc.sw)
        except CardError as exc:
            return self._respond(channel, cmd, exc.data, exc.sw, session)
        except StorageError as exc:
            # The state could not be written (full disk, read-only directory): ISO's memory failure. The
            # counter is written before any comparison, so nothing was compared and nothing is revealed.
            log.error("%s", exc)
            return self._respond(channel, cmd, b"", SW.MEMORY_FAILURE, session)

    def _channel_for(self, cla: int, decoded: ClassByte | None) -> Channel:
        if decoded is None:  # CLA 00 or 80: the basic channel, no SM, no chaining
            channel = self._channels[0]
            assert channel is not None
            return channel
        if decoded.chaining and not self.behaviour.command_chaining:
            raise CardError(SW.COMMAND_CHAINING_NOT_SUPPORTED, "command chaining is not supported")
        channel = self.channel(decoded.channel)
        if channel is None:
            raise CardError(
                SW.LOGICAL_CHANNEL_NOT_SUPPORTED, f"logical channel {decoded.channel} is not open"
            )
        return channel

    def _unwrap(
        self, channel: Channel, cmd: CommandApdu, decoded: ClassByte | None
    ) -> tuple[CommandApdu, SmSession | ResidenceSm | None]:
        """The plain command and the session its answer is wrapped in (None: answer in plain).

        ``68 82`` on a card without SM; ``69 88`` when no session runs (no keys to check the objects
        with); an SM error's word, in plain, after the session ended. A plain command ends any session but
        the residence card's, which takes plain commands between protected ones (residence-card.md §5.2).
        """
        if decoded is None or decoded.secure_messaging is SecureMessaging.NONE:
            if channel.sm is not None and not isinstance(channel.sm, ResidenceSm):
                channel.end_secure_messaging()
            channel.security.secure_messaging = False
            return cmd, None
        if not self.pace_infos and not self._residence_sm_in(channel):
            raise CardError(SW.SECURE_MESSAGING_NOT_SUPPORTED, "secure messaging is not supported")
        session = channel.sm
        if session is None:
            raise CardError(SW.SM_DATA_OBJECTS_INCORRECT, "no secure-messaging session")
        try:
            plain = session.unwrap_command(cmd)
        except SecureMessagingError as exc:
            channel.end_secure_messaging()
            raise CardError(exc.sw, str(exc)) from None
        channel.security.secure_messaging = True
        return plain, session

    def _residence_sm_in(self, channel: Channel) -> bool:
        """Whether the residence card's SM runs where the channel is: anywhere on a standalone residence
        card, only in the 在留AP's applets on a 特定在留カード (today's applets keep answering ``68 82``)."""
        spec = self.residence
        if spec is None:
            return False
        return not spec.applets or (channel.applet is not None and channel.applet.id in spec.applets)

    def _chain(self, channel: Channel, cmd: CommandApdu, decoded: ClassByte | None) -> CommandApdu | None:
        """The whole command, or None for a part the card keeps (commands whose parts are steps, like
        GENERAL AUTHENTICATE, pass as they are)."""
        if decoded is not None and decoded.chaining and (cmd.cla & 0x80 > 0, cmd.ins) not in OWN_CHAINING:
            self._add_part(channel, cmd)
            return None
        return self._last_part(channel, cmd) if channel.chain is not None else cmd

    def _add_part(self, channel: Channel, cmd: CommandApdu) -> None:
        """A chained part: its data is kept until the last part, which gets the whole (ISO 7816-4 §5.3.3)."""
        header = (cmd.cla & ~0x10, cmd.ins, cmd.p1, cmd.p2)
        chain = channel.chain if channel.chain is not None else Chain(header)
        channel.chain = None
        if chain.header != header:
            raise CardError(SW.LAST_COMMAND_OF_CHAIN_EXPECTED, "a chain's parts share CLA, INS, P1, P2")
        if len(chain.data) + len(cmd.data) > self.behaviour.chain_limit:
            raise CardError(SW.NOT_ENOUGH_MEMORY, "the chain carries more than the card takes")
        chain.data += cmd.data
        channel.chain = chain

    def _last_part(self, channel: Channel, cmd: CommandApdu) -> CommandApdu:
        chain, channel.chain = channel.chain, None
        assert chain is not None
        if chain.header != (cmd.cla, cmd.ins, cmd.p1, cmd.p2):
            raise CardError(SW.LAST_COMMAND_OF_CHAIN_EXPECTED, "the chain's last part is expected")
        data = chain.data + cmd.data
        if len(data) > self.behaviour.chain_limit:
            raise CardError(SW.NOT_ENOUGH_MEMORY, "the chain carries more than the card takes")
        extended = cmd.extended or len(data) > 255
        return CommandApdu(cmd.cla, cmd.ins, cmd.p1, cmd.p2, data, cmd.ne, extended=extended)

    def _handler_for(
        self, channel: Channel, cmd: CommandApdu, session: SmSession | ResidenceSm | None
    ) -> Handler:
        key = (bool(cmd.cla & 0x80), cmd.ins)
        handler = self.table.handler(channel.applet.id if channel.applet else None, key)
        if handler is not None:
            applet = channel.applet
            plain = session is None and applet is not None and applet.requires_secure_messaging
            if plain and not accepted_in_plain(key, cmd):
                raise CardError(SW.SECURITY_STATUS_NOT_SATISFIED, "the application requires secure messaging")
            return handler
        if self.table.defines((not key[0], cmd.ins)):
            raise CardError(SW.CLA_NOT_SUPPORTED, f"INS {cmd.ins:02X} is not defined for CLA {cmd.cla:02X}")
        raise CardError(SW.INS_NOT_SUPPORTED, f"INS {cmd.ins:02X} is not supported")

    # --- the one exit ----------------------------------------------------------------------------------

    def _respond(
        self,
        channel: Channel | None,
        cmd: CommandApdu | None,
        data: bytes,
        sw: int,
        session: SmSession | ResidenceSm | None = None,
    ) -> bytes:
        """Every answer leaves here: data with ``90 00`` gets Ne applied; any other status word goes as is;
        under secure messaging the result is wrapped (``87 99 8E`` + the status word)."""
        if sw == SW.OK and channel is not None and cmd is not None:
            try:
                data, sw = self._apply_ne(channel, cmd, data)
            except CardError as exc:
                data, sw = exc.data, exc.sw
        if session is not None and not session.closed:
            return session.wrap_response(data, sw).to_bytes()
        return data + sw.to_bytes(2, "big")

    def _apply_ne(self, channel: Channel, cmd: CommandApdu, data: bytes) -> tuple[bytes, int]:
        """``61xx`` when Le was absent, ``6Cxx`` (or truncation) when it was short; GET RESPONSE goes on."""
        if isinstance(data, ResponseRemainder):
            chunk, channel.pending = bytes(data[: cmd.ne]), bytes(data[cmd.ne :])
            return chunk, _more_data(len(channel.pending)) if channel.pending else SW.OK
        if not data:
            return b"", SW.OK
        n = len(data)
        if cmd.ne == 0:
            channel.pending = data
            return b"", _more_data(n)
        if n > cmd.ne:
            if not cmd.extended and n > 256:
                raise CardError(SW.WRONG_LENGTH, f"{n} bytes need an extended Le")
            # 6C xx names an exact short Le; after an extended Le no 6C xx could be satisfied: Ne bytes go.
            if not cmd.extended and self.behaviour.le_too_short == "6Cxx":
                return b"", 0x6C00 | (n & 0xFF)
            data = data[: cmd.ne]
        return data, SW.OK


def _more_data(n: int) -> int:
    """``61 xx``: xx bytes still available (``00`` for 256 or more)."""
    return 0x6100 | (n if n < 256 else 0)
