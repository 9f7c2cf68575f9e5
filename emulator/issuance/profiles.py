"""Profiles as issuance loads them: shipped by name or a TOML file, checked against the content builders.

Every ``content.source`` must name a source some builder provides (``builders.known_sources``); an unknown
one is refused at load, naming the file and the field, before anything is written.
"""

from __future__ import annotations

from pathlib import Path

from mynacard.emulator.issuance.builders import known_sources
from mynacard.profiles.schema import Profile, parse_profile, profile_text


def load_profile(name_or_path: str | Path) -> Profile:
    """A shipped profile by name (``legacy-2016``) or a TOML file by path, validated."""
    text, where = profile_text(name_or_path)
    return parse_profile(text, where, sources=known_sources())


def load_profile_with_text(name_or_path: str | Path) -> tuple[Profile, str]:
    """The validated profile and its TOML text (personalisation stores the text with the card)."""
    text, where = profile_text(name_or_path)
    return parse_profile(text, where, sources=known_sources()), text
