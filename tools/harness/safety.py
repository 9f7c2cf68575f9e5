"""Safety on real cards (実カードの保護): the card's identity before a destructive run, and the counter floor.

A suite's TEST PINs are wrong for a real holder's card, so on a real card every VERIFY may cost a try. The
counter floor reads the try counter first (VERIFY without data, ISO 7816-4 §11.5.6: ``63 Cx`` = x tries
left) and refuses any VERIFY or CHANGE REFERENCE DATA that could leave fewer than ``FLOOR`` tries; a counter
it cannot read (already verified ``90 00``, blocked ``69 83``, any other answer) is refused too. Destructive
tests need ``--allow-destructive`` *and* ``--confirm-card`` with the fingerprint of the identity printed
here, so a run meant for one bench card cannot touch another.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from asn1crypto import x509 as asn1_x509

from mynacard.apdu.applets.jpki import AUTH_CERTIFICATE, JPKI_AID, TOKEN_INFO
from mynacard.apdu.readers.base import Reader
from mynacard.apdu.readers.processors import Processor, Transmit
from mynacard.apdu.response import ResponseApdu

FLOOR = 2
"""The fewest tries a harness command may leave on a real card's credential."""

_VERIFY, _CHANGE_REFERENCE_DATA = 0x20, 0x24
_SECURE_MESSAGING_CLA_BITS = 0x0C


class CounterFloorError(RuntimeError):
    """A VERIFY that could take a real card's credential below the floor was not sent."""


class CounterFloor(Processor):
    """Reads the try counter before every plain VERIFY / CHANGE REFERENCE DATA that carries data, and refuses
    the command when a wrong value could leave fewer than ``floor`` tries."""

    def __init__(self, floor: int = FLOOR) -> None:
        self.floor = floor

    def transmit(self, command: bytes, send: Transmit) -> ResponseApdu:
        if _spends_a_try(command):
            self._check(command, send(bytes((command[0], _VERIFY, 0x00, command[3]))))
        return send(command)

    def _check(self, command: bytes, probe: ResponseApdu) -> None:
        reference = f"reference {command[3]:02X}"
        if probe.sw & 0xFFF0 != 0x63C0:
            raise CounterFloorError(
                f"counter floor: the card answered {probe.sw:04X} to the counter check of {reference}; "
                "the harness sends no value it cannot account for"
            )
        left = probe.sw & 0x0F
        if left - 1 < self.floor:
            raise CounterFloorError(
                f"counter floor: {reference} has {left} tries left; a wrong value would leave {left - 1}, "
                f"below the floor of {self.floor}"
            )


def _spends_a_try(command: bytes) -> bool:
    """A plain VERIFY or CHANGE REFERENCE DATA with data (the no-data VERIFY only reads the counter)."""
    if len(command) <= 5 or command[0] & _SECURE_MESSAGING_CLA_BITS:
        return False
    return command[1] in (_VERIFY, _CHANGE_REFERENCE_DATA)


@dataclass(frozen=True)
class CardIdentity:
    """What identifies the card in a reader to the person at the bench: the ATR, the JPKI token label and the
    serial number of the user-authentication certificate (利用者証明用電子証明書)."""

    atr: bytes
    token_label: str
    serial_number: str

    @property
    def fingerprint(self) -> str:
        """16 hex digits over all three: what ``--confirm-card`` must repeat."""
        text = f"{self.atr.hex()}|{self.token_label}|{self.serial_number}"
        return hashlib.sha256(text.encode()).hexdigest()[:16].upper()

    def describe(self) -> str:
        return (
            f"  ATR            {self.atr.hex(' ').upper()}\n"
            f"  token label    {self.token_label or '(not readable)'}\n"
            f"  serial number  {self.serial_number or '(not readable)'}\n"
            f"  fingerprint    {self.fingerprint}"
        )


def card_identity(reader: Reader, atr: bytes) -> CardIdentity:
    """Reads what is free to read on any JPKI card (no VERIFY): the token label and the certificate."""
    if _send(reader, bytes((0x00, 0xA4, 0x04, 0x0C, len(JPKI_AID))) + JPKI_AID).sw != 0x9000:
        return CardIdentity(atr, "", "")
    label = _read_ef(reader, TOKEN_INFO, limit=32)[:32].rstrip(b" \x00").decode("ascii", "replace")
    certificate = _read_ef(reader, AUTH_CERTIFICATE, limit=4096)
    return CardIdentity(atr, label, _serial_of(certificate))


def _serial_of(der: bytes) -> str:
    try:
        serial = asn1_x509.Certificate.load(der, strict=False).serial_number
    except (ValueError, TypeError):
        return ""
    return f"{serial:X}"


def _read_ef(reader: Reader, fid: int, limit: int) -> bytes:
    if _send(reader, bytes((0x00, 0xA4, 0x02, 0x0C, 0x02, fid >> 8, fid & 0xFF))).sw != 0x9000:
        return b""
    out = bytearray()
    while len(out) < limit:
        response = _send(reader, bytes((0x00, 0xB0, len(out) >> 8, len(out) & 0xFF, 0x00)))
        if response.sw != 0x9000:
            break
        out += response.data
        if len(response.data) < 256:
            break
    return _der_length_trimmed(bytes(out))


def _der_length_trimmed(data: bytes) -> bytes:
    """A certificate EF is padded after the DER; keep the one SEQUENCE when its length is readable."""
    if len(data) < 4 or data[0] != 0x30 or data[1] != 0x82:
        return data
    return data[: 4 + int.from_bytes(data[2:4], "big")]


def _send(reader: Reader, command: bytes) -> ResponseApdu:
    return reader.transmit(command)
