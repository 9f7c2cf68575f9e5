"""What a command handler sees of the card: its data and its channels, not its dispatch (カードの文脈).

The card OS (``emulator.card.Card``) satisfies ``CardContext``; handlers depend on this view only, so the
command modules never import the card and the card never imports a handler module.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from mynacard.apdu.sm import PaceInfo
from mynacard.apdu.sm.residence import Random
from mynacard.emulator.channel import Channel
from mynacard.emulator.filesystem import DataObject, FileSystem
from mynacard.profiles.schema import BehaviourSpec, ResidenceSpec


class ResponseRemainder(bytes):
    """Handler data that is the rest of an earlier response (GET RESPONSE): Ne cuts it, and ``61 xx``
    announces what is still left, instead of the ``6C xx``/``61 xx`` rules for a new response."""


class CardContext(Protocol):
    """The card as a handler uses it."""

    @property
    def filesystem(self) -> FileSystem: ...

    @property
    def behaviour(self) -> BehaviourSpec: ...

    @property
    def data_objects(self) -> Mapping[int, DataObject]: ...

    @property
    def pace_infos(self) -> Sequence[PaceInfo]:
        """The PACE protocols EF.CardAccess offers (empty: the card has no PACE)."""
        ...

    @property
    def residence(self) -> ResidenceSpec | None:
        """The residence card's authentication and SM choices (None: not a residence card)."""
        ...

    @property
    def residence_random(self) -> Random | None:
        """Where the residence card draws RND.ICC and K.ICC (None: the OS; tests replay examples)."""
        ...

    @property
    def residence_delivery_key(self) -> RSAPrivateKey | None:
        """The specified residence card's RSA delivery key (SET SESSION KEY); None elsewhere."""
        ...

    def channel(self, number: int) -> Channel | None: ...

    def open_channel(self, number: int) -> None: ...

    def close_channel(self, number: int) -> None: ...
