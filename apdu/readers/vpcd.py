"""A software card in a pcscd reader: a TCP client of vsmartcard's vpcd driver.

vpcd (loaded by pcscd) listens on port ``35963 + slot``; the card connects to it. Both directions frame
each message as a 2-byte big-endian length and the payload. A 1-byte payload from vpcd is a control
message (power off, power on, reset: no reply; get ATR: reply with the ATR); anything else is a command
APDU, answered with the response APDU. Card presence, for pcscd, is a live connection that answers GET ATR
(polled about every 0.4 s), so a bridge with no card stays disconnected.

Two transport facts shape the loop (see the PC/SC platform reference):

* Debian 12 ships vpcd 0.8, which sends the length and the payload in two ``send`` calls with Nagle on;
  Linux's delayed ACK then holds every payload for ~40 ms. Setting ``TCP_QUICKACK`` right after reading each
  length header sends the ACK at once; each reply goes out as one ``sendall`` with ``TCP_NODELAY``.
* A frame carries at most 65535 bytes, so the largest deliverable response is 65533 data bytes + SW. A
  longer card response cannot be framed: the bridge answers ``6F 00`` instead and logs an error, which
  keeps the connection (vpcd would eject the card on an oversized frame) and gives the host a clear failure.

**1-byte command APDUs.** vpcd passes a client's command verbatim, so a 1-byte command arrives exactly as
a control message does. A byte that is no control code is answered ``67 00`` by the bridge itself (no
card can parse a command without its 4-byte header, and vpcd waits for an answer without a timeout). The
four control codes ``00`` (power off), ``01`` (power on), ``02`` (reset) and ``04`` (get ATR) cannot be
told apart from 1-byte commands on vpcd's wire: ``04`` gets the ATR back as if it were a response, and
after ``00``/``01``/``02`` vpcd waits for an answer that the protocol says must not come. Clients must
not send commands shorter than 4 bytes (``PcscReader`` refuses them). What pcscd 1.9.9 with vpcd 0.8
sends, read in their source and seen on the wire:

* ``04`` every ~0.4 s, powered or not (pcscd's presence poll), and right after every ``01`` and ``02``
  (pcscd reads the ATR after each power-up and reset);
* ``01`` only to a card pcscd believes unpowered: at insertion, at ``SCardConnect`` after pcscd's idle
  power-down, and after the ``00`` of ``SCardReconnect(SCARD_UNPOWER_CARD)``;
* ``02`` and ``00`` through a connected handle or at pcscd's idle power-down, to a powered card; but also
  to an unpowered one: ``02`` through a ``SCARD_SHARE_DIRECT`` handle, and ``00`` right after a reconnect,
  when pcscd powers down the card it still believes powered.

So a power-on while powered is the one control code out of place, and the bridge warns of it (a client's
1-byte ``00`` or ``02`` arrives while the card is powered, like pcscd's). The decisive sign is silence:
pcscd polls every 0.4 s, so vpcd silent for ``silence_seconds`` after a no-reply control message means
vpcd took a 1-byte command for it and now waits forever, holding the reader for every client. The bridge
then drops the connection, stays away long enough for pcscd to see the card removed, and reconnects:
vpcd's wait ends (the waiting client gets an empty response, no status word), pcscd frees the reader and
powers the card up afresh, and a wedged exchange never outlives that reconnect.
"""

from __future__ import annotations

import contextlib
import logging
import select
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterable
from types import FrameType

from mynacard.apdu.readers.base import SoftCard
from mynacard.apdu.status import SW
from mynacard.apdu.trace import TRAFFIC, Exchange

logger = logging.getLogger(__name__)

PORT_BASE = 35963
"""vpcd's default port for slot 0 (``CHANNELID 0x8C7B`` in ``/etc/reader.conf.d/vpcd``)."""

READER_NAME = "Virtual PCD"
"""vpcd's ``FRIENDLYNAME``; pcscd appends the reader and slot numbers."""

MAX_FRAME = 0xFFFF
RETRY_SECONDS = 0.2
REPLUG_SECONDS = 0.6
"""Stay away this long when the card changes ATR: longer than pcscd's ~0.4 s presence poll, so that pcscd
sees the slot empty and reads the new ATR, instead of missing the swap."""

