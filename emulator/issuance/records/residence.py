"""The residence card's EF contents (在留カード等のEF内データ), both generations (residence-card.md §3).

Every value is a BER-TLV of its maximum length, the unused space filled with ``00`` (§3.2), so each EF has
exactly the size the spec gives; where a value is an image the TLV length is the maximum too. The
exceptions the spec shows: the certificates ``DB`` / ``DD`` carry their own length and the EF is zero-filled
after them. Images are TEST drawings: MMR (CCITT G4) TIFF for the card face, name and address, JPEG 2000
for the face photo. Signatures come from ``residence_pki`` (TEST anchor ``ZairyuCard-TEST``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from cryptography.hazmat.primitives import serialization
from PIL import Image, ImageDraw

from mynacard.apdu.sm.residence import card_number_bytes, card_number_key
from mynacard.apdu.tlv import ber_encode
from mynacard.emulator.issuance.imaging import cjk_font, render_photo
from mynacard.emulator.issuance.personas import Persona, ResidenceHolder
from mynacard.emulator.issuance.residence_pki import (
    ResidenceAnchor,
    card_signing_key,
    issue_card_certificate,
    sign_card_data,
)

FRONT_IMAGE_MAX = 7000
"""gen1 DF1/EF01 D0: 券面(表)イメージ."""
FACE_IMAGE_MAX = 3000
"""D1: 顔画像, both generations."""
NAME_IMAGE_MAX = 2500
"""gen2 DF1/EF03 D0: 氏名イメージ."""
ADDRESS_IMAGE_MAX = 2500
"""gen2 DF1/EF04 DF D1: 住居地イメージ."""
ADDRESS_TEXT_MAX = 320
PERMISSION_TEXT_MAX = 120
PRINTED_ENTRIES_MAX = 53
"""gen2: the printed entries' values as signed (the SPRC's 34 bytes NUL-padded)."""
SIGNATURE_EF = {"gen1": 1464, "gen2": 704}
CERTIFICATE_MAX = {"gen1": 1200, "gen2": 602}
CARD_TYPES = {
    ("gen1", "residence_card"): "1",
    ("gen1", "special_permanent_resident"): "2",
    ("gen2", "residence_card"): "05",
    ("gen2", "special_permanent_resident"): "06",
    ("specified", "residence_card"): "07",
    ("specified", "special_permanent_resident"): "08",
}
"""C1 カード種別 (§1)."""


class ResidenceRecordError(ValueError):
    """A holder's data does not fit the card's fixed fields."""


@dataclass(frozen=True, slots=True)
class ResidenceOptions:
    """The profile's ``[residence]`` choices the records need."""

    generation: str
    text_encoding: str = "utf-8"
    other_length_form: str = "two_bytes"
    specified: bool = False
    """特定在留カード (the 在留AP on a My Number card): card types "07" / "08"."""


def fixed(tag: int, value: bytes, size: int, *, two_byte_length: bool = False) -> bytes:
    """``tag`` with a value of exactly ``size`` bytes: ``value`` NUL-filled (§3.2)."""
    if len(value) > size:
        raise ResidenceRecordError(f"tag {tag:X}: {len(value)} bytes do not fit {size}")
    return ber_encode(tag, value + bytes(size - len(value)), two_byte_length=two_byte_length)


def _ymd(day: date | None) -> bytes:
    return day.strftime("%Y%m%d").encode("ascii") if day is not None else b"00000000"


def _flag(value: bool) -> bytes:
    return b"1" if value else b"0"


def holder(persona: Persona) -> ResidenceHolder:
    if persona.residence is None:
        raise ResidenceRecordError(f"TEST persona {persona.id!r} has no [residence] table")
    return persona.residence


# -- images ------------------------------------------------------------------------------------------------


def _g4_tiff(lines: list[str], font_size: int, width: int) -> bytes:
    """Black text on white, 1 bit per pixel, saved as MMR (CCITT Group 4) TIFF."""
    font = cjk_font(font_size)
    image = Image.new("1", (width, font_size * len(lines) + 8), 1)
    draw = ImageDraw.Draw(image)
    for row, line in enumerate(lines):
        draw.text((4, 4 + row * font_size), line, font=font, fill=0)
    buffer = io.BytesIO()
    image.save(buffer, format="TIFF", compression="group4")
    return buffer.getvalue()


