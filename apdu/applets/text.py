"""券面事項入力補助AP (text input support AP): AID, files, and reading 基本4情報 (spec current-card §3.2)."""

from __future__ import annotations

from dataclasses import dataclass

from mynacard.apdu.applets.session import Session
from mynacard.apdu.tlv import ber_decode, ber_decode_all

TEXT_AID = bytes.fromhex("D3 92 10 00 31 00 01 01 04 08")
"""券面事項入力補助AP"""

MY_NUMBER = 0x0001
"""個人番号"""
BASIC_ATTRIBUTES = 0x0002
"""基本4情報 (氏名, 住所, 生年月日, 性別)"""
INTEGRITY = 0x0003
"""セキュリティ情報 (digests and signature over EF 0001 and EF 0002)"""
PIN = 0x0011
"""券面事項入力補助用暗証番号 (4 digits)"""
VERIFICATION_NUMBER_A = 0x0014
"""照合番号A (個人番号 as the key)"""
VERIFICATION_NUMBER_B = 0x0015
"""照合番号B (birth date, expiry year and security code as the key)"""


@dataclass(frozen=True, slots=True)
class BasicAttributes:
    """基本4情報 as stored: 氏名, 住所 (UTF-8), 生年月日 (YYYYMMDD), 性別 (JIS X 0303 digit)."""

    name: str
    address: str
    birth_date: str
    sex: str


class TextSession(Session):
    """What a terminal does with the 券面事項入力補助AP."""

    def select(self) -> None:
        self.select_applet(TEXT_AID)

    def read_basic_attributes(self, pin: str) -> BasicAttributes:
        """Verify the 4-digit PIN, read EF 0002 and decode it with its DF 21 offset table."""
        self.verify(PIN, pin)
        outer = ber_decode(self.read_tlv_file(BASIC_ATTRIBUTES))
        name, address, birth, sex = (t.value for t in ber_decode_all(outer.value)[1:5])
        return BasicAttributes(name.decode(), address.decode(), birth.decode(), sex.decode())
