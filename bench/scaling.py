"""Parallel scaling: the same CPU-bound goroutines on 1 and on N processors.

On a free-threaded CPython (3.13t, 3.14t) goroutines on different workers run
Python in parallel, so N processors should finish close to N times faster; on a
build with a GIL the ratio stays near 1. Run it on both:

    .venv/bin/python bench/scaling.py
    scripts/free-threaded.sh python bench/scaling.py

Each run is one fresh ``goroutines.run``; the figure is the median of
``--repeat`` runs, interleaved between the processor counts.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import goroutines
from goroutines import Chan, go


def _burn(iterations: int, done: Chan[int]) -> None:
    total = 0
    for i in range(iterations):
        total += i * i % 7
    done.send(total)


def _work(goroutines_count: int, iterations: int) -> float:
    done: Chan[int] = Chan()
    started = time.perf_counter()
    for _ in range(goroutines_count):
        go(_burn, iterations, done)
    for _ in range(goroutines_count):
        done.recv()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--procs", type=int, default=goroutines.runtime.num_cpu())
    parser.add_argument("--goroutines", type=int, default=8)
    parser.add_argument("--iterations", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    counts = sorted({1, args.procs})
    seconds: dict[int, list[float]] = {n: [] for n in counts}
    for _ in range(args.repeat):
        for n in counts:
            elapsed = goroutines.run(_work, args.goroutines, args.iterations, gomaxprocs=n)
            seconds[n].append(elapsed)

    gil = getattr(sys, "_is_gil_enabled", lambda: True)()
    print(f"Python {sys.version.split()[0]}, GIL {'enabled' if gil else 'disabled'}")
    base = statistics.median(seconds[1])
    for n in counts:
        median = statistics.median(seconds[n])
        print(f"gomaxprocs={n}: {median * 1000:8.1f} ms  speed-up {base / median:4.2f}x")


if __name__ == "__main__":
    main()
