"""The typed error every handler raises to answer with a status word."""

from __future__ import annotations

from mynacard.apdu.status import SW, describe


class CardError(Exception):
    """Answer the current command with ``sw`` (and, rarely, ``data`` such as a warning's payload)."""

    def __init__(self, sw: int, reason: str = "", data: bytes = b"") -> None:
        super().__init__(reason or describe(sw))
        self.sw = sw
        self.data = data


def fail(sw: SW, reason: str = "") -> CardError:
    """Shorthand used as ``raise fail(SW.FILE_NOT_FOUND, "no such AID")``."""
    return CardError(sw, reason)


class StateError(RuntimeError):
    """The state directory is missing, of another version, or damaged."""


class StorageError(StateError):
    """A write to the state directory failed (full disk, read-only directory): the card's memory failed."""
