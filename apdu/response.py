"""Response APDU: the data field and the trailer SW1 SW2."""

from __future__ import annotations

from mynacard.apdu.status import describe


class ResponseApdu:
    """A response as the host sees it: ``data`` and the status word ``sw`` (SW1 << 8 | SW2)."""

    __slots__ = ("data", "sw")

    def __init__(self, data: bytes, sw: int) -> None:
        self.data = data
        self.sw = sw

    @classmethod
    def from_bytes(cls, raw: bytes) -> ResponseApdu:
        if len(raw) < 2:
            raise ValueError(f"a response APDU has at least SW1 SW2, got {len(raw)} byte(s)")
        return cls(bytes(raw[:-2]), raw[-2] << 8 | raw[-1])

    @property
    def sw1(self) -> int:
        return self.sw >> 8

    @property
    def sw2(self) -> int:
        return self.sw & 0xFF

    @property
    def ok(self) -> bool:
        return self.sw == 0x9000

    def to_bytes(self) -> bytes:
        return self.data + self.sw.to_bytes(2, "big")

    def __bytes__(self) -> bytes:
        return self.to_bytes()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ResponseApdu):
            return NotImplemented
        return self.data == other.data and self.sw == other.sw

    def __hash__(self) -> int:
        return hash((self.data, self.sw))

    def __repr__(self) -> str:
        return f"ResponseApdu(data={self.data.hex(' ').upper()!r}, sw={describe(self.sw)!r})"