POWER_OFF = 0x00
POWER_ON = 0x01
RESET = 0x02
GET_ATR = 0x04
CONTROL_CODES = frozenset({POWER_OFF, POWER_ON, RESET, GET_ATR})
"""vpcd's 1-byte control messages; every other 1-byte message is a (too short) command APDU."""

SILENCE_SECONDS = 2.0
"""How long vpcd may stay silent after a power-off, power-on or reset before the bridge concludes that it
was a 1-byte command that vpcd now waits to see answered (five of pcscd's 0.4 s presence polls)."""

_CONTROL_NAMES = {POWER_OFF: "power-off", POWER_ON: "power-on", RESET: "reset", GET_ATR: "get-ATR"}
_WRONG_LENGTH = SW.WRONG_LENGTH.bytes
_TRANSPORT_FAILURE = SW.NO_PRECISE_DIAGNOSIS.bytes
_HAS_QUICKACK = hasattr(socket, "TCP_QUICKACK")

ExchangeObserver = Callable[[Exchange], None]


def reader_name(slot: int, reader_index: int = 0) -> str:
    """The PC/SC name pcscd gives vpcd's slot (``Virtual PCD 00 01`` for slot 1 of the first reader)."""
    return f"{READER_NAME} {reader_index:02X} {slot:02X}"


class _DisconnectedError(Exception):
    """vpcd closed the connection, or the bridge was told to drop it."""


