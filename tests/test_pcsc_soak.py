"""The emulator behind pcscd survives 1,000 pyscard connect/disconnect cycles and a pcscd restart."""

from __future__ import annotations

import pytest

from mynacard.apdu.applets.jpki import JPKI_AID
from mynacard.apdu.applets.session import select_df_name
from mynacard.apdu.readers.base import ReaderError, SoftCard
from mynacard.apdu.readers.pcsc import PcscReader
from mynacard.apdu.status import SW
from mynacard.tools.harness.pcsc import PcscStack

SELECT_JPKI_AP = select_df_name(JPKI_AID)
CYCLES = 1000

pytestmark = pytest.mark.pcsc


class CountingCard:
    """The card, noting for each command whether it is the first since a power-on (a fresh card)."""

    def __init__(self, card: SoftCard) -> None:
        self.card = card
        self.since_power_on = 0
        self.fresh: list[bool] = []

    @property
    def atr(self) -> bytes:
        return self.card.atr

    def power_on(self) -> bytes:
        self.since_power_on = 0
        return self.card.power_on()

    def power_off(self) -> None:
        self.card.power_off()

    def reset(self) -> bytes:
        return self.card.reset()

    def process(self, command: bytes) -> bytes:
        self.fresh.append(self.since_power_on == 0)
        self.since_power_on += 1
        return self.card.process(command)


def test_thousand_connect_disconnect_cycles(pcsc_stack: PcscStack, card: SoftCard) -> None:
    counting = CountingCard(card)
    pcsc_stack.insert(counting)
    connections = pcsc_stack.bridge.connections
    reader = PcscReader(pcsc_stack.reader_name)
    answers = []
    try:
        for cycle in range(CYCLES):
            try:
                reader.power_on()
            except ReaderError as exc:
                raise AssertionError(f"cycle {cycle}: {exc}") from exc
            answers.append(reader.transmit(SELECT_JPKI_AP).to_bytes())
            reader.power_off()
    finally:
        reader.close()
    assert answers == [SW.OK.bytes] * CYCLES
    # Every connection met a freshly powered card. (Not one power-on per connect: pcscd powers a newly
    # inserted card itself to read its ATR, and a connect within its idle delay finds it still powered.)
    assert counting.fresh == [True] * CYCLES
    assert pcsc_stack.bridge.connections == connections, "the bridge never had to reconnect"


def test_card_comes_back_by_itself_after_a_pcscd_restart(pcsc_stack: PcscStack, card: SoftCard) -> None:
    if not pcsc_stack.daemon.owned:
        pytest.skip("pcscd was running before the tests; they restart only a pcscd they started")
    pcsc_stack.insert(card)
    connections = pcsc_stack.bridge.connections
    pcsc_stack.restart_pcscd()  # waits until PC/SC reports the card again, with no step on the card side
    with PcscReader(pcsc_stack.reader_name) as reader:
        assert reader.atr == card.atr
        assert reader.transmit(SELECT_JPKI_AP).to_bytes() == SW.OK.bytes
    # It had to reconnect by itself. How many tries that took is vpcd's start-up timing (a connection
    # made while the new pcscd initialises its readers can be dropped once), not something to rely on.
    assert pcsc_stack.bridge.connections > connections
