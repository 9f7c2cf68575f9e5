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

from cryptography import x509

from mynacard.apdu.applets.jpki import AUTH_CERTIFICATE, TOKEN_INFO, JpkiSession
from mynacard.apdu.applets.session import CardStatusError
from mynacard.apdu.readers.base import Reader
from mynacard.apdu.readers.processors import Processor, Transmit
from mynacard.apdu.response import ResponseApdu
from mynacard.apdu.status import tries_left

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
        left = tries_left(probe.sw)
        if left is None:
            raise CounterFloorError(
                f"counter floor: the card answered {probe.sw:04X} to the counter check of {reference}; "
                "the harness sends no value it cannot account for"
            )
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
    session = JpkiSession(reader)
    try:
        session.select()
    except CardStatusError:
        return CardIdentity(atr, "", "")
    return CardIdentity(atr, _token_label(session), _serial_number(session))


def _token_label(session: JpkiSession) -> str:
    try:
        session.select_ef(TOKEN_INFO)
        label = session.expect_ok("READ BINARY token label", bytes.fromhex("00B0000020"))
    except CardStatusError:
        return ""
    return label.rstrip(b" \x00").decode("ascii", "replace")


def _serial_number(session: JpkiSession) -> str:
    try:
        der = session.read_certificate(AUTH_CERTIFICATE)
        return f"{x509.load_der_x509_certificate(der).serial_number:X}"
    except (CardStatusError, ValueError):
        return ""
