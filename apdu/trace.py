"""Exchange records for traces and logs, with PIN-like data fields masked.

Secrets never reach a trace: VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER and the proprietary
CHANGE KEY carry PINs, passwords, PUKs or 照合番号 (verification numbers) in their data field, so the
data bytes are replaced before anything is recorded or logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from apdu.status import describe

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


def _data_span(command: bytes) -> tuple[int, int] | None:
    """Start and end of the data field in a well-formed command, or the whole body if malformed."""
    n = len(command)
    if n <= 5:
        return None
    if command[4] != 0:
        return 5, min(n, 5 + command[4])
    if n >= 7:
        return 7, min(n, 7 + (command[5] << 8 | command[6]))
    return 5, n


def mask_command(command: bytes) -> tuple[bytes, bool]:
    """Return the command with any secret data field masked, and whether anything was masked."""
    if not carries_secret(command):
        return command, False
    span = _data_span(command)
    if span is None:
        return command, False
    start, end = span
    return command[:start] + bytes([MASK_BYTE]) * (end - start) + command[end:], True


def _hex(data: bytes) -> str:
    return data.hex(" ").upper()


@dataclass(frozen=True, slots=True)
class Exchange:
    """One command and its response, as recorded by a reader or card transport (secrets masked)."""

    command: bytes
    response: bytes
    masked: bool = False
    seconds: float = 0.0

    @classmethod
    def record(cls, command: bytes, response: bytes, seconds: float = 0.0) -> Exchange:
        masked_command, masked = mask_command(command)
        return cls(masked_command, response, masked, seconds)

    def command_text(self) -> str:
        if not self.masked:
            return _hex(self.command)
        span = _data_span(self.command)
        assert span is not None
        start, end = span
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
