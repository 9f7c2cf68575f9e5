"""The commands of ``mynacard shell``: hex APDUs and named ones, on one reader, with secrets masked.

A line is a named command (``help`` lists them) or a command APDU in hex. Every exchange is echoed as a
trace shows it (``>`` the command, secrets masked; ``<`` the answer and its status word decoded), and
answers with data get a hex dump and a BER-TLV view. ``verify FID`` asks for the value without echo and
never takes it on the line; ``history_text`` is what the history keeps of a line, with the same masking.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from mynacard.apdu.applets.session import select_df_name
from mynacard.apdu.readers.base import Reader, ReaderError
from mynacard.apdu.response import ResponseApdu
from mynacard.apdu.status import SW
from mynacard.apdu.trace import Exchange, carries_secret
from mynacard.profiles.schema import AppletSpec, CredentialSpec, Profile
from mynacard.tools.cli.apdu import parse_hex_apdu
from mynacard.tools.cli.shell_view import ECHO_BYTES, echo, hex_dump, tlv_view
from mynacard.tools.cli.status import CounterState, CredentialStatus, query_credential, read_counters, table

AskSecret = Callable[[str], str | None]
"""Ask for a secret with this prompt, without echo; None or empty: cancelled."""

HELP = [
    "select NAME        select an applet of the card's profile by its id (e.g. select jpki)",
    "select AID         select by DF name (5-16 bytes of hex); select FID (4 hex digits): an EF",
    "verify FID         select the EF and VERIFY it; the value is asked for, without echo",
    "read FID           select the EF and read it whole (READ BINARY in 256-byte chunks)",
    "status [all]       tries left of the current applet's credentials (all: of every applet)",
    "atr | reset        the card's ATR | a warm reset",
    "HEX                any command APDU, e.g. 00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01",
    "help | quit        this list | leave (also Ctrl-D)",
]
_QUIT = frozenset({"quit", "exit"})
_READ_CHUNK = 256
_MAX_OFFSET = 0x7FFF
"""READ BINARY's 15-bit offset (P1 bit 8 clear)."""
_SELECT_EF = bytes.fromhex("00A4020C02")


class ShellError(Exception):
    """A line the shell cannot run; printed as one line, the session goes on."""


def history_text(line: str) -> str:
    """What the history keeps of ``line``: a secret-carrying APDU masked, a ``verify`` without its extras."""
    words = line.split()
    if words and words[0].lower() == "verify" and len(words) > 2:
        return " ".join([*words[:2], "**"])
    try:
        command = parse_hex_apdu(line)
    except ValueError:
        return line
    return Exchange.record(command, b"").command_text() if carries_secret(command) else line


def _fid(words: list[str], command: str) -> int:
    if len(words) != 1 or len(words[0]) != 4:
        raise ShellError(f"{command} takes one file identifier, 4 hex digits (e.g. {command} 0018)")
    try:
        return int(words[0], 16)
    except ValueError:
        raise ShellError(f"{command}: the file identifier is 4 hex digits") from None


