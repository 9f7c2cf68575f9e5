"""Card level: the card manager (issuer security domain) that is current after power-on."""

from __future__ import annotations

ISD_AID = bytes.fromhex("A0 00 00 01 51 00 00")
"""カードマネージャ: GlobalPlatform's issuer security domain, the current DF after power-on (spec §2.1)."""
