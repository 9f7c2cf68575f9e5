"""Shared pieces of the legacy-2016 conformance files: APDU helpers that use only ``transmit``, a small
client-side BER reader (what the public clients do on the host), and access to a personalised card's
stored contents (``contents.json``) so a read can be compared byte for byte.

Spec: ../shared/spec/current-card.md (cited as §n).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from apdu.reader import Reader
from apdu.response import ResponseApdu
from emulator.card import Card
from emulator.personalise import load_card
from emulator.state import StateStore
from tests.conformance import (  # noqa: F401  (re-exported for the legacy suites)
    COMMON_AID,
    ISD_AID,
    JPKI_AID,
    JUKI_AID,
    OK,
    SHA256_DIGEST_INFO_PREFIX,
    TEXT_AID,
    VISUAL_AID,
)

SECURITY_NOT_SATISFIED = 0x6982
INCOMPATIBLE_WITH_FILE = 0x6981
REFERENCE_DATA_BLOCKED = 0x6984
RECORD_NOT_FOUND = 0x6A83


def hx(text: str) -> bytes:
    return bytes.fromhex(text)


def show(command: bytes) -> str:
    return command.hex(" ").upper()


def send(reader: Reader, command: bytes | str) -> ResponseApdu:
    return reader.transmit(hx(command) if isinstance(command, str) else command)


def expect(reader: Reader, command: bytes | str, sw: int, data: bytes | None = None) -> ResponseApdu:
    """Send one APDU; assert the status word exactly, and the data when given."""
    raw = hx(command) if isinstance(command, str) else command
    response = reader.transmit(raw)
    assert response.sw == sw, f"{show(raw)}: SW {response.sw:04X}, expected {sw:04X}"
    if data is not None:
        assert response.data == data, f"{show(raw)}: data {response.data.hex(' ')} != {data.hex(' ')}"
    return response


def case3(header: str, data: bytes) -> bytes:
    return hx(header) + bytes((len(data),)) + data


def select_aid(reader: Reader, aid: bytes) -> None:
    """``00 A4 04 0C 0A <AID>``: the form every client sends (§2.1), 90 00 and no data."""
    expect(reader, case3("00 A4 04 0C", aid), OK, b"")


def select_ef(reader: Reader, fid: int) -> None:
    """``00 A4 02 0C 02 <FID>`` (§4.1)."""
    expect(reader, case3("00 A4 02 0C", fid.to_bytes(2, "big")), OK, b"")


def verify_selected(reader: Reader, fid: int, value: bytes, sw: int = OK) -> None:
    """SELECT the key EF, then ``00 20 00 80 Lc <value>`` (§4.4)."""
    select_ef(reader, fid)
    expect(reader, case3("00 20 00 80", value), sw, b"")


def verify_sfi(reader: Reader, fid: int, value: bytes, sw: int = OK) -> None:
    """``00 20 00 <80|SFI> Lc <value>`` with no SELECT (§4.4; MBE, jsapdu)."""
    expect(reader, case3(f"00 20 00 {0x80 | fid:02X}", value), sw, b"")


def read_binary_chunks(reader: Reader, total: int, start: int = 0) -> bytes:
    """OpenSC/MYNA style: 256-byte chunks (Le 00) from ``start``, the last one with the exact Le."""
    out = bytearray()
    position = start
    while position < total:
        n = min(256, total - position)
        command = bytes((0x00, 0xB0, position >> 8, position & 0xFF, n & 0xFF))
        response = expect(reader, command, OK)
        assert len(response.data) == n, f"{show(command)}: {len(response.data)} bytes, asked {n}"
        out += response.data
        position += n
    return bytes(out)


def sha256_digest_info(digest: bytes) -> bytes:
    assert len(digest) == 32
    return SHA256_DIGEST_INFO_PREFIX + digest


# --- a client-side BER reader (the host's view, independent of apdu.tlv) ---------------------------


@dataclass(frozen=True)
class Ber:
    tag: int
    value: bytes
    start: int
    header: int

    @property
    def end(self) -> int:
        return self.start + self.header + len(self.value)

    @property
    def encoded_length(self) -> int:
        return self.header + len(self.value)


def ber_at(data: bytes, pos: int = 0) -> Ber:
    """One BER-TLV at ``pos`` (multi-byte tags, definite lengths up to 3 length bytes)."""
    start = pos
    tag = data[pos]
    pos += 1
    if tag & 0x1F == 0x1F:
        while True:
            tag = tag << 8 | data[pos]
            pos += 1
            if not data[pos - 1] & 0x80:
                break
    first = data[pos]
    pos += 1
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        assert 1 <= count <= 3, f"length form {first:02X} at {pos - 1}"
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    assert pos + length <= len(data), f"tag {tag:X} at {start}: {length} bytes declared, data too short"
    return Ber(tag, data[pos : pos + length], start, pos - start)


def ber_children(value: bytes) -> list[Ber]:
    out: list[Ber] = []
    pos = 0
    while pos < len(value):
        item = ber_at(value, pos)
        out.append(item)
        pos = item.end
    return out


def ber_header_total(head: bytes) -> int:
    """Total size of the object whose first bytes are ``head`` (what a 4- or 7-byte probe is for)."""
    pos = 1
    if head[0] & 0x1F == 0x1F:
        while head[pos] & 0x80:
            pos += 1
        pos += 1
    first = head[pos]
    pos += 1
    if first < 0x80:
        return pos + first
    count = first & 0x7F
    return pos + count + int.from_bytes(head[pos : pos + count], "big")


# --- personalised cards and what personalisation stored -------------------------------------------


def stored_contents(state_dir: Path) -> dict[str, object]:
    """``contents.json`` of a card's state directory: ``files`` and ``records`` keyed ``applet/FID``."""
    document = json.loads((state_dir / StateStore.CONTENTS).read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def stored_file(state_dir: Path, applet: str, fid: int) -> bytes:
    files = stored_contents(state_dir)["files"]
    assert isinstance(files, dict)
    return bytes.fromhex(files[f"{applet}/{fid:04X}"])


def stored_records(state_dir: Path, applet: str, fid: int) -> list[bytes]:
    records = stored_contents(state_dir)["records"]
    assert isinstance(records, dict)
    return [bytes.fromhex(r) for r in records[f"{applet}/{fid:04X}"]]


def open_copy(template: Path, target: Path) -> Card:
    """A fresh card from a copy of a personalised state directory."""
    shutil.copytree(template, target)
    return load_card(StateStore(target))
