"""The pcscd + vpcd life cycle: start pcscd only when none runs (and stop only the one started, by PID),
wait for vpcd, serve a software card on a vpcd slot through an in-process ``VpcdBridge``, and wait until
PC/SC sees it.

Plain functions and classes, no pytest: the harness plugin (``mynacard.tools.harness.plugin``) wires them
into fixtures, and ``bench/bench_pcsc.py`` uses them directly.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from mynacard.apdu.readers.base import SoftCard
from mynacard.apdu.readers.softcards import EchoCard
from mynacard.apdu.readers.vpcd import PORT_BASE, READER_NAME, VpcdBridge, reader_name

PCSCD_SOCKET = Path("/run/pcscd/pcscd.comm")
PCSCD_PID_FILE = Path("/run/pcscd/pcscd.pid")
WAIT_SECONDS = 20.0
SYSTEMD_HINT = "stop it first: systemctl stop pcscd.socket pcscd.service"

_TCP_LISTEN = "0A"
_TCP_ESTABLISHED = "01"


class PcscSetupError(Exception):
    """The PC/SC stack (pcscd, vpcd, pyscard, the card) is missing or not usable."""


# -- sockets, read from /proc so that nothing connects to vpcd (a probe would look like a card) ------

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Address = tuple[IpAddress, int]


@dataclass(frozen=True)
class TcpSocket:
    """One line of ``/proc/net/tcp`` or ``tcp6``: the two ends, the state and the socket's inode."""

    local: Address
    remote: Address
    state: str
    inode: int
    """0 for a connection still in a listener's backlog: no process holds it yet."""


def _address(field: str) -> Address:
    """``0100007F:8C7B`` → (127.0.0.1, 35963); the kernel prints each 32-bit word in host byte order."""
    host, port = field.rsplit(":", 1)
    words = bytes.fromhex(host)
    if sys.byteorder == "little":
        words = b"".join(words[i : i + 4][::-1] for i in range(0, len(words), 4))
    return _unmapped(ipaddress.ip_address(words)), int(port, 16)


def _unmapped(address: IpAddress) -> IpAddress:
    """``::ffff:127.0.0.1`` is 127.0.0.1."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _tcp_sockets() -> Iterator[TcpSocket]:
    """Every IPv4/IPv6 TCP socket of the machine (of this network namespace)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError), open(table, encoding="ascii") as lines:
            next(lines, None)
            for line in lines:
                fields = line.split()
                yield TcpSocket(_address(fields[1]), _address(fields[2]), fields[3], int(fields[9]))


def vpcd_listening(port: int) -> bool:
    return any(s.local[1] == port and s.state == _TCP_LISTEN for s in _tcp_sockets())


def vpcd_slot_taken(port: int) -> bool:
    """True when some card process already holds vpcd's slot on ``port``."""
    return any(s.local[1] == port and s.state == _TCP_ESTABLISHED for s in _tcp_sockets())


@dataclass(frozen=True)
class SlotHolder:
    """A card process connected to a vpcd slot: the PIDs holding its socket, and whether vpcd took it."""

    pids: tuple[int, ...]
    """Empty when no process of this machine visible to this user holds it (another user's, as non-root)."""
    accepted: bool
    """vpcd accepted the connection (serves that card); otherwise it waits in vpcd's backlog of one."""

    def describe(self) -> str:
        if not self.pids:
            return "a process whose PID this user cannot see"
        return ", ".join(f"PID {pid} ({_command_line(pid)})" for pid in self.pids)


def vpcd_slot_holders(host: str, port: int) -> list[SlotHolder]:
    """The card processes connected to the vpcd slot at ``host:port``, the one vpcd serves first.

    Read from the kernel's tables, not from lock files: an established connection to vpcd's port is what
    makes pcscd serve a card, so the table names every server of the slot (``mynacard emulate``, the test
    harness's in-process bridge, vsmartcard's own vicc, any script), and nothing can go stale, because the
    kernel drops the connection when its process dies, SIGKILL included. A lock file would see only the
    processes that take it, could name a dead or recycled PID, and needs a directory every user and every
    mount namespace shares, while vpcd's port is one per machine. vpcd's end of each connection tells an
    accepted card (a socket pcscd holds) from one waiting in its backlog (inode 0); the card's end, found
    by its inode among ``/proc/<pid>/fd``, names the process. Limits: a vpcd on another machine is not in
    these tables (nothing is found), a non-root user cannot see other users' PIDs (``pids`` is empty but
    the slot still counts as held), and two cards started within the same few milliseconds can both find
    the slot free.
    """
    served_at = _local_addresses(host)
    sockets = [s for s in _tcp_sockets() if s.state == _TCP_ESTABLISHED]
    vpcd_ends = [s for s in sockets if s.local[1] == port and s.local[0] in served_at]
    card_ends = {(s.local, s.remote): s.inode for s in sockets}
    inodes = [card_ends.get((end.remote, end.local), 0) for end in vpcd_ends]
    owners = _socket_owners({inode for inode in inodes if inode})
    holders = [
        SlotHolder(tuple(owners.get(inode, ())), accepted=end.inode != 0)
        for end, inode in zip(vpcd_ends, inodes, strict=True)
    ]
    return sorted(holders, key=lambda holder: not holder.accepted)


