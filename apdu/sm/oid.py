"""Object identifiers as DER content octets (X.690 §8.19), for the protocol OIDs of PACE."""

from __future__ import annotations


def encode_oid(dotted: str) -> bytes:
    """``"0.4.0.127.0.7.2.2.4.2.2"`` → ``04 00 7F 00 07 02 02 04 02 02`` (the value of ``06 L …``)."""
    arcs = [int(part) for part in dotted.split(".")]
    if len(arcs) < 2 or arcs[0] > 2 or (arcs[0] < 2 and arcs[1] > 39) or min(arcs) < 0:
        raise ValueError(f"not an object identifier: {dotted!r}")
    out = bytearray()
    for arc in [40 * arcs[0] + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        while arc > 0x7F:
            arc >>= 7
            chunk.append(0x80 | arc & 0x7F)
        out += bytes(reversed(chunk))
    return bytes(out)


def decode_oid(value: bytes) -> str:
    """The dotted form of DER content octets; ``ValueError`` when they are not minimal and complete."""
    if not value or value[-1] & 0x80:
        raise ValueError("truncated object identifier")
    arcs: list[int] = []
    arc = 0
    for i, byte in enumerate(value):
        if arc == 0 and byte == 0x80 and (i == 0 or not value[i - 1] & 0x80):
            raise ValueError("non-minimal object identifier arc")
        arc = arc << 7 | byte & 0x7F
        if not byte & 0x80:
            arcs.append(arc)
            arc = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(str(a) for a in [first, arcs[0] - 40 * first, *arcs[1:]])