@dataclass
class ShellSession:
    """One shell on one powered reader; ``applet`` is the applet the shell last saw selected."""

    reader: Reader
    profile: Profile
    atr: bytes
    ask_secret: AskSecret
    out: Callable[[str], None] = print
    applet: AppletSpec | None = None
    aid: bytes | None = None
    _commands: dict[str, Callable[[list[str]], None]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._commands = {
            "select": self._select,
            "verify": self._verify,
            "read": self._read,
            "status": self._status,
            "atr": self._atr,
            "reset": self._reset,
            "help": self._help,
        }
        if self.applet is None and self.aid is None:
            self._now_at_default()

    def _now_at_default(self) -> None:
        self.applet = self._default_applet()
        self.aid = self.applet.aid if self.applet else None

    def _default_applet(self) -> AppletSpec | None:
        """The applet that is current after power-on or reset (the card manager)."""
        return next((a for a in self.profile.applets if a.default), None)

    def prompt(self) -> str:
        where = self.applet.id if self.applet else (self.aid.hex().upper() if self.aid else "")
        return f"mynacard {where}> " if where else "mynacard> "

    def execute(self, line: str) -> bool:
        """Run one line; False when the shell should end."""
        words = line.split()
        if not words:
            return True
        name = words[0].lower()
        if name in _QUIT:
            return False
        try:
            handler = self._commands.get(name)
            if handler is not None:
                handler(words[1:])
            else:
                self._send_hex(line)
        except ShellError as exc:
            self.out(f"error: {exc}")
        except ReaderError as exc:
            self.out(f"reader error: {exc}")
        return True

    # --- sending ----------------------------------------------------------------------------------

    def send(self, command: bytes) -> ResponseApdu:
        """Transmit, echo the exchange (masked), and follow a SELECT by DF name."""
        response = self.reader.transmit(command)
        for line in echo(Exchange.record(command, response.to_bytes())):
            self.out(line)
        if len(command) > 5 and command[1] == 0xA4 and command[2] == 0x04 and response.sw == SW.OK:
            self._now_selected(command[5 : 5 + command[4]])
        return response

    def _now_selected(self, aid: bytes) -> None:
        self.aid = aid
        self.applet = next((a for a in self.profile.applets if a.aid == aid), None)

    def _send_hex(self, line: str) -> None:
        try:
            command = parse_hex_apdu(line)
        except ValueError as exc:
            raise ShellError(f"{exc}; type help for the commands") from None
        response = self.send(command)
        if len(response.data) > ECHO_BYTES:
            self._show_lines(hex_dump(response.data))
        self._show_lines(tlv_view(response.data))

    def _show_lines(self, lines: list[str]) -> None:
        for line in lines:
            self.out(f"  {line}")

    def _select_ef(self, fid: int) -> bool:
        return self.send(_SELECT_EF + fid.to_bytes(2, "big")).sw == SW.OK

    # --- the named commands -----------------------------------------------------------------------

    def _select(self, words: list[str]) -> None:
        if len(words) != 1:
            raise ShellError("select takes one applet name, AID or FID (e.g. select jpki)")
        target = words[0]
        applet = next((a for a in self.profile.applets if a.id == target.lower()), None)
        if applet is not None:
            self.send(select_df_name(applet.aid))
            return
        try:
            value = bytes.fromhex(target)
        except ValueError:
            names = ", ".join(a.id for a in self.profile.applets)
            raise ShellError(f"no applet {target!r} in {self.profile.name} ({names}), nor hex") from None
        if len(value) == 2:
            self._select_ef(int.from_bytes(value, "big"))
        elif 5 <= len(value) <= 16:
            self.send(select_df_name(value))
        else:
            raise ShellError(f"an AID is 5-16 bytes and a FID 2, not {len(value)}")

    def _credential(self, fid: int) -> CredentialSpec | None:
        credentials = self.applet.credentials if self.applet else []
        return next((c for c in credentials if c.fid == fid), None)

    def _verify(self, words: list[str]) -> None:
        if len(words) > 1:
            raise ShellError("verify takes the FID only: the value is asked for, never typed on the line")
        fid = _fid(words, "verify")
        credential = self._credential(fid)
        if not self._select_ef(fid):
            return
        what = f"{credential.kind} {credential.id}" if credential else "reference data"
        secret = self.ask_secret(f"{what} for {fid:04X} (not echoed): ")
        if not secret:
            self.out("nothing sent")
            return
        try:
            value = secret.encode("ascii")
        except UnicodeEncodeError:
            raise ShellError("the value is ASCII (digits, A-Z); nothing sent") from None
        if len(value) > 255:
            raise ShellError("the value is at most 255 bytes; nothing sent")
        self.send(bytes((0x00, 0x20, 0x00, 0x80, len(value))) + value)

    def _read(self, words: list[str]) -> None:
        fid = _fid(words, "read")
        if not self._select_ef(fid):
            return
        data = self._read_current()
        if not data:
            return
        self.out(f"{fid:04X}: {len(data)} bytes")
        self._show_lines(hex_dump(data))
        self._show_lines(tlv_view(data))

    def _read_current(self) -> bytes:
        """READ BINARY from offset 0 until a short chunk, the end of the file or an error."""
        data = b""
        while len(data) <= _MAX_OFFSET:
            response = self.send(bytes((0x00, 0xB0, len(data) >> 8, len(data) & 0xFF, 0x00)))
            if response.sw not in (SW.OK, SW.END_OF_FILE):
                break
            data += response.data
            if response.sw == SW.END_OF_FILE or len(response.data) < _READ_CHUNK:
                break
        return data

    def _status(self, words: list[str]) -> None:
        if words not in ([], ["all"]):
            raise ShellError("status takes nothing or 'all'")
        if words or self.applet is None or not self.applet.credentials:
            statuses = self._status_all()
        else:
            statuses = self._status_here(self.applet)
        for line in table(statuses):
            self.out(line)

    def _status_here(self, applet: AppletSpec) -> list[CredentialStatus]:
        if applet.requires_secure_messaging:
            return [
                CredentialStatus(applet, c, CounterState.SECURE_MESSAGING, None) for c in applet.credentials
            ]
        unset_sw = self.profile.behaviour.unset_reference_data_sw
        return [query_credential(self.reader, applet, c, unset_sw) for c in applet.credentials]

    def _status_all(self) -> list[CredentialStatus]:
        """Every applet is selected in turn; then the one before (or the card's default) again."""
        back = self.aid
        statuses = read_counters(self.reader, self.profile)
        self.out("status all selected every applet (a selection may clear a verified PIN)")
        if back is not None:
            self.send(select_df_name(back))
        return statuses

    def _atr(self, words: list[str]) -> None:
        self.out(f"ATR {self.atr.hex(' ').upper()}")

    def _reset(self, words: list[str]) -> None:
        self.atr = self.reader.reset()
        self._now_at_default()
        self.out(f"reset: ATR {self.atr.hex(' ').upper()}")

    def _help(self, words: list[str]) -> None:
        for line in HELP:
            self.out(line)
