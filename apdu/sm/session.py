"""One secure-messaging session: wrap and unwrap on both sides (ISO/IEC 7816-4 §10, ICAO Doc 9303-11 §9.8).

The terminal wraps commands and unwraps responses; the card unwraps commands and wraps responses. Each of
these four steps first increments the send-sequence counter (SSC), so one exchange uses two values.
Key establishment is a plug-in: the session takes K_enc, K_mac, the cipher suite and the initial SSC from
whatever established them (PACE gives SSC 0; BAC or session-key delivery give others).

MAC input (ICAO Doc 9303-11 §9.8, BSI TR-03110-3): ``pad(SSC ‖ pad(CLA' INS P1 P2) ‖ DO87/85 ‖ DO97)``
for a command, ``pad(SSC ‖ DO87 ‖ DO99)`` for a response. Any error closes the session: the card answers
the error's status word and ends secure messaging, as the standard requires; later use raises
``SmSessionClosedError``.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from mynacard.apdu.command import ApduFormatError, CommandApdu, SecureMessaging
from mynacard.apdu.response import ResponseApdu
from mynacard.apdu.sm.ciphers import CipherSuite
from mynacard.apdu.sm.errors import (
    SecureMessagingError,
    SmObjectsIncorrectError,
    SmObjectsMissingError,
    SmSessionClosedError,
)
from mynacard.apdu.sm.objects import (
    TAG_CRYPTOGRAM_PLAIN_TLV,
    cryptogram_object,
    decode_le,
    le_object,
    mac_object,
    parse_protected,
    status_object,
)
from mynacard.apdu.sm.padding import pad, unpad

SM_CLA_BITS = 0x0C
"""CLA bits b4 b3 = 11: SM, command header authenticated (ISO/IEC 7816-4 §5.4.1), for CLA 0x–3x, 8x–Bx."""


def protected_cla(cla: int) -> int:
    """The protected command's class byte: ``cla`` with the SM bits set (``00`` → ``0C``, ``10`` → ``1C``)."""
    if cla & 0x40:
        raise ValueError(f"CLA {cla:02X}: SM with an authenticated header needs a first interindustry class")
    return cla | SM_CLA_BITS


def is_protected(cla: int) -> bool:
    """Whether ``cla`` announces secure messaging of any kind."""
    try:
        return CommandApdu(cla, 0, 0, 0).class_byte().secure_messaging is not SecureMessaging.NONE
    except ApduFormatError:
        return False


@dataclass(frozen=True, slots=True, repr=False)
class SessionKeys:
    """K_enc and K_mac with their suite, as a key establishment (PACE, BAC, SET SESSION KEY) yields them."""

    k_enc: bytes
    k_mac: bytes
    suite: CipherSuite

    def session(self, ssc: int | bytes = 0) -> SmSession:
        """A new SM session under these keys starting at ``ssc``."""
        return SmSession(self.k_enc, self.k_mac, self.suite, ssc)

    def __repr__(self) -> str:
        return f"SessionKeys({self.suite.name}, keys masked)"


