"""The residence card from the reader's side (在留カード等の読み出し, residence-card.md §6): both generations.

``ResidenceSession`` reads the card as 在留カード等仕様書 §3.5 describes: the free MF files (common data,
card type, which gives the generation), GET CHALLENGE, MUTUAL AUTHENTICATE and VERIFY of the card number
(``ResidenceTerminal``), then DF1 under SM and DF2, DF3 in plain, every EF whole with an extended Le.
``verify_signature`` checks DF3 against a trust anchor: the card's certificate issued by the anchor, and
the signature over the signed data of §5.3 (gen 1 RSA-2048 / SHA-256, gen 2 ECDSA P-384 / SHA-256).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa, utils

from mynacard.apdu.applets.session import CardStatusError, Session
from mynacard.apdu.command import CommandApdu
from mynacard.apdu.readers.base import Reader
from mynacard.apdu.response import ResponseApdu
from mynacard.apdu.sm.errors import SmObjectsMissingError
from mynacard.apdu.sm.residence import (
    GEN1,
    GEN2,
    Random,
    ResidenceGeneration,
    ResidenceTerminal,
    verify_command,
)
from mynacard.apdu.sm.residence_delivery import delivered_keys, set_session_key_command
from mynacard.apdu.sm.residence_sm import ResidenceSm
from mynacard.apdu.sm.session import SmSession
from mynacard.apdu.tlv import Tlv, ber_decode, ber_decode_all

DF1_AID = bytes.fromhex("D3 92 F0 00 4F 02") + bytes(10)
"""DF1: 券面 (gen 1: front image and photo; gen 2: card number, printed entries, images)."""
DF2_AID = bytes.fromhex("D3 92 F0 00 4F 03") + bytes(10)
"""DF2: 裏面 entries (address, permissions, status)."""
DF3_AID = bytes.fromhex("D3 92 F0 00 4F 04") + bytes(10)
"""DF3: 電子署名."""
SFI_COMMON, SFI_CARD_TYPE = 0x0B, 0x0A
"""MF EF01 共通データ要素 and EF02 カード種別 (free to read)."""
SELECT_MF = bytes.fromhex("00 A4 00 00 02 3F 00")

GENERATION_OF_TYPE = {"1": GEN1, "2": GEN1, "05": GEN2, "06": GEN2, "07": GEN2, "08": GEN2}
"""C1 カード種別 → the generation whose cipher the card speaks."""
FILES: Mapping[str, tuple[tuple[bytes, int, bool, str], ...]] = {
    "gen1": (
        (DF1_AID, 0x05, True, "front_image"),
        (DF1_AID, 0x06, True, "face_image"),
        (DF2_AID, 0x01, False, "address"),
        (DF2_AID, 0x02, False, "activity_permission"),
        (DF2_AID, 0x03, False, "individual_permission"),
        (DF2_AID, 0x04, False, "renewal"),
        (DF3_AID, 0x02, False, "signature"),
    ),
    "gen2": (
        (DF1_AID, 0x01, True, "card_number"),
        (DF1_AID, 0x03, True, "printed_entries"),
        (DF1_AID, 0x04, True, "name_and_face"),
        (DF1_AID, 0x06, True, "address_image"),
        (DF2_AID, 0x01, False, "activity_permission"),
        (DF2_AID, 0x02, False, "renewal"),
        (DF2_AID, 0x03, False, "other"),
        (DF3_AID, 0x02, False, "signature"),
    ),
}
"""Per generation: (DF, SFI, read under SM, name) of every EF after the MF (§3.2, §3.3)."""
PRINTED_ENTRIES_SIGNED = 53


@dataclass
class ResidenceCardData:
    """What a reader got from one card: the card type and every EF's bytes by name (absent: 6A 82)."""

    generation: ResidenceGeneration
    card_type: str
    common: bytes
    files: dict[str, bytes] = field(default_factory=dict)

    def value(self, name: str, tag: int) -> bytes:
        """The value of ``tag`` in EF ``name``."""
        for tlv in _objects(self.files[name]):
            if tlv.tag == tag:
                return tlv.value
        raise KeyError(f"no tag {tag:X} in {name}")


