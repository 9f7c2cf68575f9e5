"""READ BINARY (``00 B0``) and READ RECORD (``00 B2``) through any reader.

Spec current-card §3.1, §4.2, §4.3, §8, §9.1–9.4; issue 2 item 3.
"""

from __future__ import annotations

import pytest
from cryptography import x509

from mynacard.apdu.readers.base import Reader
from mynacard.tools.harness.suites.helpers import (
    AUTH_PIN,
    COMMON_AID,
    OK,
    SIGN_PASSWORD,
    certificate_key,
    expect,
    hx,
    read_current_ef,
    read_ef,
    select_aid,
    select_ef,
    select_jpki,
    verify,
)

pytestmark = [
    pytest.mark.applies_to("legacy-2016"),
    pytest.mark.capability("reading"),
    pytest.mark.clause("current-card §3.1, §4.2, §4.3, §9.1–§9.4 (READ BINARY, READ RECORD)"),
]

FREE_CERTIFICATES = [0x0002, 0x000A, 0x000B]


def der_length(header: bytes) -> int:
    """Total length of a DER object from its ``30 82 HH LL`` header (what OpenSC assumes, spec §4.2)."""
    assert header[:2] == hx("30 82"), header.hex(" ")
    return (header[2] << 8 | header[3]) + 4


@pytest.mark.parametrize("fid", FREE_CERTIFICATES)
def test_free_certificates_read_the_opensc_way(shared_reader: Reader, fid: int) -> None:
    """``00 B0 00 00 04``, size = HHLL + 4, then 256-byte chunks (Le 00) and an exact last Le (spec §4.2)."""
    select_jpki(shared_reader)
    select_ef(shared_reader, fid)
    size = der_length(expect(shared_reader, "00 B0 00 00 04", OK).data)
    out = bytearray()
    while len(out) < size:
        n = min(256, size - len(out))
        r = expect(shared_reader, bytes((0x00, 0xB0, len(out) >> 8, len(out) & 0xFF, n & 0xFF)), OK)
        assert len(r.data) == n
        out += r.data
    assert certificate_key(bytes(out)).key_size == 2048
    # nothing but filler (if anything) after the certificate: the whole file starts with it
    assert read_current_ef(shared_reader)[:size] == bytes(out)


def test_the_myna_header_probe_then_the_rest(shared_reader: Reader) -> None:
    """MYNA: 7 bytes at offset 0, then from offset 7 with Le = remaining or 00 (spec §4.2)."""
    select_jpki(shared_reader)
    whole = read_ef(shared_reader, 0x000A)
    head = expect(shared_reader, "00 B0 00 00 07", OK, whole[:7]).data
    size, out = der_length(head), bytearray(head)
    while len(out) < size:
        remaining = size - len(out)
        le = 0 if remaining > 255 else remaining
        r = expect(shared_reader, bytes((0x00, 0xB0, len(out) >> 8, len(out) & 0xFF, le)), OK)
        out += r.data
    assert bytes(out) == whole[:size]


def test_fifteen_bit_offsets(shared_reader: Reader) -> None:
    select_jpki(shared_reader)
    whole = read_ef(shared_reader, 0x000A)
    assert len(whole) > 0x0300
    expect(shared_reader, "00 B0 01 00 10", OK, whole[0x100:0x110])
    expect(shared_reader, "00 B0 02 FF 20", OK, whole[0x2FF:0x31F])
    expect(shared_reader, "00 B0 00 01 01", OK, whole[1:2])


def test_short_le_00_reads_256_bytes(shared_reader: Reader) -> None:
    select_jpki(shared_reader)
    whole = read_ef(shared_reader, 0x000A)
    expect(shared_reader, "00 B0 00 00 00", OK, whole[:256])
    expect(shared_reader, "00 B0 01 00 00", OK, whole[256:512])


