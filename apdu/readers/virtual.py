"""The in-process virtual reader: holds a software card, with insert and remove, and records exchanges."""

from __future__ import annotations

import time

from mynacard.apdu.readers.base import NoCardError, Reader, ReaderError, SoftCard
from mynacard.apdu.response import ResponseApdu
from mynacard.apdu.trace import Exchange


class VirtualReader(Reader):
    """A reader whose card is a Python object (e.g. ``emulator.card.Card``) in this process."""

    def __init__(self, card: SoftCard | None = None, name: str = "mynacard Virtual Reader 0") -> None:
        super().__init__()
        self._name = name
        self._card = card
        self._powered = False

    @property
    def name(self) -> str:
        return self._name

    @property
    def card(self) -> SoftCard | None:
        return self._card

    @property
    def card_present(self) -> bool:
        return self._card is not None

    def insert(self, card: SoftCard) -> None:
        """Put a card in the reader; it stays unpowered until ``power_on``."""
        if self._card is not None:
            raise ReaderError(f"{self._name}: a card is already inserted")
        self._card = card
        self._powered = False

    def remove(self) -> SoftCard:
        """Take the card out (it loses power, as a real card would)."""
        card = self._require_card()
        card.power_off()
        self._card = None
        self._powered = False
        return card

    def _require_card(self) -> SoftCard:
        if self._card is None:
            raise NoCardError(f"{self._name}: no card inserted")
        return self._card

    def power_on(self) -> bytes:
        atr = self._require_card().power_on()
        self._powered = True
        return atr

    def power_off(self) -> None:
        if self._card is not None:
            self._card.power_off()
        self._powered = False

    def reset(self) -> bytes:
        card = self._require_card()
        atr = card.reset() if self._powered else card.power_on()
        self._powered = True
        return atr

    @property
    def atr(self) -> bytes:
        return self._require_card().atr

    def transmit(self, command: bytes) -> ResponseApdu:
        card = self._card
        if card is None:
            raise NoCardError(f"{self._name}: no card inserted")
        if not self._powered:
            raise ReaderError(f"{self._name}: the card is not powered")
        if not self._observers:
            raw = card.process(command)
            return ResponseApdu(raw[:-2], raw[-2] << 8 | raw[-1])
        started = time.perf_counter()
        raw = card.process(command)
        exchange = Exchange.record(bytes(command), raw, time.perf_counter() - started)
        for observer in self._observers:
            observer(exchange)
        return ResponseApdu(raw[:-2], raw[-2] << 8 | raw[-1])