def _objects(data: bytes) -> list[Tlv]:
    """The TLVs of an EF, up to the zero fill after its last object."""
    end = len(data.rstrip(b"\x00"))
    objects: list[Tlv] = []
    position = 0
    while position < end:
        objects.append(ber_decode(data, position))
        position = objects[-1].end
    return objects


class ResidenceSession(Session):
    """A reader reading a residence card with its card number (在留カード等番号)."""

    def __init__(self, reader: Reader, card_number: str, random: Random | None = None) -> None:
        super().__init__(reader)
        self._card_number = card_number
        self._random = random
        self.sm: ResidenceSm | None = None

    def read_plain(self, sfi: int) -> bytes:
        """READ BINARY by SFI, the whole EF (extended Le ``00 00``)."""
        return self.expect_ok(
            f"READ BINARY SFI {sfi:02X}", bytes((0x00, 0xB0, 0x80 | sfi, 0x00, 0x00, 0x00, 0x00))
        )

    def read_sm(self, sfi: int) -> bytes:
        """``08 B0 8x 00 00 00 04 96 02 00 00 00 00``: the whole EF under SM, decrypted."""
        if self.sm is None:
            raise ValueError("authenticate first")
        command = self.sm.wrap_command(CommandApdu(0x00, 0xB0, 0x80 | sfi, 0x00, b"", 65536))
        response = self.reader.transmit(command.to_bytes())
        if response.sw != 0x9000:
            raise CardStatusError(f"SM READ BINARY SFI {sfi:02X}", response)
        return self.sm.unwrap_response(response).data

    def card_type(self) -> str:
        """C1 of MF EF02 (read without authentication)."""
        return ber_decode(self.read_plain(SFI_CARD_TYPE)).value.decode("ascii")

    def authenticate(self, generation: ResidenceGeneration) -> ResidenceSm:
        """GET CHALLENGE, MUTUAL AUTHENTICATE, VERIFY of the card number under KSenc (§3.5.2)."""
        terminal = ResidenceTerminal.for_card_number(generation, self._card_number, self._random)
        rnd_icc = self.expect_ok("GET CHALLENGE", bytes.fromhex("00 84 00 00 08"))
        data = terminal.authentication_data(rnd_icc)
        answer = self.expect_ok("MUTUAL AUTHENTICATE", bytes.fromhex("00 82 00 00 28") + data + b"\x00")
        session = terminal.complete(answer)
        self.expect_ok("VERIFY", verify_command(session, self._card_number).to_bytes())
        self.sm = session
        return session

    def read_all(self) -> ResidenceCardData:
        """Every EF of the card, as §6 reads it; EFs the card type lacks (``6A 82``) are left out."""
        self.expect_ok("SELECT MF", SELECT_MF)
        common = self.read_plain(SFI_COMMON)
        card_type = self.card_type()
        generation = GENERATION_OF_TYPE[card_type]
        self.authenticate(generation)
        data = ResidenceCardData(generation, card_type, common)
        current = b""
        for df, sfi, protected, name in FILES[generation.name]:
            if df != current:
                self.select_applet(df)
                current = df
            try:
                data.files[name] = self.read_sm(sfi) if protected else self.read_plain(sfi)
            except CardStatusError as error:
                if error.response.sw != 0x6A82:
                    raise
        return data


ZAIRYU_AP_AID = bytes.fromhex("D3 92 F0 00 4F 01") + bytes(10)
"""在留AP: the residence application on a 特定在留カード (a My Number card), holding DF1-DF3 (§3.4)."""


