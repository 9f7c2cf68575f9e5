"""The next-generation card (nextgen-2026): 認証AP and 券面等AP, their files and the PUK commands.

Every AID and FID here is ASSUMED (spec nextgen-2026 §2): no APDU specification of the next card is
published. The host side takes them from here, the card from ``profiles/nextgen-2026.toml``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from mynacard.apdu.applets.session import Session
from mynacard.apdu.tlv import ber_decode, ber_decode_all

AUTH_AID = bytes.fromhex("D3 92 F0 00 26 01 00 00 00 02")
"""認証AP (all PIN-protected functions)"""
FACE_AID = bytes.fromhex("D3 92 10 00 31 00 01 01 04 10")
"""券面等AP (all card-number-protected functions)"""

# 認証AP
SIGN_CERTIFICATE = 0x0001
"""署名用電子証明書 (P-384)"""
SIGN_CA_CERTIFICATE = 0x0002
MY_NUMBER = 0x0003
"""個人番号"""
ATTRIBUTES = 0x0004
"""4情報 + フリガナ + ローマ字氏名"""
INTEGRITY = 0x0005
"""SHA-384 digests of 0003 and 0004, signed"""
TOKEN_INFO = 0x0006
RESIDENT_CODE = 0x0007
"""住民票コード"""
IA_CERTIFICATE = 0x0009
"""内部認証鍵の証明書"""
AUTH_CERTIFICATE = 0x000A
"""利用者証明用電子証明書 (P-384)"""
AUTH_CA_CERTIFICATE = 0x000B
AUTH_KEY = 0x0017
IA_KEY = 0x0019
"""内部認証鍵: INTERNAL AUTHENTICATE 00 88 00 99"""
SIGN_KEY = 0x001A
PIN = 0x0018
"""暗証番号 (4 digits)"""
SIGN_PASSWORD = 0x001B
"""署名用パスワード (6–16 of [A-Z0-9], at least one letter and one digit)"""
PUK = 0x001D
"""PUK (8–16 digits, set by the holder)"""
JUKI_TERMINAL_KEY = 0x81
"""EXTERNAL AUTHENTICATE key reference of the 住基 terminal"""

# 券面等AP
FRONT = 0x0001
"""券面 front record"""
BACK = 0x0002
"""券面 back record (My Number)"""
FACE_ATTRIBUTES = 0x0003
FACE_MY_NUMBER = 0x0004
FACE_SIGNER_CERTIFICATE = 0x0005
VERIFICATION_NUMBER_B = 0x0012
"""照合番号B (6 digits)"""
VERIFICATION_NUMBER_A = 0x0013
"""照合番号A (the 12-digit My Number)"""


def reference(fid: int) -> int:
    """``80 | SFI``: the P2 that names an EF by its short identifier (the FID's low byte)."""
    return 0x80 | fid


@dataclass(frozen=True, slots=True)
class Attributes:
    """EF 0004 of the 認証AP: 4情報 and the next card's new attributes."""

    name: str
    address: str
    birth_date: str
    """西暦 YYYYMMDD"""
    sex: str
    """JIS X 0303 digit; kept in the chip though off the card face"""
    furigana: str
    romanised_name: str


_ATTRIBUTE_TAGS = (0xDF22, 0xDF23, 0xDF24, 0xDF25, 0xDF26, 0xDF27)


class AuthSession(Session):
    """What a terminal does with the 認証AP: one password for everything (verify once), P-384 signatures."""

    def select(self) -> None:
        self.select_applet(AUTH_AID)

    def sign_sha384(self, key_fid: int, message: bytes) -> bytes:
        """ECDSA P-384 over SHA-384(message), hashed by the host: the card answers ``r ‖ s``."""
        digest = hashlib.sha384(message).digest()
        command = bytes((0x80, 0x2A, 0x00, reference(key_fid), len(digest))) + digest + b"\x00"
        return self.expect_ok("COMPUTE DIGITAL SIGNATURE", command)

    def read_attributes(self) -> Attributes:
        """EF 0004 (needs the PIN or the signature password), decoded by tag."""
        outer = ber_decode(self.read_tlv_file(ATTRIBUTES))
        fields = {
            t.tag: t.value.decode("utf-8") for t in ber_decode_all(outer.value) if t.tag in _ATTRIBUTE_TAGS
        }
        name, address, birth, sex, furigana, romanised = (fields[tag] for tag in _ATTRIBUTE_TAGS)
        return Attributes(name, address, birth, sex, furigana, romanised)
