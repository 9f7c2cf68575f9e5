"""Host-side response completion: follow ``61 xx`` with GET RESPONSE and resend after ``6C xx``.

A T=0 reader cannot carry response data for case 4 commands, so a T=0 card answers ``61 xx`` and the
host fetches the data with GET RESPONSE; a card that wants an exact Le answers ``6C xx``. pyscard hands
these status words to the caller unchanged, so the PC/SC reader runs every command through
``complete_response`` to give suites the same complete responses a T=1 reader gives.
"""

from __future__ import annotations

from collections.abc import Callable

from mynacard.apdu.command import ApduFormatError, CommandApdu
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