def _fit(data: bytes, size: int, what: str) -> bytes:
    if len(data) > size:
        raise ResidenceRecordError(f"{what}: {len(data)} bytes exceed the field's {size}")
    return data


def front_image(persona: Persona) -> bytes:
    """gen1 券面(表)イメージ: the printed front as an MMR TIFF (TEST drawing)."""
    card = holder(persona)
    title = "特別永住者証明書 TEST" if card.special_permanent_resident else "在留カード TEST"
    lines = [
        f"{title}  {card.card_number}",
        f"氏名 {persona.name_roman}",
        f"生年月日 {persona.birth_date:%Y-%m-%d}  国籍・地域 {card.nationality}",
        f"住居地 {persona.address}",
        f"在留資格 {card.status_of_residence}  在留期間 {card.period_of_stay}",
        f"このカードは {card.card_expiry:%Y-%m-%d} まで有効",
    ]
    return _fit(_g4_tiff(lines, 16, 600), FRONT_IMAGE_MAX, "front image")


def face_image(persona: Persona) -> bytes:
    """顔画像: JPEG 2000 of the persona's synthetic face; none for a holder without photo (§3.3.5)."""
    if not holder(persona).has_photo:
        return b""
    return _fit(render_photo(persona), FACE_IMAGE_MAX, "face image")


def name_image(persona: Persona) -> bytes:
    return _fit(_g4_tiff([persona.name_roman], 24, 400), NAME_IMAGE_MAX, "name image")


def address_image(persona: Persona) -> bytes:
    """gen2 住居地イメージ: 24 characters a line at 16 px, smaller (down to 8 px, 48 a line) when a long
    address would not fit the field's 2,500 bytes, as a card prints a long address smaller."""
    for size, step in ((16, 24), (12, 32), (10, 40), (8, 48)):
        lines = [persona.address[i : i + step] for i in range(0, len(persona.address), step)]
        image = _g4_tiff(lines, size, size * step + 8)
        if len(image) <= ADDRESS_IMAGE_MAX:
            return image
    return _fit(image, ADDRESS_IMAGE_MAX, "address image")


# -- common to both generations ----------------------------------------------------------------------------


def card_type(persona: Persona, options: ResidenceOptions) -> bytes:
    """MF/EF02: ``C1 01 31`` (gen 1), ``C1 02 30 35`` (gen 2), ``C1 02 30 37`` (specified)."""
    family = "specified" if options.specified else options.generation
    return ber_encode(0xC1, CARD_TYPES[(family, holder(persona).kind)].encode("ascii"))


def key_file(persona: Persona) -> bytes:
    """The MF's internal EF: Kenc = Kmac = SHA-1(card number)[:16], never read out."""
    return card_number_key(card_number_bytes(holder(persona).card_number))


def _signature_file(
    generation: str, tag_signature: int, tag_certificate: int, pair: tuple[bytes, bytes]
) -> bytes:
    signature, certificate = pair
    body = ber_encode(tag_signature, signature, two_byte_length=generation == "gen1")
    body += ber_encode(
        tag_certificate, _fit(certificate, CERTIFICATE_MAX[generation], "certificate"), two_byte_length=True
    )
    return body + bytes(SIGNATURE_EF[generation] - len(body))


def _signed(persona: Persona, anchor: ResidenceAnchor, data: bytes) -> tuple[bytes, bytes]:
    card = holder(persona)
    key = card_signing_key(anchor.generation)
    certificate = issue_card_certificate(anchor, card.card_number, key, persona.issue_date, card.card_expiry)
    return sign_card_data(key, data), certificate.public_bytes(serialization.Encoding.DER)


# -- first generation --------------------------------------------------------------------------------------


