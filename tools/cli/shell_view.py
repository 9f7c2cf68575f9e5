"""How the shell shows an answer: the exchange as a trace shows it, a hex dump, and a BER-TLV view.

The TLV view (``mynacard.apdu.tlv``) is shown only when the data is BER-TLV from its first byte to its
end or to padding (a run of ``FF`` or ``00`` after an object, as EFs larger than their content hold).
"""

from __future__ import annotations

from mynacard.apdu.tlv import Tlv, TlvError, ber_decode
from mynacard.apdu.trace import Exchange

ECHO_BYTES = 32
"""An echoed answer shows this many bytes of data, then how many there were."""
DUMP_WIDTH = 16
TLV_VALUE_BYTES = 16
TLV_MAX_LINES = 60
TLV_MAX_DEPTH = 8
_PADDING = (0xFF, 0x00)


def echo(exchange: Exchange, limit: int | None = ECHO_BYTES) -> list[str]:
    """``> command`` (secrets masked) and ``< data  SW: meaning``, the data cut at ``limit`` bytes."""
    data, sw = exchange.response[:-2], exchange.response[-2:]
    shown = Exchange(b"", sw).response_text()
    if data:
        text = data[:limit].hex(" ").upper() if limit is not None else data.hex(" ").upper()
        more = f" … ({len(data)} bytes)" if limit is not None and len(data) > limit else ""
        shown = f"{text}{more}  {shown}"
    return [f"> {exchange.command_text()}", f"< {shown}"]


def hex_dump(data: bytes) -> list[str]:
    """Offset, 16 bytes of hex, and their printable ASCII."""
    lines = []
    for offset in range(0, len(data), DUMP_WIDTH):
        chunk = data[offset : offset + DUMP_WIDTH]
        text = "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in chunk)
        lines.append(f"{offset:04X}  {chunk.hex(' ').upper():<{DUMP_WIDTH * 3 - 1}}  {text}")
    return lines


def decode_tlv(data: bytes) -> tuple[list[Tlv], int] | None:
    """The data objects and the number of padding bytes after them, or None when it is not BER-TLV."""
    objects: list[Tlv] = []
    position = 0
    while position < len(data):
        rest = data[position:]
        if objects and rest[0] in _PADDING and rest.count(rest[0]) == len(rest):
            return objects, len(rest)
        try:
            tlv = ber_decode(data, position)
        except TlvError:
            return None
        objects.append(tlv)
        position = tlv.end
    return (objects, 0) if objects else None


def tlv_view(data: bytes) -> list[str]:
    """An indented tree of the data objects (empty when the data is not BER-TLV)."""
    decoded = decode_tlv(data)
    if decoded is None:
        return []
    objects, padding = decoded
    lines: list[str] = []
    for tlv in objects:
        _render(tlv, 0, lines)
    if len(lines) > TLV_MAX_LINES:
        lines[TLV_MAX_LINES:] = [f"… ({len(lines) - TLV_MAX_LINES} more lines)"]
    if padding:
        lines.append(f"+ {padding} padding bytes {data[-1]:02X}")
    return lines


def _render(tlv: Tlv, depth: int, lines: list[str]) -> None:
    head = f"{'  ' * depth}{tlv.tag:02X} ({len(tlv.value)} {'byte' if len(tlv.value) == 1 else 'bytes'})"
    children = _children(tlv) if depth < TLV_MAX_DEPTH else None
    if children is None:
        lines.append(f"{head}: {_value_text(tlv.value)}" if tlv.value else head)
        return
    lines.append(head)
    for child in children:
        _render(child, depth + 1, lines)


def _children(tlv: Tlv) -> list[Tlv] | None:
    if not tlv.constructed or not tlv.value:
        return None
    try:
        return tlv.children()
    except TlvError:
        return None


def _value_text(value: bytes) -> str:
    shown = value[:TLV_VALUE_BYTES].hex(" ").upper()
    if len(value) > TLV_VALUE_BYTES:
        shown += " …"
    if all(0x20 <= b < 0x7F for b in value):
        shown += f'  "{value.decode("ascii")}"'
    return shown