def test_sfi_form_reads_without_select_and_makes_the_ef_current(shared_reader: Reader) -> None:
    select_jpki(shared_reader)
    auth = read_ef(shared_reader, 0x000A)
    ca = read_ef(shared_reader, 0x0002)  # 0002 is now the current EF
    expect(shared_reader, "00 B0 8A 00 04", OK, auth[:4])  # P1 = 80 | SFI 0A
    expect(shared_reader, "00 B0 00 00 10", OK, auth[:16])  # 000A is current now, not 0002
    expect(shared_reader, "00 B0 82 10 08", OK, ca[0x10:0x18])  # P2 is the 8-bit offset
    expect(shared_reader, "00 B0 00 00 08", OK, ca[:8])


def test_mbe_reads_the_certificate_with_an_extended_le(shared_reader: Reader) -> None:
    """MBE: ``00 B0 8A 00 04`` then ``00 B0 8A 04 00 HH LL`` (offset 4, extended Le = DER length)."""
    select_jpki(shared_reader)
    whole = read_ef(shared_reader, 0x000A)
    header = expect(shared_reader, "00 B0 8A 00 04", OK).data
    length = header[2] << 8 | header[3]
    rest = expect(shared_reader, bytes((0x00, 0xB0, 0x8A, 0x04, 0x00)) + length.to_bytes(2, "big"), OK).data
    assert len(rest) == length
    x509.load_der_x509_certificate(header + rest)
    assert header + rest == whole[: length + 4]


def test_jsapdu_reads_a_whole_ef_with_extended_le_65536(shared_reader: Reader) -> None:
    """JSAPDU ``readEfBinaryFull``: ``00 B0 8x 00 00 00 00``, Ne = 65536, returns the whole EF + 90 00."""
    select_jpki(shared_reader)
    whole = read_ef(shared_reader, 0x000A)
    expect(shared_reader, "00 B0 8A 00 00 00 00", OK, whole)
    expect(shared_reader, "00 B0 00 00 00 00 00", OK, whole)  # offset form, same Ne
    expect(shared_reader, "00 B0 00 10 00 01 00", OK, whole[0x10:0x110])  # extended Le 256


def test_le_past_the_end_returns_the_rest_with_90_00(shared_reader: Reader) -> None:
    select_jpki(shared_reader)
    expect(shared_reader, "00 B0 88 00 00", OK, hx("8F 8F 00"))  # EF 0008 is 3 bytes (spec §3.1)
    expect(shared_reader, "00 B0 00 01 10", OK, hx("8F 00"))
    whole = read_ef(shared_reader, 0x000A)
    end = len(whole)
    r = expect(shared_reader, bytes((0x00, 0xB0, (end - 2) >> 8, (end - 2) & 0xFF, 0x00)), OK)
    assert r.data == whole[-2:]


@pytest.mark.parametrize("offset_of_end", [0, 1, 0x100])
def test_offset_at_or_past_the_end_is_6b00(shared_reader: Reader, offset_of_end: int) -> None:
    select_jpki(shared_reader)
    size = len(read_ef(shared_reader, 0x000A))
    offset = size + offset_of_end
    expect(shared_reader, bytes((0x00, 0xB0, offset >> 8, offset & 0xFF, 0x01)), 0x6B00, b"")


def test_largest_offset_and_sfi_offset_past_the_end_are_6b00(shared_reader: Reader) -> None:
    select_jpki(shared_reader)
    select_ef(shared_reader, 0x000A)
    expect(shared_reader, "00 B0 7F FF 01", 0x6B00, b"")
    expect(shared_reader, "00 B0 88 03 01", 0x6B00, b"")  # EF 0008 holds 3 bytes
    expect(shared_reader, "00 B0 88 FF 00", 0x6B00, b"")


