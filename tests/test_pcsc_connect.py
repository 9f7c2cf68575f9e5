"""PcscReader's connect: a reader's power-up glitch is ridden out, an empty slot fails at once.

Runs on a scripted stand-in for pyscard's ``scard`` module, so it needs no pcscd.
"""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("smartcard")

from mynacard.apdu.readers import pcsc
from mynacard.apdu.readers.pcsc import PcscNoCardError, PcscReader

UNPOWERED, NO_CARD, OK = 0x80100067, 0x8010000C, 0


class ScriptedScard:
    """Answers SCardConnect from a script; enough of ``scard`` for ``PcscReader._connect``."""

    SCARD_PROTOCOL_T0, SCARD_PROTOCOL_T1 = 1, 2

    def __init__(self, script: list[int]) -> None:
        self.script = script
        self.calls = 0

    def SCardConnect(self, context: Any, name: str, share: int, protocols: int) -> tuple[int, Any, int]:  # noqa: N802
        self.calls += 1
        return self.script.pop(0), "handle", self.SCARD_PROTOCOL_T1

    def SCardGetErrorMessage(self, hresult: int) -> str:  # noqa: N802
        return {UNPOWERED: "Card is unpowered.", NO_CARD: "No smart card inserted."}.get(hresult, "?")


def reader_with(script: list[int], monkeypatch: pytest.MonkeyPatch) -> tuple[PcscReader, ScriptedScard]:
    fake = ScriptedScard(script)
    monkeypatch.setattr(pcsc, "_scard", lambda: fake)
    monkeypatch.setattr(pcsc, "_CONNECT_RETRY_SECONDS", 0.0)
    reader = PcscReader.__new__(PcscReader)
    reader._scard, reader._context, reader._name, reader._share = fake, "context", "Test Reader 00 00", 2
    return reader, fake


def test_a_glitch_then_a_briefly_empty_slot_connects(monkeypatch: pytest.MonkeyPatch) -> None:
    reader, fake = reader_with([UNPOWERED, NO_CARD, NO_CARD, OK], monkeypatch)
    assert reader._connect() == ("handle", ScriptedScard.SCARD_PROTOCOL_T1)
    assert fake.calls == 4


def test_an_empty_slot_fails_at_the_first_attempt(monkeypatch: pytest.MonkeyPatch) -> None:
    reader, fake = reader_with([NO_CARD, OK], monkeypatch)
    with pytest.raises(PcscNoCardError, match="No smart card inserted"):
        reader._connect()
    assert fake.calls == 1


def test_a_glitch_that_lasts_fails_after_the_grace_period(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pcsc, "_GLITCH_SECONDS", 0.0)
    reader, fake = reader_with([UNPOWERED, UNPOWERED, OK], monkeypatch)
    with pytest.raises(PcscNoCardError, match="Card is unpowered"):
        reader._connect()
    assert fake.calls == 1