def gen1_contents(persona: Persona, anchor: ResidenceAnchor, options: ResidenceOptions) -> dict[str, bytes]:
    """Every gen-1 EF (§3.2); the SPRC has DF2/EF01 only."""
    card = holder(persona)
    front, face = front_image(persona), face_image(persona)
    images = fixed(0xD0, front, FRONT_IMAGE_MAX), fixed(0xD1, face, FACE_IMAGE_MAX)
    signed = images[0][4:] + images[1][4:]  # D0 and D1 values, NUL-padded (§5.3)
    text = options.text_encoding
    contents = {
        "residence.card_type": card_type(persona, options),
        "residence.card_number_key": key_file(persona),
        "residence.front_image": images[0],
        "residence.face_image": images[1],
        "residence.address": fixed(0xD2, _ymd(card.address_date), 8)
        + fixed(0xD3, card.municipality_code.encode("ascii"), 6)
        + fixed(0xD4, persona.address.encode(text), ADDRESS_TEXT_MAX),
        "residence.signature": _signature_file("gen1", 0xDA, 0xDB, _signed(persona, anchor, signed)),
    }
    if not card.special_permanent_resident:
        contents["residence.activity_permission"] = fixed(
            0xD5, card.activity_permission_text.encode(text), PERMISSION_TEXT_MAX
        )
        contents["residence.individual_permission"] = fixed(
            0xD6, card.individual_permission_text.encode(text), PERMISSION_TEXT_MAX
        )
        contents["residence.renewal"] = fixed(0xD7, _flag(card.renewal_pending), 1)
    return contents


# -- second generation -------------------------------------------------------------------------------------


def _sex(persona: Persona) -> bytes:
    """C7: 1 男, 2 女, 3 不詳."""
    return str(int(persona.sex)).encode() if int(persona.sex) in (1, 2) else b"3"


def printed_entries(persona: Persona) -> list[bytes]:
    """DF1/EF02 券面記載事項 in file order; the SPRC has no CA, CB, CC, CD (§3.3)."""
    card = holder(persona)
    entries = [
        fixed(0xC5, _ymd(card.card_expiry), 8),
        fixed(0xC6, _ymd(persona.birth_date), 8),
        fixed(0xC7, _sex(persona), 1),
        fixed(0xC8, card.nationality.encode("ascii"), 3),
        fixed(0xC9, card.status_of_residence.encode("ascii"), 10),
        fixed(0xCE, card.period_of_stay.encode("ascii"), 4),
    ]
    if not card.special_permanent_resident:
        entries.insert(6, fixed(0xCA, card.permission_type.encode("ascii"), 2))
        entries.insert(7, fixed(0xCB, _ymd(card.permission_date), 8))
        entries.insert(8, fixed(0xCC, card.work_restriction.encode("ascii"), 1))
        entries.insert(9, fixed(0xCD, _ymd(card.stay_expiry), 8))
    return entries


def _values(tlvs: list[bytes]) -> bytes:
    """The values of short-length TLVs, as the signature takes them."""
    return b"".join(t[2:] for t in tlvs)


def gen2_contents(persona: Persona, anchor: ResidenceAnchor, options: ResidenceOptions) -> dict[str, bytes]:
    """Every gen-2 EF (§3.3); the SPRC has DF2/EF03 only in DF2."""
    card = holder(persona)
    entries = printed_entries(persona)
    name, face = (
        fixed(0xD0, name_image(persona), NAME_IMAGE_MAX),
        fixed(0xD1, face_image(persona), FACE_IMAGE_MAX),
    )
    signed = _values(entries).ljust(PRINTED_ENTRIES_MAX, b"\x00") + face[4:] + name[4:]  # §5.3
    other = fixed(0xD9, _flag(card.commissioner_note), 1)
    other += fixed(0xDE, b"", 200, two_byte_length=options.other_length_form == "two_bytes")
    contents = {
        "residence.card_type": card_type(persona, options),
        "residence.card_number_key": key_file(persona),
        "residence2.card_number": fixed(0xC2, card.card_number.encode("ascii"), 12),
        "residence2.printed_entries": b"".join(entries),
        "residence2.name_and_face": name + face,
        "residence2.address_image": fixed(0xDFD1, address_image(persona), ADDRESS_IMAGE_MAX),
        "residence2.other": other,
        "residence.signature": _signature_file("gen2", 0xDC, 0xDD, _signed(persona, anchor, signed)),
    }
    if not card.special_permanent_resident:
        contents["residence2.activity_permission"] = (
            fixed(0xD5, card.activity_permission.encode("ascii"), 7)
            + fixed(0xD6, _ymd(card.activity_permission_expiry), 8)
            + fixed(0xD7, _flag(bool(card.individual_permission_text)), 1)
        )
        contents["residence2.renewal"] = fixed(0xD8, _flag(card.renewal_pending), 1)
    return contents
