"""Content builders: the registry and the builders of each card family, registered on import."""

from mynacard.emulator.issuance.builders import legacy, nextgen, residence
from mynacard.emulator.issuance.builders.registry import (
    BuildError,
    BuildInput,
    ContentBuilder,
    build_sources,
    builders_for,
    known_sources,
    register,
)

__all__ = [
    "BuildError",
    "BuildInput",
    "ContentBuilder",
    "build_sources",
    "builders_for",
    "known_sources",
    "legacy",
    "nextgen",
    "register",
    "residence",
]
