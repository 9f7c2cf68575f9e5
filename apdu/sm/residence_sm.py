"""The residence card's secure messaging (セキュアメッセージング): encryption only, under KSenc.

在留カード等仕様書 §3.4.2 (``residence-card.md`` §5.2), the same in both generations but for the cipher:

- CLA ``08``: SM as ISO/IEC 7816-4 codes it, the command header not authenticated;
- command objects: ``86 L 01 <cryptogram>`` (padding-content indicator ``01``, method-2 padding) and
  ``96 02 XX XX`` (Le; ``00 00`` = the whole file), in this order;
- response: ``86 L 01 <cryptogram>`` (none when there is no data) and the plain status word;
- no ``8E`` MAC, no ``99`` status object, no send-sequence counter: every cryptogram uses a zero IV.

Any ill-formed object, cryptogram or padding raises ``SmObjectsIncorrectError`` (``69 88``).
"""

from __future__ import annotations

from mynacard.apdu.command import CommandApdu
from mynacard.apdu.response import ResponseApdu
from mynacard.apdu.sm.ciphers import CipherSuite
from mynacard.apdu.sm.errors import SmObjectsIncorrectError, SmSessionClosedError
from mynacard.apdu.sm.padding import pad, unpad
from mynacard.apdu.tlv import Tlv, TlvError, ber_decode_all, ber_encode

TAG_CRYPTOGRAM = 0x86
TAG_LE = 0x96
PADDING_INDICATOR = 0x01
SM_CLA = 0x08
"""CLA b4 b3 = 10: SM, header not authenticated (ISO/IEC 7816-4 §5.4.1)."""
_SM_BITS = 0x0C
_WHOLE_FILE = 65536
"""``96 02 00 00``: Ne = 65536, the whole EF."""


def cryptogram_object(cryptogram: bytes) -> bytes:
    """``86 L 01 ‖ cryptogram``."""
    return ber_encode(TAG_CRYPTOGRAM, bytes((PADDING_INDICATOR,)) + cryptogram)


def le_object(ne: int) -> bytes:
    """``96 02 XX XX``; Ne 65536 (the whole file) → ``00 00``."""
    if not 1 <= ne <= _WHOLE_FILE:
        raise ValueError(f"Le encodes 1..65536, not {ne}")
    return ber_encode(TAG_LE, (ne & 0xFFFF).to_bytes(2, "big"))


def _decode(body: bytes) -> list[Tlv]:
    try:
        return ber_decode_all(body)
    except TlvError as error:
        raise SmObjectsIncorrectError(f"SM body is not BER-TLV: {error}") from None


def _objects(body: bytes, allowed: tuple[int, ...]) -> dict[int, bytes]:
    """The objects of ``body``: tags from ``allowed``, in that order, each at most once."""
    found: dict[int, bytes] = {}
    rank = -1
    for tlv in _decode(body):
        if tlv.tag not in allowed or allowed.index(tlv.tag) <= rank:
            reason = f"SM data object {tlv.tag:02X} unexpected, repeated or out of order"
            raise SmObjectsIncorrectError(reason)
        rank = allowed.index(tlv.tag)
        found[tlv.tag] = tlv.value
    return found


def _cryptogram(value: bytes, block_size: int) -> bytes:
    if len(value) < 2 or value[0] != PADDING_INDICATOR:
        raise SmObjectsIncorrectError("86 needs the padding-content indicator 01 and a cryptogram")
    cryptogram = value[1:]
    if len(cryptogram) % block_size:
        raise SmObjectsIncorrectError(f"cryptogram of {len(cryptogram)} bytes is not whole blocks")
    return cryptogram


class ResidenceSm:
    """One encryption-only SM session under KSenc; the same object serves card and terminal."""

    __slots__ = ("_closed", "_ks_enc", "suite")

    ends_on_plain_command = False
    """The card takes plain commands between protected ones (SELECT, DF2/DF3 reads) and keeps the session."""

    def __init__(self, suite: CipherSuite, ks_enc: bytes) -> None:
        if len(ks_enc) != suite.key_length:
            raise ValueError(f"KSenc must be {suite.key_length} bytes for {suite.name}")
        self.suite = suite
        self._ks_enc = bytes(ks_enc)
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """End the session: forget KSenc."""
        self._closed = True
        self._ks_enc = b""

    def __repr__(self) -> str:
        return f"ResidenceSm({self.suite.name}, {'closed' if self._closed else 'keys masked'})"

    def encrypt(self, data: bytes) -> bytes:
        """The cryptogram of ``data``: method-2 padding, CBC with a zero IV."""
        return self.suite.encrypt_nonce(self._key(), pad(data, self.suite.block_size))

    def decrypt(self, cryptogram: bytes) -> bytes:
        """The plain data of a cryptogram; ``69 88`` for a bad length or padding."""
        if not cryptogram or len(cryptogram) % self.suite.block_size:
            raise SmObjectsIncorrectError(f"cryptogram of {len(cryptogram)} bytes is not whole blocks")
        return unpad(self.suite.decrypt_nonce(self._key(), cryptogram), self.suite.block_size)

    def _key(self) -> bytes:
        if self._closed:
            raise SmSessionClosedError("the secure-messaging session has ended")
        return self._ks_enc

    # -- terminal ---------------------------------------------------------------------------------------

    def wrap_command(self, command: CommandApdu) -> CommandApdu:
        """The protected form: CLA ``08``, ``86`` for data, ``96`` and Le ``00 00`` when Ne is given."""
        body = cryptogram_object(self.encrypt(command.data)) if command.data else b""
        if command.ne:
            body += le_object(command.ne)
        ne = _WHOLE_FILE if command.ne else 0
        cla = command.cla | SM_CLA
        return CommandApdu(cla, command.ins, command.p1, command.p2, body, ne, extended=bool(ne) or None)

    def unwrap_response(self, response: ResponseApdu) -> ResponseApdu:
        """The plain response: the decrypted ``86`` (if any) and the status word as it came."""
        if not response.data:
            return response
        found = _objects(response.data, (TAG_CRYPTOGRAM,))
        plain = self.decrypt(_cryptogram(found[TAG_CRYPTOGRAM], self.suite.block_size))
        return ResponseApdu(plain, response.sw)

    # -- card -------------------------------------------------------------------------------------------

    def unwrap_command(self, command: CommandApdu) -> CommandApdu:
        """The plain command inside a protected one; ``69 88`` for anything ill-formed."""
        self._key()
        if command.cla & _SM_BITS != SM_CLA or not command.data:
            raise SmObjectsIncorrectError(f"CLA {command.cla:02X} with this body is not the card's SM")
        found = _objects(command.data, (TAG_CRYPTOGRAM, TAG_LE))
        data = b""
        if TAG_CRYPTOGRAM in found:
            data = self.decrypt(_cryptogram(found[TAG_CRYPTOGRAM], self.suite.block_size))
        ne = 0
        if TAG_LE in found:
            if len(found[TAG_LE]) != 2:
                raise SmObjectsIncorrectError(f"96 holds {len(found[TAG_LE])} bytes, not 2")
            ne = int.from_bytes(found[TAG_LE], "big") or _WHOLE_FILE
        cla = command.cla & ~_SM_BITS
        return CommandApdu(cla, command.ins, command.p1, command.p2, data, ne, extended=ne > 256 or None)

    def wrap_response(self, data: bytes, sw: int) -> ResponseApdu:
        """``86 L 01 <cryptogram>`` and the plain status word; no data, no object."""
        return ResponseApdu(cryptogram_object(self.encrypt(data)) if data else b"", sw)
