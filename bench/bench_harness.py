"""The whole ``mynacard test`` on the virtual reader, serial and with pytest-xdist workers, in the same run.

Each configuration runs ``--repeat`` times (default 3) for each profile; the figure is the median wall time
of the child process, and the ratio is serial / parallel measured back to back, so machine noise hits both.
Run: ``.venv/bin/python bench/bench_harness.py [--workers 2] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time


def wall_time(profile: str, workers: int) -> float:
    command = [sys.executable, "-m", "mynacard", "test", "--profile", profile, "--quiet"]
    if workers:
        command += ["-n", str(workers)]
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, cwd=folder)
        elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"mynacard test --profile {profile} failed:\n{done.stdout}{done.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="pytest-xdist workers (default 2)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per configuration (default 3)")
    args = parser.parse_args()
    print(f"mynacard test --reader virtual: serial vs -n {args.workers} (median of {args.repeat} runs)")
    for profile in ("legacy-2016", "nextgen-2026"):
        serial, parallel = [], []
        for _ in range(args.repeat):
            serial.append(wall_time(profile, 0))
            parallel.append(wall_time(profile, args.workers))
        s, p = statistics.median(serial), statistics.median(parallel)
        ratio = s / p
        n = args.workers
        print(f"  {profile:14} serial {s:6.1f} s   -n {n} {p:6.1f} s   serial/parallel {ratio:5.2f}")


if __name__ == "__main__":
    main()