class SmSession:
    """The SM state one side keeps: keys, suite and SSC. Not thread-safe; one per channel."""

    __slots__ = ("_closed", "_k_enc", "_k_mac", "_ssc", "suite")

    def __init__(self, k_enc: bytes, k_mac: bytes, suite: CipherSuite, ssc: int | bytes = 0) -> None:
        for name, key in (("K_enc", k_enc), ("K_mac", k_mac)):
            if len(key) != suite.key_length:
                raise ValueError(f"{name} must be {suite.key_length} bytes for {suite.name}")
        if isinstance(ssc, bytes):
            if len(ssc) != suite.ssc_length:
                raise ValueError(f"the SSC of {suite.name} is {suite.ssc_length} bytes")
            ssc = int.from_bytes(ssc, "big")
        if not 0 <= ssc < 1 << 8 * suite.ssc_length:
            raise ValueError("SSC out of range")
        self.suite = suite
        self._k_enc, self._k_mac, self._ssc = bytes(k_enc), bytes(k_mac), ssc
        self._closed = False

    @property
    def ssc(self) -> int:
        """The SSC of the last step (its value once the next step increments it is ``ssc + 1``)."""
        return self._ssc

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """End the session: forget the keys."""
        self._closed = True
        self._k_enc = self._k_mac = b""

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"ssc={self._ssc:0{2 * self.suite.ssc_length}X}"
        return f"SmSession({self.suite.name}, {state})"

    # -- the four steps -------------------------------------------------------------------------------------

    def wrap_command(self, command: CommandApdu) -> CommandApdu:
        """Terminal: the protected form of ``command`` (ICAO Doc 9303-11 §9.8)."""
        with self._step():
            cla = protected_cla(command.cla)
            odd_ins = bool(command.ins & 1)
            objects = b""
            if command.data:
                cryptogram = self._encrypt(pad(command.data, self.suite.block_size))
                objects += cryptogram_object(cryptogram, odd_ins=odd_ins)
            if command.ne:
                objects += le_object(command.ne, extended=command.extended)
            header = bytes((cla, command.ins, command.p1, command.p2))
            body = objects + mac_object(self._mac(pad(header, self.suite.block_size) + objects))
            extended = command.extended or len(body) > 255
            return CommandApdu(cla, command.ins, command.p1, command.p2, body, 65536 if extended else 256)

    def unwrap_command(self, command: CommandApdu) -> CommandApdu:
        """Card: the plain command inside a protected one; raises ``69 87``/``69 88`` errors."""
        with self._step():
            self._check_class(command.cla)
            if not command.data:
                raise SmObjectsMissingError("protected command without SM data objects")
            objects = parse_protected(command.data, response=False)
            header = pad(command.header, self.suite.block_size)
            self._verify_mac(header + objects.mac_input, objects.mac)
            tag = objects.cryptogram_tag
            if tag is not None and bool(command.ins & 1) != (tag == TAG_CRYPTOGRAM_PLAIN_TLV):
                raise SmObjectsIncorrectError(f"cryptogram object {tag:02X} for INS {command.ins:02X}")
            data = self._decrypt(objects.cryptogram) if objects.cryptogram is not None else b""
            ne = decode_le(objects.le) if objects.le is not None else 0
            extended = (objects.le is not None and len(objects.le) == 2) or len(data) > 255 or ne > 256
            plain_cla = command.cla & ~SM_CLA_BITS
            return CommandApdu(plain_cla, command.ins, command.p1, command.p2, data, ne, extended=extended)

    def wrap_response(self, data: bytes, sw: int) -> ResponseApdu:
        """Card: the protected response ``[87] 99 8E`` + SW for plain ``data`` and ``sw`` (§9.8)."""
        with self._step():
            objects = b""
            if data:
                objects += cryptogram_object(self._encrypt(pad(data, self.suite.block_size)), odd_ins=False)
            objects += status_object(sw)
            return ResponseApdu(objects + mac_object(self._mac(objects)), sw)

    def unwrap_response(self, response: ResponseApdu) -> ResponseApdu:
        """Terminal: the plain response inside a protected one; raises ``69 87``/``69 88`` errors."""
        with self._step():
            if not response.data:
                reason = f"response {response.sw:04X} without SM data objects"
                raise SmObjectsMissingError(reason, card_sw=response.sw)
            objects = parse_protected(response.data, response=True)
            self._verify_mac(objects.mac_input, objects.mac)
            if objects.status is None:
                raise SmObjectsMissingError("no status object 99", card_sw=response.sw)
            sw = int.from_bytes(objects.status, "big")
            if sw != response.sw:
                reason = f"status word {response.sw:04X} differs from the protected {sw:04X}"
                raise SmObjectsIncorrectError(reason)
            data = self._decrypt(objects.cryptogram) if objects.cryptogram is not None else b""
            return ResponseApdu(data, sw)

    # -- helpers ---------------------------------------------------------------------------------------------

    @contextmanager
    def _step(self) -> Iterator[None]:
        """Increment the SSC for this step; close the session on any SM error."""
        if self._closed:
            raise SmSessionClosedError("the secure-messaging session has ended")
        self._ssc = (self._ssc + 1) % (1 << 8 * self.suite.ssc_length)
        try:
            yield
        except SecureMessagingError:
            self.close()
            raise

    def _ssc_bytes(self) -> bytes:
        return self._ssc.to_bytes(self.suite.ssc_length, "big")

    def _check_class(self, cla: int) -> None:
        try:
            CommandApdu(cla, 0, 0, 0).class_byte()
        except ApduFormatError:
            raise SmObjectsIncorrectError(f"CLA {cla:02X} is reserved") from None
        if not is_protected(cla):
            raise SmObjectsMissingError(f"CLA {cla:02X} does not announce secure messaging")
        if cla & 0x40 or cla & SM_CLA_BITS != SM_CLA_BITS:
            raise SmObjectsIncorrectError(f"CLA {cla:02X}: SM must authenticate the header (CLA xC)")

    def _mac(self, message: bytes) -> bytes:
        return self.suite.mac(self._k_mac, pad(self._ssc_bytes() + message, self.suite.block_size))

    def _verify_mac(self, message: bytes, mac: bytes) -> None:
        if not hmac.compare_digest(self._mac(message), mac):
            raise SmObjectsIncorrectError("MAC verification failed")

    def _encrypt(self, padded: bytes) -> bytes:
        return self.suite.encrypt(self._k_enc, self._ssc_bytes(), padded)

    def _decrypt(self, cryptogram: bytes) -> bytes:
        if len(cryptogram) % self.suite.block_size:
            raise SmObjectsIncorrectError(f"cryptogram of {len(cryptogram)} bytes is not whole blocks")
        return unpad(self.suite.decrypt(self._k_enc, self._ssc_bytes(), cryptogram), self.suite.block_size)