class VpcdBridge:
    """Connects one software card to one vpcd slot; the card can be swapped or removed at runtime.

    ``run()`` serves until ``stop()``; ``start()`` runs it in a daemon thread. Reconnects every 0.2 s while
    vpcd is not listening (pcscd stopped or restarting). Card exceptions never end the loop: the host gets
    ``6F 00`` and the traceback goes to the log. vpcd silent for ``silence_seconds`` after a power-off,
    power-on or reset is waiting for an answer to a 1-byte command (see the module docstring): the bridge
    replugs to free the reader.
    """

    def __init__(
        self,
        card: SoftCard | None = None,
        *,
        slot: int = 0,
        host: str = "127.0.0.1",
        port_base: int = PORT_BASE,
        retry_seconds: float = RETRY_SECONDS,
        silence_seconds: float = SILENCE_SECONDS,
    ) -> None:
        self.slot = slot
        self.address = (host, port_base + slot)
        self.retry_seconds = retry_seconds
        self.silence_seconds = silence_seconds
        self._card = card
        self._lock = threading.Lock()  # guards card swaps against a running exchange
        self._wake = threading.Condition(self._lock)
        self._sock: socket.socket | None = None
        self._powered = False
        self._stopping = False
        self._away_until = 0.0
        self._thread: threading.Thread | None = None
        self._observers: list[ExchangeObserver] = []
        self.connections = 0
        """How many times vpcd accepted this bridge (reconnects after pcscd restarts count)."""

    # -- control from other threads ------------------------------------------------------------

    @property
    def card(self) -> SoftCard | None:
        return self._card

    @property
    def connected(self) -> bool:
        return self._sock is not None

    @property
    def powered(self) -> bool:
        """Whether vpcd has the card powered (``01``/``02`` seen since the last ``00``)."""
        return self._powered

    def insert(self, card: SoftCard) -> None:
        """Put ``card`` in the slot, in place of any card there.

        With the same ATR the swap is immediate on the live connection: the old card is powered off and,
        if vpcd had the slot powered, the new one is powered on, so the next power-on from pcscd starts it
        cleanly either way. A different ATR drops the connection first, because pcscd caches the ATR of the
        card it saw inserted; the bridge reconnects at once and pcscd sees a new card.
        """
        with self._lock:
            old = self._card
            if old is not None and self._powered:
                _quietly(old.power_off)
            self._card = card
            if self._powered:
                _quietly(card.power_on)
            if old is not None and old.atr != card.atr and self._sock is not None:
                self._away_until = time.monotonic() + REPLUG_SECONDS
                self._drop_connection()
            self._wake.notify_all()

    def remove(self) -> None:
        """Take the card out: the connection is closed, so pcscd reports the slot empty (within ~0.4 s).

        A card inserted right after still waits out pcscd's presence poll, so that pcscd sees the removal.
        """
        with self._lock:
            if self._card is not None and self._powered:
                _quietly(self._card.power_off)
            self._card = None
            self._powered = False
            if self._sock is not None:
                self._away_until = time.monotonic() + REPLUG_SECONDS
                self._drop_connection()

    def add_observer(self, observer: ExchangeObserver) -> None:
        """Call ``observer`` with every exchange (PIN data masked), from the bridge's thread."""
        self._observers.append(observer)

    def remove_observer(self, observer: ExchangeObserver) -> None:
        self._observers.remove(observer)

    def start(self) -> threading.Thread:
        """Serve in a daemon thread; returns the thread."""
        if self._thread is None or not self._thread.is_alive():
            self._stopping = False
            self._thread = threading.Thread(target=self.run, name=f"vpcd-slot-{self.slot}", daemon=True)
            self._thread.start()
        return self._thread

    def stop(self, timeout: float | None = 5.0) -> None:
        """End ``run()`` (from any thread or a signal handler) and wait for the bridge's thread."""
        self._stopping = True
        with self._lock:
            self._drop_connection()
            self._wake.notify_all()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def wait_connected(self, timeout: float) -> bool:
        """Wait until vpcd has accepted the bridge (a card can still need ~0.4 s to show as present)."""
        deadline = time.monotonic() + timeout
        while not self.connected:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)
        return True

    # -- the loop -----------------------------------------------------------------------------

    def run(self) -> None:
        """Connect, serve, reconnect after any loss, until ``stop()``."""
        while not self._stopping:
            if not self._wait_for_card():
                break
            sock = self._connect()
            if sock is None:
                with self._lock:
                    self._wake.wait(self.retry_seconds)
                continue
            try:
                self._serve(sock)
            except (_DisconnectedError, OSError) as exc:
                logger.info("vpcd slot %d: disconnected (%s)", self.slot, exc or "closed")
            except Exception:
                # A card that cannot even give its ATR is as good as absent; pcscd sees a removal.
                logger.exception("vpcd slot %d: card failed outside an APDU; reconnecting", self.slot)
                self._away_until = time.monotonic() + REPLUG_SECONDS
            finally:
                with self._lock:
                    self._sock = None
                    self._powered = False
                sock.close()

    def _wait_for_card(self) -> bool:
        """Block while the slot is empty or the bridge stays away for a replug; False once stopping."""
        with self._lock:
            while not self._stopping:
                away = self._away_until - time.monotonic()
                if self._card is not None and away <= 0:
                    return True
                self._wake.wait(away if away > 0 else None)
            return False

    def _connect(self) -> socket.socket | None:
        try:
            sock = socket.create_connection(self.address, timeout=2.0)
        except OSError:
            return None
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            if self._stopping or self._card is None:
                sock.close()
                return None
            self._sock = sock
        self.connections += 1
        logger.info("vpcd slot %d: connected to %s:%d", self.slot, *self.address)
        return sock

    def _drop_connection(self) -> None:
        """Unblock the serving thread's ``recv`` (caller holds the lock)."""
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)

    def _serve(self, sock: socket.socket) -> None:
        owed: int | None = None  # the no-reply control code vpcd may really be awaiting an answer to
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        while not self._stopping:
            if owed is not None and not poller.poll(self.silence_seconds * 1000):
                self._unwedge(owed)
            message = _receive(sock)
            if len(message) == 1 and message[0] in CONTROL_CODES:
                reply = self._control(message[0])
                owed = message[0] if reply is None else None
            else:
                reply, owed = self._exchange(message), None
            if reply is not None:
                sock.sendall(len(reply).to_bytes(2, "big") + reply)

    def _unwedge(self, code: int) -> None:
        """vpcd waits for an answer to a 1-byte command it sent like control code ``code``: replug."""
        logger.warning(
            "vpcd slot %d: vpcd silent for %.1f s after %02X (%s): it was a 1-byte command APDU that vpcd "
            "now waits to see answered, holding the reader; reconnecting to free it",
            self.slot,
            self.silence_seconds,
            code,
            _CONTROL_NAMES[code],
        )
        with self._lock:
            self._away_until = time.monotonic() + REPLUG_SECONDS
        raise _DisconnectedError("replugged to end a wedged exchange")

    def _control(self, code: int) -> bytes | None:
        with self._lock:
            card = self._card
            if card is None:
                raise _DisconnectedError("card removed")
            if code == GET_ATR:
                return card.atr
            self._warn_if_unexpected(code)
            if code == POWER_ON:
                _quietly(card.power_on)
                self._powered = True
            elif code == RESET:
                _quietly(card.reset)
                self._powered = True
            else:
                _quietly(card.power_off)
                self._powered = False
            return None

    def _warn_if_unexpected(self, code: int) -> None:
        """pcscd powers up only a card it believes unpowered, so a power-on while powered is a command."""
        if code == POWER_ON and self._powered:
            logger.warning(
                "vpcd slot %d: 01 (power-on) while the card is powered: a 1-byte command APDU 01? vpcd's "
                "framing cannot tell it from the control code",
                self.slot,
            )

    def _exchange(self, command: bytes) -> bytes:
        recording = bool(self._observers) or logger.isEnabledFor(TRAFFIC)
        started = time.perf_counter() if recording else 0.0
        with self._lock:
            card = self._card
            if card is None:
                raise _DisconnectedError("card removed")
            response = _process(card, command) if len(command) > 1 else _WRONG_LENGTH
        if recording:
            self._record(Exchange.record(command, response, time.perf_counter() - started))
        return response

    def _record(self, exchange: Exchange) -> None:
        logger.log(TRAFFIC, "vpcd slot %d\n%s", self.slot, exchange.format())
        for observer in list(self._observers):
            try:
                observer(exchange)
            except Exception:
                logger.exception("vpcd slot %d: exchange observer failed", self.slot)


