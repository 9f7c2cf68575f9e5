"""Command APDU: strict parsing and encoding of cases 1–4, short and extended (ISO/IEC 7816-3, 7816-4).

Malformed input is rejected, never padded or guessed: a body whose length fits no case raises
``ApduFormatError`` carrying ``67 00``; a class byte the standard reserves carries ``6E 00``.
"""

from __future__ import annotations

from enum import IntEnum

from mynacard.apdu.status import SW


class ApduFormatError(ValueError):
    """The bytes are not a well-formed command APDU; ``sw`` is what a card answers."""

    def __init__(self, sw: SW, reason: str) -> None:
        super().__init__(reason)
        self.sw = sw


class Case(IntEnum):
    """ISO 7816-3 command cases: 1 = no data, no Le; 2 = Le only; 3 = data only; 4 = data and Le."""

    ONE = 1
    TWO = 2
    THREE = 3
    FOUR = 4


class SecureMessaging(IntEnum):
    """Secure-messaging indication of the class byte (ISO 7816-4 §5.4.1)."""

    NONE = 0
    PROPRIETARY = 1
    HEADER_NOT_AUTHENTICATED = 2
    HEADER_AUTHENTICATED = 3


class ClassByte:
    """The decoded class byte: logical channel, command chaining, secure messaging, proprietary bit.

    Proprietary classes (b8 = 1, e.g. ``80`` for the card's ``80 2A`` signature) keep the interindustry
    coding of the low bits, as GlobalPlatform and the My Number card use it.
    """

    __slots__ = ("chaining", "channel", "proprietary", "secure_messaging", "value")

    def __init__(self, value: int) -> None:
        if value == 0xFF:
            raise ApduFormatError(SW.CLA_NOT_SUPPORTED, "CLA FF is invalid (reserved for PPS)")
        low = value & 0x7F
        if 0x20 <= low < 0x40:
            raise ApduFormatError(SW.CLA_NOT_SUPPORTED, f"CLA {value:02X} is reserved for future use")
        self.value = value
        self.proprietary = bool(value & 0x80)
        self.chaining = bool(low & 0x10)
        if low < 0x20:  # first interindustry values
            self.channel = low & 0x03
            self.secure_messaging = SecureMessaging((low >> 2) & 0x03)
        else:  # further interindustry values: channels 4..19
            self.channel = 4 + (low & 0x0F)
            self.secure_messaging = (
                SecureMessaging.HEADER_NOT_AUTHENTICATED if low & 0x20 else SecureMessaging.NONE
            )

    def __repr__(self) -> str:
        return (
            f"ClassByte({self.value:02X}: channel={self.channel}, chaining={self.chaining}, "
            f"sm={self.secure_messaging.name}, proprietary={self.proprietary})"
        )