@pytest.mark.parametrize("fid", [0x0017, 0x0018, 0x001A, 0x001B])
def test_key_and_pin_efs_are_69_81(shared_reader: Reader, fid: int) -> None:
    select_jpki(shared_reader)
    select_ef(shared_reader, fid)
    expect(shared_reader, "00 B0 00 00 01", 0x6981, b"")
    expect(shared_reader, "00 B0 00 00 00", 0x6981, b"")
    expect(shared_reader, bytes((0x00, 0xB0, 0x80 | fid, 0x00, 0x04)), 0x6981, b"")


def test_sign_certificate_needs_the_signature_password(shared_reader: Reader) -> None:
    select_jpki(shared_reader)
    expect(shared_reader, "00 B0 81 00 04", 0x6982, b"")
    select_ef(shared_reader, 0x0001)
    expect(shared_reader, "00 B0 00 00 04", 0x6982, b"")
    expect(shared_reader, "00 B0 00 00 00 00 00", 0x6982, b"")
    verify(shared_reader, 0x98, AUTH_PIN)  # the auth PIN does not open it
    expect(shared_reader, "00 B0 00 00 04", 0x6982, b"")
    verify(shared_reader, 0x9B, SIGN_PASSWORD)
    header = expect(shared_reader, "00 B0 00 00 04", OK).data
    assert certificate_key(read_current_ef(shared_reader)[: der_length(header)]).key_size == 2048
    expect(shared_reader, "00 B0 81 00 04", OK, header)


def test_no_current_ef_is_69_86(shared_reader: Reader) -> None:
    expect(shared_reader, "00 B0 00 00 04", 0x6986, b"")  # after power-on
    select_jpki(shared_reader)
    expect(shared_reader, "00 B0 00 00 04", 0x6986, b"")  # an AP, but no EF yet


@pytest.mark.parametrize("p1", ["A0", "A1", "C0", "CA", "E0", "FF"])
def test_p1_with_b7_or_b6_set_is_no_sfi_and_6a86(shared_reader: Reader, p1: str) -> None:
    select_jpki(shared_reader)
    select_ef(shared_reader, 0x000A)
    expect(shared_reader, f"00 B0 {p1} 00 04", 0x6A86, b"")


def test_sfi_of_no_ef_is_6a82(shared_reader: Reader) -> None:
    select_jpki(shared_reader)
    expect(shared_reader, "00 B0 83 00 04", 0x6A82, b"")  # no EF 0003 in the JPKI-AP


def test_read_binary_without_le_is_67_00(shared_reader: Reader) -> None:
    select_jpki(shared_reader)
    select_ef(shared_reader, 0x000A)
    expect(shared_reader, "00 B0 00 00", 0x6700, b"")
    expect(shared_reader, "00 B0 00 00 01 00", 0x6700, b"")  # a data field is no Le either


def test_read_record_on_a_transparent_ef_is_69_81(shared_reader: Reader) -> None:
    select_jpki(shared_reader)
    select_ef(shared_reader, 0x000A)
    expect(shared_reader, "00 B2 01 04 00", 0x6981, b"")
    expect(shared_reader, "00 B2 01 54 00", 0x6981, b"")  # by SFI 0A: P2 = 0A << 3 | 4


def test_read_record_of_the_common_ap(shared_reader: Reader) -> None:
    """``00 B2 01 0C 00``: record 1 of SFI 1, as MYNA reads it (spec §3.4, §4.3)."""
    select_aid(shared_reader, COMMON_AID)
    record = expect(shared_reader, "00 B2 01 0C 00", OK).data
    assert record[:2] == hx("01 1C")
    assert len(record) == 30 and record[2:].isdigit()
    select_ef(shared_reader, 0x0001)
    expect(shared_reader, "00 B2 01 04 00", OK, record)  # the current EF, P2 = 04
    expect(shared_reader, "00 B2 01 05 00", OK, record)  # record 1 to the last
    expect(shared_reader, "00 B2 02 04 00", 0x6A83, b"")  # no record 2
    expect(shared_reader, "00 B0 00 00 01", 0x6981, b"")  # READ BINARY on a record EF
