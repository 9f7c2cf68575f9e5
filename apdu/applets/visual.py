"""券面事項確認AP (card-face AP): AID and files (spec current-card §3.3)."""

from __future__ import annotations

VISUAL_AID = bytes.fromhex("D3 92 10 00 31 00 01 01 04 02")
"""券面事項確認AP"""

AGE_RECORD = 0x0001
"""年齢確認 (birth date and card key, signed)"""
CARD_FACE = 0x0002
"""券面 (birth date, sex, name, address and photo images, signed)"""
BIRTH_DATE_KEY = 0x0011
"""生年月日 key (Japanese-era YYMMDD)"""
VERIFICATION_NUMBER_B = 0x0012
"""照合番号B"""
VERIFICATION_NUMBER_A = 0x0013
"""照合番号A (the 12-digit 個人番号)"""
