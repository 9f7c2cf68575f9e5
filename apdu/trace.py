"""Exchange records for traces and logs, with every byte that can carry a secret masked.

Secrets never reach a trace, and what is masked depends on the command, not on the card: a command whose
instruction can carry reference data (a PIN, password, PUK or 照合番号, verification number) or a key
is masked from byte 5 on (ISO 7816-4 numbering: everything after CLA INS P1 P2), under any CLA, whether
or not the card implements it and whether or not its length bytes parse. Masking from byte 5, Lc and Le
included, leaves nothing to interpret: a VERIFY sent without Lc (``00 20 00 80 34 38 32 37``) has its
first PIN digit where Lc should be, and any reading of the length bytes would show it. An extended Lc
(``00 HH LL``) is no secret, but masking it costs nothing, so short and extended commands follow one rule;
the trace still shows the command's length, by its number of ``**``.

The instructions (``SECRET_INSTRUCTIONS``), and why:

* ``20``/``21`` VERIFY, ``24``/``25`` CHANGE REFERENCE DATA, ``2C``/``2D`` RESET RETRY COUNTER (ISO
  7816-4; the odd forms carry the same values in BER-TLV), and ``26``/``28`` DISABLE / ENABLE
  VERIFICATION REQUIREMENT, whose data field is absent or verification data;
* ``32`` CHANGE KEY, the proprietary command of the common and 住基 applets, under any CLA;
* ``AE`` SET SESSION KEY (``80 AE``: the residence card, the next-generation card): an RSA-OAEP-wrapped
  session key; whoever holds the delivery key's private key could unwrap it from a trace and read every
  secure-messaging exchange that follows;
* ``C2``/``C3`` ENVELOPE: it carries (part of) another command APDU, a VERIFY among them.

Not masked, and why: MSE:Set AT (``22``) names the password by reference only, and GENERAL AUTHENTICATE
(``86``/``87``) carries PACE's mapping data, ephemeral public keys and authentication tokens. The PACE
password never travels: it only derives the key that encrypts the chip's nonce, which comes back in a
response, and the session keys come from the Diffie-Hellman exchange. None of the command data reveals
the password, so masking it would protect nothing and hide what a trace of PACE is read for. Responses
are never masked: no card returns reference data.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from mynacard.apdu.status import describe

TRAFFIC = 5
"""Log level for APDU traffic, below DEBUG (as python-fido2 does)."""
logging.addLevelName(TRAFFIC, "TRAFFIC")

MASK_BYTE = 0x2A
"""Replaces every masked byte of a recorded command."""

SECRET_INSTRUCTIONS: dict[int, str] = {
    0x20: "VERIFY",
    0x21: "VERIFY",
    0x24: "CHANGE REFERENCE DATA",
    0x25: "CHANGE REFERENCE DATA",
    0x26: "DISABLE VERIFICATION REQUIREMENT",
    0x28: "ENABLE VERIFICATION REQUIREMENT",
    0x2C: "RESET RETRY COUNTER",
    0x2D: "RESET RETRY COUNTER",
    0x32: "CHANGE KEY",
    0xAE: "SET SESSION KEY",
    0xC2: "ENVELOPE",
    0xC3: "ENVELOPE",
}
"""Instructions whose commands are masked from byte 5 on, under any CLA (see the module docstring)."""

HEADER_LENGTH = 4
"""CLA INS P1 P2: the bytes of a secret-carrying command that stay in clear."""


def carries_secret(command: bytes) -> bool:
    """True when the command has bytes after its header and its instruction can carry a secret."""
    return len(command) > HEADER_LENGTH and command[1] in SECRET_INSTRUCTIONS


def secret_span(command: bytes) -> tuple[int, int] | None:
    """The masked byte range: everything after the header of a secret-carrying command, else None."""
    return (HEADER_LENGTH, len(command)) if carries_secret(command) else None


def mask_command(command: bytes) -> tuple[bytes, tuple[int, int] | None]:
    """The command with its secret-carrying bytes masked, and the span that was masked."""
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
