"""Host-side processors that stack on any ``Reader``: response completion now, secure messaging next.

A processor sees each command on its way to the card and the response on its way back, and may send more
commands in between. ``ProcessedReader(reader, [outer, ..., inner])`` runs them in order around any reader,
the in-process virtual one included; observers of the processed reader see what crosses the wire.

Response completion: a T=0 reader cannot carry response data for case 4 commands, so a T=0 card answers
``61 xx`` and the host fetches the data with GET RESPONSE; a card that wants an exact Le answers ``6C xx``.
pyscard hands these status words to the caller unchanged, so the PC/SC reader runs every command through
``complete_response`` to give suites the same complete responses a T=1 reader gives.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from functools import partial

from mynacard.apdu.command import ApduFormatError, CommandApdu
from mynacard.apdu.readers.base import Observer, Reader
from mynacard.apdu.response import ResponseApdu
from mynacard.apdu.status import bytes_available, exact_length

RawTransmit = Callable[[bytes], bytes]
"""Send one command APDU and return the raw response (data + SW1 SW2)."""

INS_GET_RESPONSE = 0xC0

MAX_GET_RESPONSES = 1024
"""Stop following ``61 xx`` after this many GET RESPONSEs (256 KiB): a card that never ends is broken."""


def get_response_class(cla: int) -> int:
    """Interindustry CLA for GET RESPONSE on the logical channel of ``cla`` (no SM, no chaining)."""
    try:
        channel = CommandApdu(cla, 0, 0, 0).class_byte().channel
    except ApduFormatError:
        channel = 0
    return channel if channel < 4 else 0x40 | (channel - 4)


def get_response(cla: int, ne: int) -> bytes:
    """``CLA C0 00 00 Le`` asking for ``ne`` (1..256) bytes."""
    return bytes((get_response_class(cla), INS_GET_RESPONSE, 0, 0, ne & 0xFF))


def _resend_with_exact_le(transmit: RawTransmit, command: bytes, ne: int) -> ResponseApdu | None:
    """Resend ``command`` with Le = ``ne``; None when the command cannot be parsed to rebuild it."""
    try:
        corrected = CommandApdu.from_bytes(command).with_ne(ne)
    except (ApduFormatError, ValueError):
        return None
    return ResponseApdu.from_bytes(transmit(corrected.to_bytes()))


def _exchange_once(transmit: RawTransmit, command: bytes) -> ResponseApdu:
    """One command, resent once with the corrected Le if the card answers ``6C xx``."""
    response = ResponseApdu.from_bytes(transmit(command))
    ne = exact_length(response.sw)
    if ne is None:
        return response
    return _resend_with_exact_le(transmit, command, ne) or response


def complete_response(transmit: RawTransmit, command: bytes) -> ResponseApdu:
    """Send ``command`` and return the complete response the card offers.

    ``6C xx`` resends the command once with Le = xx; ``61 xx`` issues GET RESPONSE with Le = xx on the
    command's logical channel, repeatedly, concatenating the data, until another status word arrives
    (that status word ends the response). Every byte the card announces is fetched, whatever the
    command's own Ne, because T=0 cards announce no more than the command asked for.
    """
    response = _exchange_once(transmit, command)
    data = bytearray(response.data)
    for _ in range(MAX_GET_RESPONSES):
        ne = bytes_available(response.sw)
        if ne is None:
            break
        response = _exchange_once(transmit, get_response(command[0], ne))
        data += response.data
    return ResponseApdu(bytes(data), response.sw)


Transmit = Callable[[bytes], ResponseApdu]
"""Send one command APDU (raw bytes) one layer further down and return the response."""


class Processor(ABC):
    """One layer of host-side processing between a reader's user and the card."""

    @abstractmethod
    def transmit(self, command: bytes, send: Transmit) -> ResponseApdu:
        """Process ``command``, using ``send`` for every APDU that goes further down."""

    def reset(self) -> None:  # noqa: B027  (most processors keep no session)
        """The card lost power or was reset: forget any session state."""


class ResponseCompletion(Processor):
    """Follow ``61 xx`` with GET RESPONSE and resend after ``6C xx`` (see ``complete_response``)."""

    def transmit(self, command: bytes, send: Transmit) -> ResponseApdu:
        return complete_response(lambda raw: send(raw).to_bytes(), command)


class ProcessedReader(Reader):
    """``reader`` with ``processors`` around every ``transmit``: the first one is nearest to the user."""

    def __init__(self, reader: Reader, processors: Sequence[Processor]) -> None:
        super().__init__()
        self.reader = reader
        self.processors = list(processors)

    @property
    def name(self) -> str:
        return self.reader.name

    @property
    def atr(self) -> bytes:
        return self.reader.atr

    def power_on(self) -> bytes:
        self._reset_processors()
        return self.reader.power_on()

    def power_off(self) -> None:
        self._reset_processors()
        self.reader.power_off()

    def reset(self) -> bytes:
        self._reset_processors()
        return self.reader.reset()

    def close(self) -> None:
        self._reset_processors()
        self.reader.close()

    def transmit(self, command: bytes) -> ResponseApdu:
        send: Transmit = self.reader.transmit
        for processor in reversed(self.processors):
            send = partial(processor.transmit, send=send)
        return send(command)

    def add_observer(self, observer: Observer) -> None:
        """Observers see the exchanges on the wire (GET RESPONSE and protected APDUs included)."""
        self.reader.add_observer(observer)

    def remove_observer(self, observer: Observer) -> None:
        self.reader.remove_observer(observer)

    def _reset_processors(self) -> None:
        for processor in self.processors:
            processor.reset()
