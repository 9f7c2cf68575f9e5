"""Exchange records for traces and logs, with PIN-like data fields masked.

Secrets never reach a trace: VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER and the proprietary
CHANGE KEY carry PINs, passwords, PUKs or 照合番号 (verification numbers) in their data field, so the
data bytes are replaced before anything is recorded or logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from mynacard.apdu.command import ApduFormatError, CommandApdu
from mynacard.apdu.status import describe

TRAFFIC = 5
"""Log level for APDU traffic, below DEBUG (as python-fido2 does)."""
logging.addLevelName(TRAFFIC, "TRAFFIC")

MASK_BYTE = 0x2A
"""Replaces every byte of a secret data field in a recorded command."""

_SECRET_INS_INTERINDUSTRY = frozenset({0x20, 0x21, 0x24, 0x2C})
_SECRET_INS_PROPRIETARY = frozenset({0x20, 0x24, 0x2C, 0x32})


def carries_secret(command: bytes) -> bool:
    """True when the command's data field holds reference data (a PIN-like value)."""
    if len(command) < 5:
        return False
    cla, ins = command[0], command[1]
    if cla & 0x80:
        return ins in _SECRET_INS_PROPRIETARY
    return ins in _SECRET_INS_INTERINDUSTRY


def secret_span(command: bytes) -> tuple[int, int] | None:
    """Where the secret sits: the data field of a well-formed command, else everything after byte 4.

    A malformed body is masked whole, so no reading of its length bytes can leave PIN digits in clear.
    """
    if not carries_secret(command):
        return None
    try:
        parsed = CommandApdu.from_bytes(command)
    except ApduFormatError:
        return 5, len(command)
    if not parsed.data:
        return None
    start = 7 if parsed.extended else 5
    return start, start + len(parsed.data)


def mask_command(command: bytes) -> tuple[bytes, tuple[int, int] | None]:
    """The command with any secret data field masked, and the span that was masked."""
    span = secret_span(command)
    if span is None:
        return command, None
    start, end = span
    return command[:start] + bytes([MASK_BYTE]) * (end - start) + command[end:], span


def _hex(data: bytes) -> str:
    return data.hex(" ").upper()


@dataclass(frozen=True, slots=True)
class Exchange:
    """One command and its response, as recorded by a reader or card transport (secrets masked)."""

    command: bytes
    response: bytes
    mask: tuple[int, int] | None = None
    """The masked byte range of ``command``, if any."""
    seconds: float = 0.0

    @classmethod
    def record(cls, command: bytes, response: bytes, seconds: float = 0.0) -> Exchange:
        masked_command, mask = mask_command(command)
        return cls(masked_command, response, mask, seconds)

    @property
    def masked(self) -> bool:
        return self.mask is not None

    def command_text(self) -> str:
        if self.mask is None:
            return _hex(self.command)
        start, end = self.mask
        hidden = " ".join(["**"] * (end - start))
        rest = self.command[end:]
        return " ".join(p for p in (_hex(self.command[:start]), hidden, _hex(rest)) if p)

    def response_text(self) -> str:
        sw = self.response[-2] << 8 | self.response[-1] if len(self.response) >= 2 else None
        data = _hex(self.response[:-2]) if len(self.response) > 2 else ""
        if sw is None:
            return f"(malformed response {_hex(self.response)})"
        return (data + "  " if data else "") + describe(sw)

    def format(self) -> str:
        return f"> {self.command_text()}\n< {self.response_text()}"
