"""The card: a strict ISO 7816-4 card OS driven by profile data (マイナンバーカード emulator)."""
