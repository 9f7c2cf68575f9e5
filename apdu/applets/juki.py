"""住基AP (resident registry AP) and 共通カードAP (common card AP): AIDs (spec current-card §3.4, §3.5)."""

from __future__ import annotations

JUKI_AID = bytes.fromhex("D3 92 10 00 31 00 01 01 04 01")
"""住基AP"""
COMMON_AID = bytes.fromhex("D3 92 10 00 31 00 01 01 01 00")
"""共通カードAP"""
