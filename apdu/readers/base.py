"""The one reader interface every suite talks to, and the shape of a card a software reader can hold."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from types import TracebackType
from typing import Protocol, Self

from mynacard.apdu.response import ResponseApdu
from mynacard.apdu.trace import Exchange


class ReaderError(Exception):
    """The reader could not exchange an APDU: no card, card not powered, transport failure."""


class NoCardError(ReaderError):
    """There is no card in the reader."""


class SoftCard(Protocol):
    """What a software reader (virtual reader, vpcd bridge) needs of a card.

    ``process`` never raises: malformed input gets a status word, as a real card answers.
    """

    @property
    def atr(self) -> bytes: ...

    def power_on(self) -> bytes:
        """Cold start: clear all volatile state and return the ATR."""
        ...

    def power_off(self) -> None: ...

    def reset(self) -> bytes:
        """Warm reset; what survives is the card's business. Returns the ATR."""
        ...

    def process(self, command: bytes) -> bytes:
        """One command APDU in, one response APDU (data + SW1 SW2) out."""
        ...


Observer = Callable[[Exchange], None]


class Reader(ABC):
    """A smart-card reader: power, ATR and ``transmit``. Use it as a context manager."""

    def __init__(self) -> None:
        self._observers: list[Observer] = []

    @property
    @abstractmethod
    def name(self) -> str: ...

    @abstractmethod
    def power_on(self) -> bytes:
        """Power the card (cold) and return its ATR."""

    @abstractmethod
    def power_off(self) -> None: ...

    @abstractmethod
    def reset(self) -> bytes:
        """Warm reset; returns the ATR."""

    @property
    @abstractmethod
    def atr(self) -> bytes: ...

    @abstractmethod
    def transmit(self, command: bytes) -> ResponseApdu:
        """Send one command APDU (raw bytes) and return the card's response."""

    def add_observer(self, observer: Observer) -> None:
        """Call ``observer`` with every exchange; secret data fields are masked before it sees them."""
        self._observers.append(observer)

    def remove_observer(self, observer: Observer) -> None:
        self._observers.remove(observer)

    def close(self) -> None:
        """Release the reader; the default powers the card off."""
        self.power_off()

    def __enter__(self) -> Self:
        self.power_on()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