def _process(card: SoftCard, command: bytes) -> bytes:
    """The card's answer, replaced by ``6F 00`` when it raised or cannot travel in one vpcd frame."""
    try:
        response = bytes(card.process(command))
    except Exception:
        logger.exception("card raised on %s", command[:4].hex(" ").upper())
        return _TRANSPORT_FAILURE
    if len(response) < 2:
        logger.error("card answered %d byte(s), no status word; sent 6F 00", len(response))
        return _TRANSPORT_FAILURE
    if len(response) > MAX_FRAME:
        logger.error("card answered %d bytes, more than a vpcd frame carries; sent 6F 00", len(response))
        return _TRANSPORT_FAILURE
    return response


def _receive(sock: socket.socket) -> bytes:
    """One framed message; sets TCP_QUICKACK after the header so vpcd 0.8 releases the payload at once."""
    header = _receive_exactly(sock, 2)
    if _HAS_QUICKACK:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
    length = header[0] << 8 | header[1]
    if length == 0:
        raise _DisconnectedError("empty frame")
    return _receive_exactly(sock, length)


def _receive_exactly(sock: socket.socket, n: int) -> bytes:
    chunk = sock.recv(n)
    if len(chunk) == n:
        return chunk
    buffer = bytearray(chunk)
    while len(buffer) < n:
        if not chunk:
            raise _DisconnectedError()
        chunk = sock.recv(n - len(buffer))
        buffer += chunk
    return bytes(buffer)


def _quietly(action: Callable[[], object]) -> None:
    """Run a card power action; a failing card must not take the slot down."""
    try:
        action()
    except Exception:
        logger.exception("card power action %s raised", getattr(action, "__name__", action))


UNCONNECTED_WARNING_SECONDS = 3.0


def _warn_while_unconnected(bridges: list[VpcdBridge], done: threading.Event) -> None:
    """Say once why nothing happens when vpcd is not there: the bridges keep retrying meanwhile."""
    if done.wait(UNCONNECTED_WARNING_SECONDS):
        return
    for bridge in bridges:
        if not bridge.connected:
            host, port = bridge.address
            logger.warning(
                "vpcd slot %d: nothing listens on %s:%d yet; is pcscd running with vsmartcard-vpcd? "
                "(still trying)",
                bridge.slot,
                host,
                port,
            )


def serve_until_signalled(bridges: Iterable[VpcdBridge]) -> None:
    """Run bridges (one thread each) until SIGINT or SIGTERM, then stop them all. Main thread only."""
    running = list(bridges)
    done = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        logger.info("signal %d: stopping %d bridge(s)", signum, len(running))
        done.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        for bridge in running:
            bridge.start()
        _warn_while_unconnected(running, done)
        while not done.wait(0.5):
            pass
    finally:
        for bridge in running:
            bridge.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
