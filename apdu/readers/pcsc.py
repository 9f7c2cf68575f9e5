"""PC/SC readers through pyscard (the optional ``mynacard[pcsc]`` extra): real readers and vpcd slots alike.

pyscard is imported on first use, so this module imports anywhere; using it without pyscard raises a
``ReaderError`` that names the extra. The low-level ``smartcard.scard`` API is used because it is the
fastest path (the high-level one converts more lists). Every command runs through
``apdu.host.complete_response`` unless ``host_processing=False``, so suites see complete responses on T=0
readers too; observers see each exchange on the wire, GET RESPONSEs included.
"""

from __future__ import annotations

import logging
import time
from types import ModuleType
from typing import Any, cast

from mynacard.apdu.readers.base import NoCardError, Reader, ReaderError
from mynacard.apdu.readers.processors import complete_response
from mynacard.apdu.response import ResponseApdu
from mynacard.apdu.trace import Exchange

_INSTALL_HINT = "PC/SC support needs pyscard: pip install 'mynacard[pcsc]'"

# PC/SC return codes (winscard.h) that mean "no card" rather than "transport failure".
_NO_CARD_CODES = frozenset(
    {
        0x8010000C,  # SCARD_E_NO_SMARTCARD
        0x80100069,  # SCARD_W_REMOVED_CARD
        0x80100068,  # SCARD_W_RESET_CARD: the handle saw a reset by someone else
        0x80100067,  # SCARD_W_UNPOWERED_CARD
        0x80100066,  # SCARD_W_UNRESPONSIVE_CARD
    }
)
SCARD_E_NO_READERS_AVAILABLE = 0x8010002E
_SCARD_W_UNPOWERED_CARD = 0x80100067
_SCARD_E_NO_SMARTCARD = 0x8010000C
_GLITCH_SECONDS = 1.0
MIN_COMMAND_LENGTH = 4
"""CLA INS P1 P2 (ISO 7816-4 §5.1): ``transmit_raw`` sends nothing shorter."""
_CONNECT_RETRY_SECONDS = 0.05

logger = logging.getLogger(__name__)


class PcscError(ReaderError):
    """A PC/SC call failed; ``code`` is the PC/SC return code (``SCARD_E_...``)."""

    def __init__(self, operation: str, code: int, message: str) -> None:
        super().__init__(f"{operation}: {message} (0x{code & 0xFFFFFFFF:08X})")
        self.code = code & 0xFFFFFFFF


class PcscNoCardError(PcscError, NoCardError):
    """PC/SC reports no card, or a card that was removed, reset or unpowered under this handle."""


def _scard() -> ModuleType:
    try:
        from smartcard import scard
    except ImportError as exc:
        raise ReaderError(_INSTALL_HINT) from exc
    return cast(ModuleType, scard)


def _scard_message(scard: ModuleType, hresult: int) -> str:
    return str(scard.SCardGetErrorMessage(hresult))


def _check(operation: str, hresult: int) -> None:
    if hresult == 0:
        return
    scard = _scard()
    message = _scard_message(scard, hresult)
    error = PcscNoCardError if hresult & 0xFFFFFFFF in _NO_CARD_CODES else PcscError
    raise error(operation, hresult, message)


def _establish_context() -> Any:
    scard = _scard()
    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    _check("SCardEstablishContext (is pcscd running?)", hresult)
    return context


def _readers(context: Any) -> list[str]:
    scard = _scard()
    hresult, names = scard.SCardListReaders(context, [])
    if hresult & 0xFFFFFFFF == SCARD_E_NO_READERS_AVAILABLE:
        return []
    _check("SCardListReaders", hresult)
    return [str(name) for name in names]


def list_readers() -> list[str]:
    """Names of the PC/SC readers pcscd offers now (empty when there are none)."""
    scard = _scard()
    context = _establish_context()
    try:
        return _readers(context)
    finally:
        scard.SCardReleaseContext(context)


def resolve_reader_name(wanted: str, available: list[str]) -> str:
    """The reader named exactly ``wanted``, else the only one whose name starts with it."""
    if wanted in available:
        return wanted
    matches = [name for name in available if name.startswith(wanted)]
    if len(matches) == 1:
        return matches[0]
    problem = "matches several readers" if matches else "matches no reader"
    raise ReaderError(f"PC/SC reader {wanted!r} {problem}; readers: {available or 'none'}")


