"""BER-TLV and simple-TLV codecs, with the card's own structures as vectors (spec §3.2, §3.4)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mynacard.apdu.tlv import (
    Tlv,
    TlvError,
    ber_decode,
    ber_decode_all,
    ber_encode,
    encode_length,
    encode_tag,
    simple_decode_all,
    simple_encode,
)


def h(text: str) -> bytes:
    return bytes.fromhex(text)


@pytest.mark.parametrize(
    ("n", "encoded"),
    [
        (0, "00"),
        (1, "01"),
        (0x7F, "7F"),
        (0x80, "81 80"),
        (0xFF, "81 FF"),
        (0x100, "82 01 00"),
        (0x0416, "82 04 16"),
        (0xFFFF, "82 FF FF"),
        (0x10000, "83 01 00 00"),
        (0xFFFFFFFF, "84 FF FF FF FF"),
    ],
)
def test_ber_length_forms(n: int, encoded: str) -> None:
    assert encode_length(n) == h(encoded)


def test_ber_length_limits() -> None:
    with pytest.raises(ValueError):
        encode_length(-1)
    with pytest.raises(ValueError):
        encode_length(1 << 32)


@pytest.mark.parametrize(
    ("tag", "encoded"),
    [
        (0x04, "04"),
        (0x6F, "6F"),
        (0x84, "84"),
        (0x5F51, "5F 51"),
        (0x7F21, "7F 21"),
        (0xDF21, "DF 21"),
        (0, "00"),
    ],
)
def test_tag_encoding(tag: int, encoded: str) -> None:
    assert encode_tag(tag) == h(encoded)


def test_negative_tag_is_rejected() -> None:
    with pytest.raises(ValueError):
        encode_tag(-1)


def test_ber_encode_the_fci_of_the_jpki_ap() -> None:
    aid = h("D3 92 F0 00 26 01 00 00 00 01")
    assert ber_encode(0x6F, ber_encode(0x84, aid)) == h("6F 0C 84 0A") + aid


def test_ber_encode_long_values() -> None:
    assert ber_encode(0x30, bytes(0x0416)) == h("30 82 04 16") + bytes(0x0416)
    assert ber_encode(0xDF33, bytes(256)) == h("DF 33 82 01 00") + bytes(256)


def test_decode_the_text_ap_basic_four_layout() -> None:
    # spec §3.2: FF 20 L { DF 21 08 <offsets> DF 22 氏名 DF 23 住所 DF 24 08 YYYYMMDD DF 25 01 性別 }
    name = "試験　太郎".encode()
    inner = (
        ber_encode(0xDF21, h("00 0E 00 20 00 59 00 64"))
        + ber_encode(0xDF22, name)
        + ber_encode(0xDF23, "東京都".encode())
        + ber_encode(0xDF24, b"19800217")
        + ber_encode(0xDF25, b"1")
    )
    outer = ber_encode(0xFF20, inner)
    assert outer[:3] == h("FF 20") + bytes((len(inner),))
    top = ber_decode(outer)
    assert (top.tag, top.offset, top.header_length, top.end) == (0xFF20, 0, 3, len(outer))
    assert top.constructed
    children = top.children()
    assert [c.tag for c in children] == [0xDF21, 0xDF22, 0xDF23, 0xDF24, 0xDF25]
    assert children[1].value.decode() == "試験　太郎"
    assert children[3].value == b"19800217"
    assert not children[0].constructed
    # offsets are relative to the parent value; each object ends where the next starts
    assert [c.offset for c in children[1:]] == [c.end for c in children[:-1]]


def test_decode_a_certificate_header_with_a_long_length() -> None:
    der = h("30 82 01 00") + bytes(256) + h("90 00")  # trailing bytes are not part of the object
    tlv = ber_decode(der)
    assert (tlv.tag, len(tlv.value), tlv.header_length, tlv.end) == (0x30, 256, 4, 260)
    assert tlv.constructed


def test_decode_at_an_offset() -> None:
    data = h("01 01 AA 5F 51 02 BB CC")
    tlv = ber_decode(data, 3)
    assert tlv == Tlv(0x5F51, h("BB CC"), 3, 3)


def test_decode_all() -> None:
    data = h("84 02 AA BB 85 00 7F 21 01 CC")
    assert [(t.tag, t.value) for t in ber_decode_all(data)] == [
        (0x84, h("AA BB")),
        (0x85, b""),
        (0x7F21, h("CC")),
    ]
    assert ber_decode_all(b"") == []


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ("", "tag expected"),
        ("5F", "truncated multi-byte tag"),
        ("5F 81", "truncated multi-byte tag"),
        ("84", "length expected"),
        ("84 80", "unsupported length form 80"),  # indefinite length is not DER
        ("84 85 00 00 00 00 01", "unsupported length form 85"),
        ("84 82 01", "truncated length"),
        ("84 03 AA BB", "declares 3 bytes, only 2"),
        ("30 82 04 16 30 82", "declares 1046 bytes"),
    ],
)
def test_malformed_ber_is_rejected(data: str, problem: str) -> None:
    with pytest.raises(TlvError, match=problem):
        ber_decode(h(data))


def test_decode_all_rejects_trailing_garbage() -> None:
    with pytest.raises(TlvError):
        ber_decode_all(h("84 01 AA 85 05 00"))


@given(
    tag=st.sampled_from([0x04, 0x30, 0x6F, 0x84, 0x5F51, 0x7F21, 0xDF21, 0xFF20, 0x5F8101]),
    value=st.binary(max_size=600),
)
@settings(max_examples=150, deadline=None)
def test_ber_round_trip(tag: int, value: bytes) -> None:
    encoded = ber_encode(tag, value)
    tlv = ber_decode(encoded)
    assert (tlv.tag, tlv.value, tlv.end) == (tag, value, len(encoded))


# --- simple-TLV ----------------------------------------------------------------------------------------


def test_simple_tlv_of_the_common_ap_card_info_record() -> None:
    # spec §3.4: 01 1C + 28 ASCII digits (serial ‖ municipality ‖ expiry)
    digits = b"400000012719843" + b"13221" + b"20350217"
    record = simple_encode(0x01, digits)
    assert record == h("01 1C") + digits
    assert simple_decode_all(record) == [(0x01, digits)]


def test_simple_tlv_length_forms() -> None:
    assert simple_encode(0x10, b"") == h("10 00")
    assert simple_encode(0x10, bytes(0xFE)) == h("10 FE") + bytes(0xFE)
    assert simple_encode(0x10, bytes(0xFF)) == h("10 FF 00 FF") + bytes(0xFF)
    assert simple_encode(0x10, bytes(0x1234)) == h("10 FF 12 34") + bytes(0x1234)
    data = simple_encode(0x10, bytes(300)) + simple_encode(0x11, b"\x01")
    assert simple_decode_all(data) == [(0x10, bytes(300)), (0x11, b"\x01")]


@pytest.mark.parametrize("tag", [0x00, 0xFF, 0x100, -1])
def test_simple_tlv_tag_must_be_01_to_fe(tag: int) -> None:
    with pytest.raises(ValueError):
        simple_encode(tag, b"x")


def test_simple_tlv_value_limit() -> None:
    with pytest.raises(ValueError):
        simple_encode(0x01, bytes(0x10000))


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ("01", "truncated simple-TLV at offset 0"),
        ("01 FF 01", "truncated simple-TLV length"),
        ("00 01 AA", "invalid simple-TLV tag 00"),
        ("FF 01 AA", "invalid simple-TLV tag FF"),
        ("01 05 AA", "declares 5 bytes, 1 present"),
        ("01 01 AA 02", "truncated simple-TLV at offset 3"),
    ],
)
def test_malformed_simple_tlv_is_rejected(data: str, problem: str) -> None:
    with pytest.raises(TlvError, match=problem):
        simple_decode_all(h(data))


@given(st.lists(st.tuples(st.integers(0x01, 0xFE), st.binary(max_size=400)), max_size=5))
@settings(max_examples=100, deadline=None)
def test_simple_tlv_round_trip(objects: list[tuple[int, bytes]]) -> None:
    encoded = b"".join(simple_encode(t, v) for t, v in objects)
    assert simple_decode_all(encoded) == objects


def test_two_byte_length_form_whatever_the_length() -> None:
    """The fixed ``82 HH LL`` form of card structures such as ``7F 21 82 02 33``."""
    assert encode_length(5, two_bytes=True) == bytes.fromhex("82 00 05")
    assert ber_encode(0x7F21, b"\x01", two_byte_length=True) == bytes.fromhex("7F 21 82 00 01 01")
    with pytest.raises(ValueError, match="does not fit 82 HH LL"):
        encode_length(0x10000, two_bytes=True)