def _local_addresses(host: str) -> set[IpAddress]:
    try:
        infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return set()
    return {_unmapped(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])) for info in infos}


def _socket_owners(inodes: set[int]) -> dict[int, list[int]]:
    """PIDs whose file descriptors hold each socket inode (those of other users only when root)."""
    owners: dict[int, list[int]] = {}
    if not inodes:
        return owners
    wanted = {f"socket:[{inode}]": inode for inode in inodes}
    for process in Path("/proc").iterdir():
        if not process.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (process / "fd").iterdir():
                inode = wanted.get(_readlink(fd))
                if inode is not None and int(process.name) not in owners.get(inode, []):
                    owners.setdefault(inode, []).append(int(process.name))
    return owners


def _readlink(path: Path) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return ""


def _command_line(pid: int) -> str:
    """The process's command line, shortened; its name when the command line is unreadable."""
    try:
        words = Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").split(b"\0")
    except OSError:
        return "?"
    text = " ".join(word.decode(errors="replace") for word in words)
    return text if len(text) <= 80 else text[:77] + "..."


# -- pcscd -----------------------------------------------------------------------------------------------


def pcscd_binary() -> str | None:
    """pcscd lives in sbin, which is not on every user's PATH."""
    path = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin", "/usr/local/sbin"])
    return shutil.which("pcscd", path=path)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def running_pcscd_pid() -> int | None:
    """The PID of a live pcscd that this process did not start (from its PID file)."""
    try:
        pid = int(PCSCD_PID_FILE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if _pid_alive(pid) else None


def _systemd_socket_active() -> bool:
    """systemd holds pcscd's socket and would start pcscd with --auto-exit on the first client."""
    systemctl = shutil.which("systemctl")
    if systemctl is None or not Path("/run/systemd/system").is_dir():
        return False
    result = subprocess.run([systemctl, "is-active", "--quiet", "pcscd.socket"], check=False)
    return result.returncode == 0


class PcscDaemon:
    """pcscd for the tests: a running one is used as it is; otherwise one is started and owned."""

    def __init__(self, port: int = PORT_BASE) -> None:
        self.port = port
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def owned(self) -> bool:
        return self.process is not None

    def ensure(self, timeout: float = WAIT_SECONDS) -> None:
        """Make sure a pcscd with vpcd on ``port`` runs, starting ours if none does."""
        foreign = running_pcscd_pid()
        if foreign is not None and not self.owned:
            if not vpcd_listening(self.port):
                raise PcscSetupError(
                    f"pcscd (pid {foreign}) runs without vpcd listening on port {self.port}; {SYSTEMD_HINT}"
                )
            return
        if self.process is None and _systemd_socket_active():
            raise PcscSetupError(f"pcscd.socket is active (pcscd would exit when idle); {SYSTEMD_HINT}")
        if self.process is None:
            self.start()
        self.wait_listening(timeout)

    def start(self) -> None:
        binary = pcscd_binary()
        if binary is None:
            raise PcscSetupError("pcscd is not installed (tools/dev/pcsc-packages.sh installs it)")
        if not Path("/etc/reader.conf.d/vpcd").exists():
            raise PcscSetupError("vpcd is not installed (Debian package vsmartcard-vpcd)")
        self._log = tempfile.TemporaryFile(prefix="pcscd-")  # noqa: SIM115  (closed in stop)
        # Its own session: a Ctrl-C in the terminal must not reach pcscd before our teardown stops it.
        self.process = subprocess.Popen(
            [binary, "--foreground"], stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_listening(self, timeout: float = WAIT_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while not vpcd_listening(self.port):
            if self.process is not None and self.process.poll() is not None:
                raise PcscSetupError(f"pcscd exited with {self.process.returncode}:\n{self.log_text()}")
            if time.monotonic() > deadline:
                raise PcscSetupError(f"vpcd not listening on port {self.port} after {timeout:.0f} s")
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop the pcscd this object started (by PID); a foreign one is left alone."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def restart(self, timeout: float = WAIT_SECONDS) -> None:
        if not self.owned:
            raise PcscSetupError("pcscd was not started by the tests, so they do not restart it")
        self.stop()
        self.start()
        self.wait_listening(timeout)

    def log_text(self, limit: int = 4000) -> str:
        if self._log is None:
            return "(no log)"
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-limit:]


# -- waiting for pyscard to see the card --------------------------------------------------------------


def wait_card_present(name: str, atr: bytes | None = None, timeout: float = WAIT_SECONDS) -> None:
    """Wait until PC/SC reports a card in reader ``name`` (with ``atr``, when given).

    A fresh context each round: after a pcscd restart the old one is dead.
    """
    from smartcard import scard

    deadline = time.monotonic() + timeout
    seen = "pcscd not reachable"
    while time.monotonic() < deadline:
        hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if hresult != 0:
            time.sleep(0.1)
            continue
        try:
            seen = _poll_presence(scard, context, name, atr)
            if seen == "present":
                return
        finally:
            scard.SCardReleaseContext(context)
        time.sleep(0.05)
    raise PcscSetupError(f"no card in PC/SC reader {name!r} after {timeout:.0f} s (last state: {seen})")


def _poll_presence(scard: Any, context: Any, name: str, atr: bytes | None) -> str:
    hresult, readers = scard.SCardListReaders(context, [])
    if hresult != 0 or name not in readers:
        return f"reader missing (readers: {readers if hresult == 0 else []})"
    hresult, states = scard.SCardGetStatusChange(context, 300, [(name, scard.SCARD_STATE_UNAWARE)])
    if hresult != 0 or not states[0][1] & scard.SCARD_STATE_PRESENT:
        return "empty"
    seen = bytes(states[0][2])
    # Right after an insertion pcscd may report the ATR buffer at its full 33 bytes, zero-padded.
    if atr is not None and not (seen.startswith(atr) and not any(seen[len(atr) :])):
        return f"other ATR {seen.hex(' ').upper()}"
    return "present"


# -- the trivial card -----------------------------------------------------------------------------------


# -- the session stack ----------------------------------------------------------------------------------


def vpcd_slot_of(name: str) -> int | None:
    """The vpcd slot of a reader name like ``Virtual PCD 00 01``; None for any other reader."""
    if not name.startswith(READER_NAME):
        return None
    try:
        return int(name.split()[-1], 16)
    except ValueError:
        return None


class PcscStack:
    """pcscd, vpcd and a bridge on one slot, started once per session."""

    def __init__(self, slot: int = 0, port_base: int = PORT_BASE) -> None:
        self.slot = slot
        self.reader_name = reader_name(slot)
        self.daemon = PcscDaemon(port_base + slot)
        self.bridge = VpcdBridge(slot=slot, port_base=port_base)

    def start(self, placeholder: SoftCard | None = None) -> None:
        try:
            import smartcard.scard  # noqa: F401
        except ImportError as exc:
            raise PcscSetupError("pyscard is not installed: pip install -e '.[pcsc]'") from exc
        self.daemon.ensure()
        holders = [] if self.daemon.owned else vpcd_slot_holders("127.0.0.1", self.daemon.port)
        if holders:
            holder = holders[0].describe()
            raise PcscSetupError(
                f"another card process holds vpcd slot {self.slot} ({self.reader_name}): {holder}"
            )
        card = placeholder or EchoCard()
        self.bridge.insert(card)
        self.bridge.start()
        wait_card_present(self.reader_name, card.atr)

    def insert(self, card: SoftCard) -> None:
        """Put ``card`` in the slot; waits for pcscd only when the ATR changed (a replug)."""
        previous, was_connected = self.bridge.card, self.bridge.connected
        self.bridge.insert(card)
        # Read the connection state before inserting: a bridge that reconnects for this card is connected
        # again at once, while pcscd notices the card only at its next poll (up to 0.4 s later).
        if previous is None or previous.atr != card.atr or not was_connected:
            wait_card_present(self.reader_name, card.atr)

    def restart_pcscd(self) -> None:
        """Stop and start our pcscd; the bridge reconnects by itself. Waits until the card is back."""
        self.daemon.restart()
        card = self.bridge.card
        wait_card_present(self.reader_name, card.atr if card else None)

    def close(self) -> None:
        self.bridge.stop()
        self.daemon.stop()