class SpecifiedResidenceSession(Session):
    """A reader reading the 在留AP of a 特定在留カード: SELECT 在留AP, the free common data and card type, SET
    SESSION KEY (a fresh AES-128 key wrapped under the card's delivery key), then every command under the
    ICAO SM of ``residence_delivery`` (VERIFY of the card number, SELECT and READ of DF1-DF3)."""

    def __init__(
        self,
        reader: Reader,
        card_number: str,
        delivery_key: rsa.RSAPublicKey,
        session_key: bytes | None = None,
    ) -> None:
        super().__init__(reader)
        self._card_number = card_number
        self._delivery_key = delivery_key
        self._session_key = session_key
        self.sm: SmSession | None = None

    def protected(self, what: str, command: CommandApdu) -> bytes:
        """``command`` wrapped, sent and its answer unwrapped; ``CardStatusError`` unless ``90 00``."""
        if self.sm is None:
            raise ValueError("SET SESSION KEY first")
        response = self.reader.transmit(self.sm.wrap_command(command).to_bytes())
        try:
            plain = self.sm.unwrap_response(response)
        except SmObjectsMissingError as error:  # the card ended SM: its word came in plain
            raise CardStatusError(what, ResponseApdu(b"", error.card_sw or response.sw)) from None
        if plain.sw != 0x9000:
            raise CardStatusError(what, plain)
        return plain.data

    def deliver_session_key(self) -> SmSession:
        """SET SESSION KEY ``80 AE 00 00``; the session both sides then share."""
        key = self._session_key or secrets.token_bytes(16)
        self.expect_ok("SET SESSION KEY", set_session_key_command(self._delivery_key, key).to_bytes())
        self.sm = delivered_keys(key).session()
        return self.sm

    def read_all(self) -> ResidenceCardData:
        """Every EF of the 在留AP (§6.3); those the card type lacks (``6A 82``) are left out."""
        self.select_applet(ZAIRYU_AP_AID)
        common = self.expect_ok("READ common", bytes.fromhex("00 B0 8B 00 00 00 00"))
        card_type = ber_decode(self.expect_ok("READ card type", bytes.fromhex("00 B0 8A 00 00 00 00")))
        self.deliver_session_key()
        number = self._card_number.encode("ascii")
        self.protected("VERIFY", CommandApdu(0x00, 0x20, 0x00, 0x86, number))
        data = ResidenceCardData(GEN2, card_type.value.decode("ascii"), common)
        current = b""
        for df, sfi, _, name in FILES["gen2"]:
            if df != current:
                self.protected("SELECT", CommandApdu(0x00, 0xA4, 0x04, 0x0C, df))
                current = df
            try:
                data.files[name] = self.protected(
                    f"READ BINARY SFI {sfi:02X}", CommandApdu(0x00, 0xB0, 0x80 | sfi, 0x00, b"", 65536)
                )
            except CardStatusError as error:
                if error.response.sw != 0x6A82:
                    raise
        return data


def signed_data(data: ResidenceCardData) -> bytes:
    """What DA / DC signs (§5.3): gen 1 D0 ‖ D1 values; gen 2 the printed-entry values NUL-padded to 53 ‖
    D1 ‖ D0 (the face before the name)."""
    if data.generation is GEN1:
        return data.value("front_image", 0xD0) + data.value("face_image", 0xD1)
    entries = b"".join(t.value for t in ber_decode_all(data.files["printed_entries"]))
    return (
        entries.ljust(PRINTED_ENTRIES_SIGNED, b"\x00")
        + data.value("name_and_face", 0xD1)
        + data.value("name_and_face", 0xD0)
    )


class SignatureError(Exception):
    """The card's certificate or signature does not verify against the anchor."""


def verify_signature(data: ResidenceCardData, anchor: x509.Certificate) -> x509.Certificate:
    """Check DF3: the certificate (DB / DD) issued by ``anchor``, and DA / DC over ``signed_data``.
    Returns the card's certificate; raises ``SignatureError``."""
    gen1 = data.generation is GEN1
    signature = data.value("signature", 0xDA if gen1 else 0xDC)
    certificate = x509.load_der_x509_certificate(data.value("signature", 0xDB if gen1 else 0xDD))
    try:
        certificate.verify_directly_issued_by(anchor)
    except (ValueError, TypeError, InvalidSignature) as error:
        raise SignatureError(
            f"the card's certificate is not issued by {anchor.subject.rfc4514_string()}"
        ) from error
    key = certificate.public_key()
    message = signed_data(data)
    try:
        if gen1 and isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        elif not gen1 and isinstance(key, ec.EllipticCurvePublicKey) and len(signature) == 96:
            der = utils.encode_dss_signature(int.from_bytes(signature[:48]), int.from_bytes(signature[48:]))
            key.verify(der, message, ec.ECDSA(hashes.SHA256()))
        else:
            raise SignatureError("the signature does not fit the certificate's key")
    except InvalidSignature:
        raise SignatureError("the card's data signature does not verify") from None
    return certificate