class CommandApdu:
    """An immutable command APDU.

    ``ne`` is the maximum number of response bytes expected: 0 when Le is absent, 256 for a short
    Le ``00`` and 65536 for an extended Le ``00 00``.
    """

    __slots__ = ("case", "cla", "data", "extended", "ins", "ne", "p1", "p2")

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes
    ne: int
    case: Case
    extended: bool

    def __init__(
        self,
        cla: int,
        ins: int,
        p1: int,
        p2: int,
        data: bytes = b"",
        ne: int = 0,
        *,
        extended: bool | None = None,
    ) -> None:
        for name, value in (("CLA", cla), ("INS", ins), ("P1", p1), ("P2", p2)):
            if not 0 <= value <= 0xFF:
                raise ValueError(f"{name} must be a byte, got {value}")
        if len(data) > 65535:
            raise ValueError(f"Nc must be at most 65535, got {len(data)}")
        if not 0 <= ne <= 65536:
            raise ValueError(f"Ne must be 0..65536, got {ne}")
        needs_extended = len(data) > 255 or ne > 256
        if extended is False and needs_extended:
            raise ValueError(f"Nc={len(data)} / Ne={ne} needs the extended form")
        self.cla, self.ins, self.p1, self.p2 = cla, ins, p1, p2
        self.data = bytes(data)
        self.ne = ne
        self.extended = needs_extended if extended is None else extended
        self.case = Case(1 + (1 if ne else 0) + (2 if data else 0))

    @classmethod
    def from_bytes(cls, raw: bytes) -> CommandApdu:
        """Parse ``raw`` strictly; raise ``ApduFormatError`` (``67 00``) when no case fits its length."""
        n = len(raw)
        if n < 4:
            raise ApduFormatError(SW.WRONG_LENGTH, f"a command APDU has a 4-byte header, got {n} byte(s)")
        self = cls.__new__(cls)
        self.cla, self.ins, self.p1, self.p2 = raw[0], raw[1], raw[2], raw[3]
        if n == 4:
            self._set(b"", 0, Case.ONE, False)
        elif n == 5:
            self._set(b"", raw[4] or 256, Case.TWO, False)
        elif raw[4]:
            self._parse_short_body(raw)
        else:
            self._parse_extended_body(raw)
        return self

    def _set(self, data: bytes, ne: int, case: Case, extended: bool) -> None:
        self.data, self.ne, self.case, self.extended = data, ne, case, extended

    def _parse_short_body(self, raw: bytes) -> None:
        nc = raw[4]
        if len(raw) == 5 + nc:
            self._set(bytes(raw[5:]), 0, Case.THREE, False)
        elif len(raw) == 6 + nc:
            self._set(bytes(raw[5:-1]), raw[-1] or 256, Case.FOUR, False)
        else:
            raise ApduFormatError(SW.WRONG_LENGTH, f"Lc={nc} does not match a body of {len(raw) - 4} bytes")

    def _parse_extended_body(self, raw: bytes) -> None:
        n = len(raw)
        if n == 7:
            self._set(b"", (raw[5] << 8 | raw[6]) or 65536, Case.TWO, True)
            return
        if n < 7:
            raise ApduFormatError(SW.WRONG_LENGTH, f"a {n - 4}-byte body starting with 00 fits no case")
        nc = raw[5] << 8 | raw[6]
        if nc == 0:
            raise ApduFormatError(SW.WRONG_LENGTH, "extended Lc 00 00 is not allowed")
        if n == 7 + nc:
            self._set(bytes(raw[7:]), 0, Case.THREE, True)
        elif n == 9 + nc:
            self._set(bytes(raw[7:-2]), (raw[-2] << 8 | raw[-1]) or 65536, Case.FOUR, True)
        else:
            raise ApduFormatError(SW.WRONG_LENGTH, f"extended Lc={nc} does not match a body of {n - 4} bytes")

    @property
    def header(self) -> bytes:
        return bytes((self.cla, self.ins, self.p1, self.p2))

    @property
    def le_present(self) -> bool:
        return self.ne != 0

    def class_byte(self) -> ClassByte:
        """Decode CLA; raises ``ApduFormatError`` (``6E 00``) for reserved values."""
        return ClassByte(self.cla)

    def to_bytes(self) -> bytes:
        out = bytearray(self.header)
        if self.extended:
            if self.data:
                out += b"\x00" + len(self.data).to_bytes(2, "big") + self.data
            if self.ne:
                prefix = b"" if self.data else b"\x00"
                out += prefix + (self.ne & 0xFFFF).to_bytes(2, "big")
        else:
            if self.data:
                out += bytes((len(self.data),)) + self.data
            if self.ne:
                out.append(self.ne & 0xFF)
        return bytes(out)

    def __bytes__(self) -> bytes:
        return self.to_bytes()

    def with_ne(self, ne: int) -> CommandApdu:
        """The same command asking for ``ne`` response bytes (e.g. resend after ``6C xx``)."""
        return CommandApdu(self.cla, self.ins, self.p1, self.p2, self.data, ne)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CommandApdu):
            return NotImplemented
        return self.to_bytes() == other.to_bytes()

    def __hash__(self) -> int:
        return hash(self.to_bytes())

    def __repr__(self) -> str:
        return f"CommandApdu({self.to_bytes().hex(' ').upper()})"
