"""APDUs per second through pyscard → pcscd → vpcd → card, emulator next to a trivial card, same run.

Two card processes are started, one per vpcd slot: the emulator (``legacy-2016``, persona ``default``)
on slot 0 and a trivial card on slot 1, each behind the same ``VpcdBridge``. Both get the same command
bytes and answer with the same response sizes, so the ratio of their rates shows the emulator's own cost
against the transport's. Blocks of APDUs alternate between the two cards, so the drift of a noisy machine
hits both alike; the CPU time of each card process per APDU is reported too, because it is far steadier
than wall-clock rates on a shared 2-core machine.

Then the connect/disconnect soak: cycles of ``PcscReader`` power on + one APDU + power off, and (when this
script started pcscd) a pcscd restart, timing how long the card takes to come back by itself.

Run from the repository root, as root: ``python bench/bench_pcsc.py [--apdus N] [--block B]``.
Targets (issue 4): emulator >= 90% of the trivial card, > 10,000 small APDU/s.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
from multiprocessing.process import BaseProcess
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mynacard.apdu.applets.jpki import JPKI_AID
from mynacard.apdu.applets.session import select_df_name
from mynacard.apdu.readers.base import SoftCard
from mynacard.apdu.readers.pcsc import PcscReader
from mynacard.apdu.readers.softcards import PatternCard
from mynacard.apdu.readers.vpcd import VpcdBridge, reader_name, serve_until_signalled
from mynacard.apdu.status import SW
from mynacard.tools.harness.pcsc import PcscDaemon, wait_card_present

JPKI_ATR = bytes.fromhex("3B E0 00 FF 81 31 FE 45 14")
SELECT_JPKI_AP = select_df_name(JPKI_AID)
SELECT_AUTH_CERT = bytes.fromhex("00 A4 02 0C 02 00 0A")
READ_256 = bytes.fromhex("00 B0 00 00 00")

Case = tuple[str, list[bytes], bytes, int]
CASES: list[Case] = [
    # name, setup commands, timed command, expected response length (data + SW)
    ("SELECT AP, 15 B -> 2 B", [], SELECT_JPKI_AP, 2),
    ("READ BINARY, 5 B -> 258 B", [SELECT_JPKI_AP, SELECT_AUTH_CERT], READ_256, 258),
]


def _emulator_card() -> SoftCard:
    from mynacard.emulator.issuance.personalise import open_card

    return open_card("legacy-2016", "default", Path(tempfile.mkdtemp(prefix="bench-card-")) / "card")


def _serve(kind: str, slot: int) -> None:
    card: SoftCard = _emulator_card() if kind == "emulator" else PatternCard()
    serve_until_signalled([VpcdBridge(card, slot=slot)])


def start_card_process(kind: str, slot: int) -> BaseProcess:
    process = multiprocessing.get_context("fork").Process(target=_serve, args=(kind, slot), name=kind)
    process.start()
    return process


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (from /proc, clock-tick resolution)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Measure:
    """Wall time seen by the host and CPU time spent by the card process, over many timed blocks."""

    def __init__(self, reader: PcscReader, pid: int) -> None:
        self.reader, self.pid = reader, pid
        self.wall = self.cpu = 0.0
        self.count = 0

    def check(self, setup: list[bytes], command: bytes, expected: int) -> None:
        for step in setup:
            assert self.reader.transmit(step).sw == SW.OK, step.hex()
        first = self.reader.transmit(command).to_bytes()
        assert len(first) == expected and first[-2:] == SW.OK.bytes, f"{command.hex()} -> {first[-2:].hex()}"

    def block(self, command: bytes, count: int) -> None:
        transmit = self.reader.transmit
        cpu = cpu_seconds(self.pid)
        started = time.perf_counter()
        for _ in range(count):
            transmit(command)
        self.wall += time.perf_counter() - started
        self.cpu += cpu_seconds(self.pid) - cpu
        self.count += count

    @property
    def rate(self) -> float:
        return self.count / self.wall

    @property
    def cpu_us(self) -> float:
        return self.cpu / self.count * 1e6


def bench_case(
    cards: dict[str, tuple[PcscReader, int]], case: Case, total: int, block: int
) -> dict[str, Measure]:
    """Blocks of ``block`` APDUs alternate between the cards, so drift on a noisy machine hits both alike."""
    _name, setup, command, expected = case
    measures = {kind: Measure(reader, pid) for kind, (reader, pid) in cards.items()}
    for measure in measures.values():
        measure.check(setup, command, expected)
    for _ in range(max(1, total // block)):
        for measure in measures.values():
            measure.block(command, block)
    return measures


def soak(name: str, cycles: int) -> float:
    """Seconds for ``cycles`` connect + SELECT + disconnect cycles on one PC/SC context."""
    reader = PcscReader(name)
    try:
        started = time.perf_counter()
        for _ in range(cycles):
            reader.power_on()
            assert reader.transmit(SELECT_JPKI_AP).sw == SW.OK
            reader.power_off()
        return time.perf_counter() - started
    finally:
        reader.close()


def recovery_seconds(daemon: PcscDaemon, name: str) -> float:
    """pcscd stopped and started again: seconds until the card answers again, with no manual step."""
    started = time.perf_counter()
    daemon.restart()
    wait_card_present(name, JPKI_ATR)
    with PcscReader(name) as reader:
        assert reader.transmit(SELECT_JPKI_AP).sw == SW.OK
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--apdus", type=int, default=20_000, help="APDUs per card and case (%(default)s)")
    parser.add_argument("--block", type=int, default=250, help="APDUs per alternating block (%(default)s)")
    parser.add_argument("--cycles", type=int, default=1000, help="connect/disconnect cycles (%(default)s)")
    args = parser.parse_args(argv)

    daemon = PcscDaemon()
    daemon.ensure()
    processes = {
        "emulator": start_card_process("emulator", 0),
        "trivial": start_card_process("trivial", 1),
    }
    opened: list[PcscReader] = []
    try:
        cards: dict[str, tuple[PcscReader, int]] = {}
        for slot, (kind, process) in enumerate(processes.items()):
            wait_card_present(reader_name(slot), JPKI_ATR)
            reader = PcscReader(reader_name(slot))
            opened.append(reader)
            reader.power_on()
            assert process.pid is not None
            cards[kind] = (reader, process.pid)
        print(
            f"pyscard -> pcscd -> vpcd -> card via PcscReader.transmit; {args.apdus} APDUs per card and case"
        )
        print(f"in alternating blocks of {args.block}; CPU = the card process's user+system time per APDU")
        results = [(case[0], bench_case(cards, case, args.apdus, args.block)) for case in CASES]
        _report_throughput(results)
        for reader in opened:
            reader.close()
        opened.clear()
        _report_soak(daemon, args.cycles)
    finally:
        for reader in opened:
            reader.close()
        _stop(list(processes.values()))
        daemon.stop()
    return 0


def _report_throughput(results: list[tuple[str, dict[str, Measure]]]) -> None:
    print(
        f"{'case':28} {'trivial/s':>10} {'emulator/s':>11} {'rate ratio':>11} "
        f"{'CPU trivial':>12} {'CPU emulator':>13} {'own cost/transport':>19}"
    )
    ratios, own_costs = [], []
    for name, m in results:
        trivial, emulator = m["trivial"], m["emulator"]
        ratio = emulator.rate / trivial.rate
        # The emulator's own cost: its extra CPU per APDU, against the whole round trip of the trivial card.
        own = (emulator.cpu_us - trivial.cpu_us) / (1e6 / trivial.rate)
        ratios.append(ratio)
        own_costs.append(own)
        print(
            f"{name:28} {trivial.rate:10,.0f} {emulator.rate:11,.0f} {ratio:11.3f} "
            f"{trivial.cpu_us:10.1f}us {emulator.cpu_us:11.1f}us {own:19.3f}"
        )
    small = results[0][1]["emulator"].rate
    print(f"target emulator >= 0.90 x trivial rate: {'met' if min(ratios) >= 0.90 else 'NOT met'}")
    print(f"target emulator's own cost < 0.10 x transport: {'met' if max(own_costs) < 0.10 else 'NOT met'}")
    print(f"target > 10,000 small APDU/s: {'met' if small > 10_000 else 'NOT met'} ({small:,.0f}/s)")


def _report_soak(daemon: PcscDaemon, cycles: int) -> None:
    name = reader_name(0)
    seconds = soak(name, cycles)
    print(f"soak: {cycles} connect/SELECT/disconnect cycles in {seconds:.2f} s ({cycles / seconds:,.0f}/s)")
    if daemon.owned:
        print(f"pcscd restart: card answering again after {recovery_seconds(daemon, name):.2f} s")
        print(f"soak after restart: {cycles} cycles in {soak(name, cycles):.2f} s")
    else:
        print("pcscd restart: skipped (this script did not start pcscd)")


def _stop(processes: list[BaseProcess], timeout: float = 10.0) -> None:
    for process in processes:
        if process.is_alive():
            process.terminate()  # SIGTERM: the card's runner stops its bridge cleanly
    for process in processes:
        process.join(timeout)
        if process.is_alive():
            process.kill()
            process.join()


if __name__ == "__main__":
    sys.exit(main())
