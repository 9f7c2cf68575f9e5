"""A fuzz campaign of ``Card.process``: atheris for N seconds, APDUs/s against a baseline, distinct coverage.

Runs ``--jobs`` copies of the atheris target (``tests/fuzzing/target.py``) for ``--seconds`` on one shared
corpus that starts from the generated seeds, then prints:

* APDUs/s inside the target (the harness counts every APDU it sends; libFuzzer's exec/s counts inputs),
  per job and summed, next to the same harness without instrumentation or libFuzzer, measured in this run
  replaying the seed corpus (and the campaign's final corpus, whose input mix is the fuzzer's own), as ratios;
* distinct coverage as libFuzzer counts it (``cov``: edges, ``ft``: features) for the seeds alone, for each
  job's last stats line, and for the whole final corpus replayed in one process;
* any finding: the input as hex and as APDUs, the response and the traceback (exit status 1).

Run: ``.venv/bin/python bench/fuzz_card.py --seconds 300 --jobs 2`` (``--keep DIR`` keeps the corpus).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from fuzzing import runner
from fuzzing.harness import DEFAULT_PERSONA, DEFAULT_PROFILE, Harness, open_fuzz_card
from fuzzing.seeds import write_seeds


@dataclass(frozen=True, slots=True)
class Rate:
    apdus_per_second: float
    inputs_per_second: float


def replay_rate(harness: Harness, inputs: list[bytes], seconds: float) -> Rate:
    """The uninstrumented harness replaying ``inputs`` round-robin for about ``seconds``."""
    apdus, runs = harness.apdus, harness.inputs
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        for data in inputs:
            harness.run(data)
    elapsed = time.perf_counter() - start
    return Rate((harness.apdus - apdus) / elapsed, (harness.inputs - runs) / elapsed)


def read_inputs(*directories: Path) -> list[bytes]:
    return [p.read_bytes() for d in directories for p in sorted(d.iterdir()) if p.is_file()]


def coverage_of(corpora: list[Path], workdir: Path, env: dict[str, str]) -> runner.Stats | None:
    """``cov``/``ft`` of ``corpora`` replayed once in a fresh instrumented process (``-runs=0``)."""
    process, log = runner.start(corpora, workdir, ["-runs=0"], name="replay", env=env)
    returncode = process.wait(timeout=600)
    return runner.collect(workdir, log, returncode).inited


def job_rate(result: runner.Result) -> Rate:
    """APDUs/s and inputs/s of one job, from the counts its target processes wrote."""
    counts = [c for c in result.counts if c["seconds"] > 0]
    return Rate(
        sum(c["apdus"] / c["seconds"] for c in counts), sum(c["inputs"] / c["seconds"] for c in counts)
    )


def report_rates(results: list[runner.Result], seeds: Rate, corpus: Rate) -> None:
    rows = [(f"fuzz job {i} (atheris, instrumented)", job_rate(r)) for i, r in enumerate(results)]
    total = sum(rate.apdus_per_second for _, rate in rows)
    rows += [("baseline: seeds, uninstrumented", seeds), ("baseline: final corpus, uninstrumented", corpus)]
    print(f"{'':40} {'APDU/s':>10} {'inputs/s':>10}")
    for label, rate in rows:
        print(f"{label:40} {rate.apdus_per_second:>10,.0f} {rate.inputs_per_second:>10,.0f}")
    per_job = total / len(results)
    print(
        f"fuzz/baseline, APDU/s of one job: {per_job / seeds.apdus_per_second:.3f} (seeds), "
        f"{per_job / corpus.apdus_per_second:.3f} (final corpus)"
    )
    if len(results) > 1:
        print(
            f"all {len(results)} jobs: {total:,.0f} APDU/s, "
            f"{total / seeds.apdus_per_second:.3f} × the seeds' baseline"
        )


def report_coverage(results: list[runner.Result], replay: runner.Stats | None, replayed: int) -> None:
    """libFuzzer's cov (edges) and ft (features) of the seeds, of each job at its end, of the final corpus."""
    seeded = results[0].inited
    rows: list[tuple[str, runner.Stats | None, str]] = [("seeds alone", seeded, "")]
    for i, result in enumerate(results):
        final = result.final
        more = f"corpus {final.corpus}, {final.runs:,} runs" if final is not None else ""
        rows.append((f"job {i} at its end", final, more))
    rows.append(("final corpus, replayed", replay, f"{replayed} inputs"))
    for label, stats, more in rows:
        if stats is not None:
            print(f"coverage, {label:24} cov {stats.cov:5}  ft {stats.ft:5}  {more}".rstrip())
    if seeded is not None and replay is not None:
        print(
            f"distinct coverage, campaign/seeds: cov {replay.cov / seeded.cov:.3f}, "
            f"ft {replay.ft / seeded.ft:.3f}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="fuzzing time of each job (default 120)")
    parser.add_argument(
        "--jobs", type=int, default=1, help="fuzzing processes on one shared corpus (default 1)"
    )
    parser.add_argument("--profile", default=DEFAULT_PROFILE)
    parser.add_argument("--persona", default=DEFAULT_PERSONA)
    parser.add_argument(
        "--baseline-seconds", type=float, default=None, help="each baseline (default: seconds/10, 2..10)"
    )
    parser.add_argument("--keep", type=Path, default=None, help="work in DIR and keep corpus and logs")
    parser.add_argument(
        "flags", nargs="*", help="more libFuzzer flags, after --, e.g. -- -use_value_profile=1"
    )
    args = parser.parse_args(argv)
    if args.jobs < 1 or args.seconds <= 0:
        parser.error("--jobs must be at least 1 and --seconds positive")
    baseline_seconds = args.baseline_seconds or min(10.0, max(2.0, args.seconds / 10))
    env = {"MYNACARD_FUZZ_PROFILE": args.profile, "MYNACARD_FUZZ_PERSONA": args.persona}

    with tempfile.TemporaryDirectory(prefix="mynacard-fuzz-") as scratch:
        workdir = args.keep or Path(scratch)
        seeds, corpus = workdir / "seeds", workdir / "corpus"
        corpus.mkdir(parents=True, exist_ok=True)
        count = write_seeds(seeds, args.profile, args.persona)
        what = f"{args.profile} / {args.persona}, {count} seeds"
        print(f"fuzz campaign: {what}, {args.jobs} job(s) × {args.seconds:g} s")

        harness = Harness(open_fuzz_card(args.profile, args.persona))
        seed_inputs = read_inputs(seeds)
        replay_rate(harness, seed_inputs, min(1.0, baseline_seconds))  # warm up
        seed_baseline = replay_rate(harness, seed_inputs, baseline_seconds)

        flags = [f"-max_total_time={max(1, round(args.seconds))}", *args.flags]
        jobs = []
        for i in range(args.jobs):
            job_dir = workdir / f"job-{i}"
            jobs.append((job_dir, *runner.start([corpus, seeds], job_dir, flags, env=env)))
        results = []
        for job_dir, process, log in jobs:
            try:
                returncode = process.wait(timeout=args.seconds + 300)
            except subprocess.TimeoutExpired:
                process.kill()
                returncode = process.wait()
            results.append(runner.collect(job_dir, log, returncode))

        corpus_inputs = read_inputs(corpus, seeds)
        corpus_baseline = replay_rate(harness, corpus_inputs, baseline_seconds)
        harness.close()
        replay = coverage_of([corpus, seeds], workdir / "replay", env)

        print()
        report_rates(results, seed_baseline, corpus_baseline)
        print()
        report_coverage(results, replay, len(corpus_inputs))

        failures = [r for r in results if r.failed]
        print()
        if not failures:
            print("findings: none (no exception, no 6F 00, no traceback, every SW known)")
            return 0
        for result in failures:
            print(runner.describe_failure(result))
        print(f"findings: {sum(len(r.artifacts) for r in failures)} failing input(s)")
        if args.keep is not None:
            print(f"corpus, logs and failing inputs kept in {workdir}")
        else:
            kept = Path(tempfile.mkdtemp(prefix="mynacard-fuzz-findings-"))
            for result in failures:
                for artifact in result.artifacts:
                    (kept / artifact.name).write_bytes(artifact.read_bytes())
            print(f"failing inputs copied to {kept}")
        return 1


if __name__ == "__main__":
    sys.exit(main())
