"""BER-TLV (ISO/IEC 7816-4 §5.2, X.690 tag and length rules) and simple-TLV codecs."""

from __future__ import annotations

from dataclasses import dataclass


class TlvError(ValueError):
    """Bytes that are not well-formed TLV."""


def encode_length(n: int, *, two_bytes: bool = False) -> bytes:
    """BER definite length: short form below 128, else ``81 LL``, ``82 HH LL``, ``83 …``.

    ``two_bytes`` always gives ``82 HH LL``, the fixed form several card structures use whatever
    their length (e.g. ``7F 21 82 02 33``, ``FF 30 82 01 4B``).
    """
    if n < 0:
        raise ValueError(f"length must be non-negative, got {n}")
    if two_bytes:
        if n > 0xFFFF:
            raise ValueError(f"length {n} does not fit 82 HH LL")
        return b"\x82" + n.to_bytes(2, "big")
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    if len(body) > 4:
        raise ValueError(f"length {n} is too large for BER-TLV here")
    return bytes((0x80 | len(body),)) + body


def encode_tag(tag: int) -> bytes:
    """The tag as its bytes (``0x5F51`` → ``5F 51``); multi-byte tags are given as one integer."""
    if tag < 0:
        raise ValueError(f"tag must be non-negative, got {tag}")
    return tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")


def ber_encode(tag: int, value: bytes, *, two_byte_length: bool = False) -> bytes:
    """One BER-TLV data object (``two_byte_length``: the fixed ``82 HH LL`` length form)."""
    return encode_tag(tag) + encode_length(len(value), two_bytes=two_byte_length) + value


@dataclass(frozen=True, slots=True)
class Tlv:
    """A decoded data object: ``tag`` as an integer, ``value``, and where it sat in the input."""

    tag: int
    value: bytes
    offset: int
    header_length: int

    @property
    def constructed(self) -> bool:
        first = self.tag.to_bytes(max(1, (self.tag.bit_length() + 7) // 8), "big")[0]
        return bool(first & 0x20)

    @property
    def end(self) -> int:
        return self.offset + self.header_length + len(self.value)

    def children(self) -> list[Tlv]:
        """Decode the value as a sequence of BER-TLV objects (for constructed tags)."""
        return ber_decode_all(self.value)


def _read_tag(data: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(data):
        raise TlvError(f"tag expected at offset {pos}")
    first = data[pos]
    tag, pos = first, pos + 1
    if first & 0x1F == 0x1F:
        while True:
            if pos >= len(data):
                raise TlvError("truncated multi-byte tag")
            tag = tag << 8 | data[pos]
            pos += 1
            if not data[pos - 1] & 0x80:
                break
    return tag, pos


def _read_length(data: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(data):
        raise TlvError(f"length expected at offset {pos}")
    first = data[pos]
    if first < 0x80:
        return first, pos + 1
    count = first & 0x7F
    if count == 0 or count > 4:
        raise TlvError(f"unsupported length form {first:02X} at offset {pos}")
    if pos + 1 + count > len(data):
        raise TlvError("truncated length")
    return int.from_bytes(data[pos + 1 : pos + 1 + count], "big"), pos + 1 + count


def ber_decode(data: bytes, offset: int = 0) -> Tlv:
    """Decode the one data object starting at ``offset``."""
    tag, pos = _read_tag(data, offset)
    length, pos = _read_length(data, pos)
    if pos + length > len(data):
        raise TlvError(f"tag {tag:X} declares {length} bytes, only {len(data) - pos} present")
    return Tlv(tag, bytes(data[pos : pos + length]), offset, pos - offset)


def encoded_size(head: bytes) -> int:
    """The whole size of the object whose first bytes are ``head`` (tag, length and value), from its
    header alone: what a host needs to read a TLV file of unknown length."""
    _, pos = _read_tag(head, 0)
    length, pos = _read_length(head, pos)
    return pos + length


def ber_decode_all(data: bytes) -> list[Tlv]:
    """Decode consecutive data objects until the end of ``data``."""
    out: list[Tlv] = []
    pos = 0
    while pos < len(data):
        tlv = ber_decode(data, pos)
        out.append(tlv)
        pos = tlv.end
    return out


def simple_encode(tag: int, value: bytes) -> bytes:
    """Simple-TLV (ISO 7816-4 §5.2.1): one tag byte 01–FE, length ``LL`` or ``FF HH LL``."""
    if not 0x01 <= tag <= 0xFE:
        raise ValueError(f"a simple-TLV tag is 01..FE, got {tag:02X}")
    n = len(value)
    if n > 0xFFFF:
        raise ValueError(f"simple-TLV value too long: {n}")
    length = bytes((n,)) if n < 0xFF else b"\xff" + n.to_bytes(2, "big")
    return bytes((tag,)) + length + value


def simple_decode_all(data: bytes) -> list[tuple[int, bytes]]:
    """Decode consecutive simple-TLV objects."""
    out: list[tuple[int, bytes]] = []
    pos = 0
    while pos < len(data):
        if pos + 2 > len(data):
            raise TlvError(f"truncated simple-TLV at offset {pos}")
        tag, n = data[pos], data[pos + 1]
        pos += 2
        if n == 0xFF:
            if pos + 2 > len(data):
                raise TlvError("truncated simple-TLV length")
            n = int.from_bytes(data[pos : pos + 2], "big")
            pos += 2
        if tag in (0x00, 0xFF):
            raise TlvError(f"invalid simple-TLV tag {tag:02X}")
        if pos + n > len(data):
            raise TlvError(f"simple-TLV tag {tag:02X} declares {n} bytes, {len(data) - pos} present")
        out.append((tag, bytes(data[pos : pos + n])))
        pos += n
    return out
