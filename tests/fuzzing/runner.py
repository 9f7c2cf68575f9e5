"""Run the fuzz target in a subprocess and read what libFuzzer says: stats lines, artifacts, the exception.

libFuzzer prints ``#<runs> <event> cov: <edges> ft: <features> corp: <n>/<size> ... exec/s: <rate>`` lines;
``cov`` counts distinct coverage edges, ``ft`` distinct features (edges with hit-count buckets). On a broken
invariant atheris prints the Python exception and libFuzzer writes the input to ``<prefix>crash-<sha1>``
(``timeout-``, ``oom-`` for the other failures).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .harness import decode, describe_steps

TARGET = Path(__file__).resolve().with_name("target.py")
FAILURE_PREFIXES = ("crash-", "timeout-", "oom-", "leak-")
DEFAULT_FLAGS = ("-max_len=8192", "-timeout=20", "-rss_limit_mb=4096", "-print_final_stats=1")
"""Inputs up to 8 KiB (extended APDUs with a few KiB of data); one input over 20 s is a hang."""

_STATS_LINE = re.compile(
    r"^#(?P<runs>\d+)\s+(?P<event>[A-Z]+)\s+cov: (?P<cov>\d+) ft: (?P<ft>\d+)"
    r"(?: corp: (?P<corp>\d+)/\S+)?(?:.*? exec/s: (?P<rate>\d+))?",
    re.MULTILINE,
)


@dataclass(frozen=True, slots=True)
class Stats:
    """One libFuzzer stats line."""

    runs: int
    event: str
    cov: int
    ft: int
    corpus: int | None
    exec_per_second: int | None


@dataclass
class Result:
    returncode: int
    output: str
    artifacts: list[Path]
    counts: list[dict[str, float]] = field(default_factory=list)
    """What each target process wrote to ``MYNACARD_FUZZ_STATS``: inputs, apdus, seconds."""

    @property
    def stats(self) -> list[Stats]:
        return parse_stats(self.output)

    @property
    def final(self) -> Stats | None:
        lines = self.stats
        return lines[-1] if lines else None

    @property
    def inited(self) -> Stats | None:
        return next((s for s in self.stats if s.event == "INITED"), None)

    @property
    def failed(self) -> bool:
        return self.returncode != 0 or bool(self.artifacts)


def parse_stats(output: str) -> list[Stats]:
    found = []
    for m in _STATS_LINE.finditer(output):
        corpus, rate = m.group("corp"), m.group("rate")
        found.append(
            Stats(
                int(m.group("runs")),
                m.group("event"),
                int(m.group("cov")),
                int(m.group("ft")),
                int(corpus) if corpus is not None else None,
                int(rate) if rate is not None else None,
            )
        )
    return found


def command(corpora: Sequence[Path], flags: Sequence[str]) -> list[str]:
    return [sys.executable, str(TARGET), *map(str, corpora), *flags]


def start(
    corpora: Sequence[Path],
    workdir: Path,
    flags: Sequence[str] = (),
    *,
    name: str = "fuzz",
    env: Mapping[str, str] | None = None,
) -> tuple[subprocess.Popen[bytes], Path]:
    """Start the target on ``corpora`` (the first one receives new inputs); output goes to a log file.

    Artifacts go to ``workdir/artifacts/``, counts to ``workdir/counts/``.
    """
    (workdir / "artifacts").mkdir(parents=True, exist_ok=True)
    (workdir / "counts").mkdir(parents=True, exist_ok=True)
    log = workdir / f"{name}.log"
    environment = {**os.environ, **(env or {}), "MYNACARD_FUZZ_STATS": str(workdir / "counts")}
    all_flags = [*DEFAULT_FLAGS, f"-artifact_prefix={workdir / 'artifacts'}/", *flags]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command(corpora, all_flags), stdout=out, stderr=subprocess.STDOUT, env=environment
        )
    return process, log


def collect(workdir: Path, log: Path, returncode: int) -> Result:
    output = log.read_text(errors="replace")
    artifacts = sorted(p for p in (workdir / "artifacts").iterdir() if p.name.startswith(FAILURE_PREFIXES))
    counts = [json.loads(p.read_text()) for p in sorted((workdir / "counts").glob("*.json"))]
    return Result(returncode, output, artifacts, counts)


def run(
    corpora: Sequence[Path],
    workdir: Path,
    seconds: float,
    flags: Sequence[str] = (),
    *,
    env: Mapping[str, str] | None = None,
    grace: float = 120.0,
) -> Result:
    """Fuzz for ``seconds`` (libFuzzer's ``-max_total_time``) and wait, with ``grace`` for start and end."""
    process, log = start(corpora, workdir, [f"-max_total_time={max(1, round(seconds))}", *flags], env=env)
    try:
        returncode = process.wait(timeout=seconds + grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        returncode = -9
    return collect(workdir, log, returncode)


def describe_failure(result: Result, tail_lines: int = 60) -> str:
    """Every failing input as hex and as steps, the exception atheris printed, and the output's tail."""
    parts = [f"the fuzz target exited with {result.returncode}"]
    for artifact in result.artifacts:
        data = artifact.read_bytes()
        parts += [
            f"{artifact.name} ({len(data)} bytes): {data.hex()}",
            "steps:",
            describe_steps(decode(data)),
        ]
    exception = re.search(r"=== Uncaught Python exception: ===\n(.*?)(?:\n==\d+== |\Z)", result.output, re.S)
    if exception:
        parts += ["exception:", exception.group(1).rstrip()]
    lines = [line for line in result.output.splitlines() if not line.startswith("INFO: Instrumenting")]
    parts += [f"last {tail_lines} lines of output:", *lines[-tail_lines:]]
    return "\n".join(parts)
