"""Record building blocks both card generations use: BER-TLV objects in the two length forms, the
``DF 21`` offset table of the ``FF 20`` records, the basic 4 attributes (基本4情報) and digests.

Pure functions over bytes; the card-specific layouts live in ``records/legacy.py`` (today's card) and
``records/nextgen.py`` (the next card).
"""

from __future__ import annotations

import hashlib
from typing import Literal

from mynacard.apdu.tlv import ber_decode, ber_encode, encode_length, encode_tag
from mynacard.emulator.issuance.personas import Persona

__all__ = [
    "TAG_OFFSETS",
    "LengthForm",
    "attributes_digest_source",
    "basic_attribute_fields",
    "header_length",
    "sha256",
    "sha384",
    "tlv",
    "with_offset_table",
]

LengthForm = Literal["short", "long"]

TAG_OFFSETS = 0xDF21
"""The offset table that opens every ``FF 20`` record (spec §3.2)."""


def tlv(tag: int, value: bytes, form: LengthForm = "short") -> bytes:
    """``short`` = minimal definite length (``LL``, ``81 LL``, ``82 HH LL``); ``long`` = ``82 HH LL``,
    the fixed form some files use whatever their length."""
    return ber_encode(tag, value, two_byte_length=form == "long")


def header_length(tag: int, value_length: int, form: LengthForm) -> int:
    """Bytes of tag and length in front of a value of ``value_length`` bytes."""
    return len(encode_tag(tag)) + len(encode_length(value_length, two_bytes=form == "long"))


def with_offset_table(tag: int, fields: list[bytes], form: LengthForm) -> bytes:
    """``<tag> L { DF 21 <2-byte offset of each field's tag, from the start of the file> fields }``."""
    table_length = 3 + 2 * len(fields)  # DF 21 <len> + 2 bytes per field
    value_length = table_length + sum(len(f) for f in fields)
    offsets, position = bytearray(), header_length(tag, value_length, form) + table_length
    for item in fields:
        offsets += position.to_bytes(2, "big")
        position += len(item)
    return tlv(tag, tlv(TAG_OFFSETS, bytes(offsets)) + b"".join(fields), form)


def basic_attribute_fields(persona: Persona) -> list[bytes]:
    """基本4情報 as the text records store them: ``DF 22`` 氏名 (UTF-8), ``DF 23`` 住所 (UTF-8),
    ``DF 24`` 生年月日 ``YYYYMMDD`` (Gregorian, ASCII), ``DF 25`` 性別 (one JIS X 0303 digit)."""
    return [
        tlv(0xDF22, persona.name.encode("utf-8")),
        tlv(0xDF23, persona.address.encode("utf-8")),
        tlv(0xDF24, f"{persona.birth_date:%Y%m%d}".encode("ascii")),
        tlv(0xDF25, str(int(persona.sex)).encode("ascii")),
    ]


def attributes_digest_source(attributes: bytes) -> bytes:
    """What an integrity record's DF32 hashes: the ``FF 20`` outer value after the DF21 table."""
    outer = ber_decode(attributes)
    return outer.value[ber_decode(outer.value).end :]


def sha256(data: bytes) -> bytes:
    """SHA-256 digest (today's card)."""
    return hashlib.sha256(data).digest()


def sha384(data: bytes) -> bytes:
    """SHA-384 digest (the next card)."""
    return hashlib.sha384(data).digest()