class PcscReader(Reader):
    """A PC/SC reader by exact name or unique prefix; ``power_on()`` connects (shared by default)."""

    def __init__(self, name: str, *, host_processing: bool = True, exclusive: bool = False) -> None:
        super().__init__()
        self._scard = _scard()
        self._context = _establish_context()
        try:
            self._name = resolve_reader_name(name, _readers(self._context))
        except ReaderError:
            self._scard.SCardReleaseContext(self._context)
            raise
        self.host_processing = host_processing
        self._share = self._scard.SCARD_SHARE_EXCLUSIVE if exclusive else self._scard.SCARD_SHARE_SHARED
        self._card: Any = None
        self._protocol = 0
        self._atr = b""

    @property
    def name(self) -> str:
        return self._name

    @property
    def atr(self) -> bytes:
        if self._card is None:
            raise NoCardError(f"{self._name}: not connected")
        return self._atr

    @property
    def protocol(self) -> str | None:
        """The active protocol, ``"T=0"`` or ``"T=1"`` (``None`` when not connected)."""
        if self._card is None:
            return None
        return {self._scard.SCARD_PROTOCOL_T0: "T=0", self._scard.SCARD_PROTOCOL_T1: "T=1"}.get(
            self._protocol, f"protocol 0x{self._protocol:X}"
        )

    @property
    def connected(self) -> bool:
        return self._card is not None

    def power_on(self) -> bytes:
        """Connect (T=0 or T=1, whichever the reader negotiates); a connected card gets a cold reset."""
        s = self._scard
        if self._card is None:
            self._card, protocol = self._connect()
        else:
            protocol = self._reconnect(s.SCARD_UNPOWER_CARD)
        self._protocol = int(protocol)
        self._atr = self._read_atr()
        return self._atr

    def _connect(self) -> tuple[Any, int]:
        """``SCardConnect``, riding out a power-up glitch of the reader for up to a second.

        pcscd sometimes fails to power a card that is there (``SCARD_W_UNPOWERED_CARD``: it met its own
        idle power-down, or vpcd reported the card removed during power-up) and then shows the slot
        empty until its next presence poll (~0.4 s). Only after such a glitch is an empty slot waited
        for; a slot that is empty at the first attempt fails at once, as it should.
        """
        s = self._scard
        deadline = time.monotonic() + _GLITCH_SECONDS
        glitched = False
        while True:
            hresult, card, protocol = s.SCardConnect(
                self._context, self._name, self._share, s.SCARD_PROTOCOL_T0 | s.SCARD_PROTOCOL_T1
            )
            code = hresult & 0xFFFFFFFF
            glitched = glitched or code == _SCARD_W_UNPOWERED_CARD
            retry = code == _SCARD_W_UNPOWERED_CARD or (glitched and code == _SCARD_E_NO_SMARTCARD)
            if not retry or time.monotonic() >= deadline:
                break
            logger.warning("%s: %s at connect, trying again", self._name, _scard_message(s, hresult))
            time.sleep(_CONNECT_RETRY_SECONDS)
        _check(f"SCardConnect {self._name!r}", hresult)
        return card, int(protocol)

    def reset(self) -> bytes:
        """Warm reset through ``SCardReconnect(SCARD_RESET_CARD)``."""
        if self._card is None:
            return self.power_on()
        self._protocol = self._reconnect(self._scard.SCARD_RESET_CARD)
        self._atr = self._read_atr()
        return self._atr

    def power_off(self) -> None:
        """Disconnect and unpower the card (vpcd passes the power-off to the card)."""
        if self._card is None:
            return
        card, self._card = self._card, None
        hresult = self._scard.SCardDisconnect(card, self._scard.SCARD_UNPOWER_CARD)
        if hresult & 0xFFFFFFFF not in _NO_CARD_CODES:
            _check("SCardDisconnect", hresult)

    def close(self) -> None:
        """Disconnect and release the PC/SC context."""
        try:
            self.power_off()
        finally:
            if self._context is not None:
                self._scard.SCardReleaseContext(self._context)
                self._context = None

    def transmit(self, command: bytes) -> ResponseApdu:
        """The complete response (61xx/6Cxx followed on the host) unless ``host_processing`` is off."""
        if self.host_processing:
            return complete_response(self.transmit_raw, command)
        return ResponseApdu.from_bytes(self.transmit_raw(command))

    def transmit_raw(self, command: bytes) -> bytes:
        """One APDU on the wire, no host processing; returns data + SW1 SW2.

        A command shorter than its 4-byte header is refused before it reaches PC/SC: no card can parse
        it, and on a vpcd reader a 1-byte command is indistinguishable from vpcd's control codes (``00``
        ``01`` ``02`` would leave the reader waiting for an answer, ``04`` would return the ATR).
        """
        if len(command) < MIN_COMMAND_LENGTH:
            raise ReaderError(
                f"{self._name}: a command APDU has at least {MIN_COMMAND_LENGTH} bytes (CLA INS P1 P2), "
                f"got {len(command)}: {bytes(command).hex(' ').upper() or 'nothing'}; not sent"
            )
        if self._card is None:
            raise NoCardError(f"{self._name}: not connected")
        started = time.perf_counter()
        hresult, response = self._scard.SCardTransmit(self._card, self._protocol, list(command))
        _check("SCardTransmit", hresult)
        raw = bytes(response)
        if len(raw) < 2:
            raise ReaderError(f"{self._name}: response of {len(raw)} byte(s) has no status word")
        if self._observers:
            exchange = Exchange.record(command, raw, time.perf_counter() - started)
            for observer in list(self._observers):
                observer(exchange)
        return raw

    def _reconnect(self, initialization: int) -> int:
        s = self._scard
        hresult, protocol = s.SCardReconnect(
            self._card, self._share, s.SCARD_PROTOCOL_T0 | s.SCARD_PROTOCOL_T1, initialization
        )
        _check("SCardReconnect", hresult)
        return int(protocol)

    def _read_atr(self) -> bytes:
        hresult, _reader, _state, _protocol, atr = self._scard.SCardStatus(self._card)
        _check("SCardStatus", hresult)
        return bytes(atr)

    def __repr__(self) -> str:
        return f"PcscReader({self._name!r}, protocol={self.protocol})"
