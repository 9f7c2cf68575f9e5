"""Trace files: record a session one exchange per line, replay it against a card, run ``scriptor`` scripts.

The format (version 1), UTF-8 text::

    # mynacard trace 1
    # reader: mynacard Virtual Reader 0
    2026-12-02T20:35:35.123456Z > 00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01
    2026-12-02T20:35:35.123601Z < 90 00
    2026-12-02T20:35:35.124010Z > 00 20 00 80 ** ** ** ** **
    2026-12-02T20:35:35.124388Z < 90 00

Each line is a UTC time, a direction (``>`` command, ``<`` its response) and the bytes in hex; ``**`` is a
masked byte (see ``mynacard.apdu.trace``: a secret never reaches a trace). Lines starting with ``#`` are
comments. A response line follows its command. Replaying sends every command again and stops at the first
response that differs; a masked command is sent only when the caller can fill its secret back in.

``scriptor`` (pcsc-tools) scripts are hex APDUs one per line, ``#`` comments, ``reset`` and ``exit``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from mynacard.apdu.status import describe
from mynacard.apdu.trace import MASK_BYTE, Exchange

HEADER = "# mynacard trace 1"
_MASKED = "**"


class TraceFormatError(ValueError):
    """A trace or script line that cannot be read; names the file and the line."""


def _hex(data: bytes, mask: tuple[int, int] | None = None) -> str:
    parts = [f"{b:02X}" for b in data]
    if mask is not None:
        parts[mask[0] : mask[1]] = [_MASKED] * (mask[1] - mask[0])
    return " ".join(parts)


class TraceWriter:
    """An exchange observer that writes each exchange as two lines (use ``reader.add_observer(writer)``)."""

    def __init__(self, out: TextIO, reader: str = "") -> None:
        self._out = out
        out.write(HEADER + "\n")
        if reader:
            out.write(f"# reader: {reader}\n")
        out.flush()

    def __call__(self, exchange: Exchange) -> None:
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        self._out.write(f"{stamp} > {_hex(exchange.command, exchange.mask)}\n")
        self._out.write(f"{stamp} < {_hex(exchange.response)}\n")
        self._out.flush()


@dataclass(frozen=True, slots=True)
class Recorded:
    """One recorded exchange: the command (masked bytes as ``MASK_BYTE``), the mask, the response."""

    line: int
    command: bytes
    mask: tuple[int, int] | None
    response: bytes

    def command_text(self) -> str:
        return _hex(self.command, self.mask)


def read_trace(path: Path) -> list[Recorded]:
    """Every exchange of a trace file; ``TraceFormatError`` names the line that is wrong."""
    lines = path.read_text(encoding="utf-8").splitlines()
    if not lines or lines[0].strip() != HEADER:
        raise TraceFormatError(f"{path}:1: not a mynacard trace (expected {HEADER!r})")
    out: list[Recorded] = []
    pending: tuple[int, bytes, tuple[int, int] | None] | None = None
    for number, text in enumerate(lines, start=1):
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        direction, data, mask = _trace_line(path, number, text)
        if direction == ">":
            if pending is not None:
                raise TraceFormatError(f"{path}:{number}: a command follows a command without response")
            pending = (number, data, mask)
        else:
            if pending is None or mask is not None:
                raise TraceFormatError(f"{path}:{number}: a response without its command")
            out.append(Recorded(pending[0], pending[1], pending[2], data))
            pending = None
    if pending is not None:
        raise TraceFormatError(f"{path}:{pending[0]}: the last command has no response")
    return out


def _trace_line(path: Path, number: int, text: str) -> tuple[str, bytes, tuple[int, int] | None]:
    fields = text.split()
    if len(fields) < 2 or fields[1] not in (">", "<"):
        raise TraceFormatError(f"{path}:{number}: expected 'TIME > HEX' or 'TIME < HEX'")
    tokens = fields[2:]
    masked = [i for i, t in enumerate(tokens) if t == _MASKED]
    if masked and masked != list(range(masked[0], masked[-1] + 1)):
        raise TraceFormatError(f"{path}:{number}: masked bytes must be one run")
    try:
        data = bytes(MASK_BYTE if t == _MASKED else int(t, 16) for t in tokens)
    except ValueError:
        raise TraceFormatError(f"{path}:{number}: {text.strip()!r} is not hex") from None
    if any(len(t) != 2 for t in tokens):
        raise TraceFormatError(f"{path}:{number}: bytes are two hex digits each")
    return fields[1], data, (masked[0], masked[-1] + 1) if masked else None


@dataclass(frozen=True, slots=True)
class Difference:
    """The first exchange whose answer differs on replay."""

    recorded: Recorded
    index: int
    actual: bytes

    def describe(self) -> str:
        return (
            f"exchange #{self.index + 1} (line {self.recorded.line}) > {self.recorded.command_text()}\n"
            f"  recorded: {_response_text(self.recorded.response)}\n"
            f"  replayed: {_response_text(self.actual)}"
        )


def _response_text(response: bytes) -> str:
    if len(response) < 2:
        return f"(malformed {_hex(response)})"
    return " ".join(p for p in (_hex(response[:-2]), describe(int.from_bytes(response[-2:], "big"))) if p)


SecretFiller = Callable[[int, Recorded], bytes]
"""Gives a masked command back in full (index, recorded exchange) → command bytes; raises if it cannot."""


def replay(
    exchanges: Iterable[Recorded], transmit: Callable[[bytes], bytes], fill: SecretFiller | None = None
) -> Difference | None:
    """Send every recorded command; the first response that differs, or None when all are identical."""
    for index, recorded in enumerate(exchanges):
        command = recorded.command
        if recorded.mask is not None:
            if fill is None:
                raise TraceFormatError(f"exchange #{index + 1} is masked: its secret is needed to replay it")
            command = fill(index, recorded)
        actual = transmit(command)
        if actual != recorded.response:
            return Difference(recorded, index, actual)
    return None


@dataclass(frozen=True, slots=True)
class ScriptStep:
    line: int
    action: str
    """``apdu``, ``reset`` or ``exit``."""
    command: bytes = b""


def read_script(path: Path) -> Iterator[ScriptStep]:
    """A ``scriptor`` script: hex APDUs (spaces optional), ``#`` comments, ``reset``, ``exit``."""
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = text.split("#", 1)[0].strip()
        if not line:
            continue
        if line.lower() in ("reset", "exit"):
            yield ScriptStep(number, line.lower())
            continue
        try:
            yield ScriptStep(number, "apdu", bytes.fromhex(line))
        except ValueError:
            raise TraceFormatError(f"{path}:{number}: {line!r} is neither hex nor reset/exit") from None
