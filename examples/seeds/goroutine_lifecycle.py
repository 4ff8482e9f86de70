"""Seed 002, "Go Goroutines and Concurrency Fundamentals", section "Goroutine
Lifecycle", ported to goroutines.

Three workers start together and finish together; main outlives them only
because it sleeps longer than they work.

Run it with:  python examples/seeds/goroutine_lifecycle.py
"""

from __future__ import annotations

import sys

import goroutines
from goroutines import go
from goroutines import time as gotime


def echo(*parts: object) -> None:
    """Print one line with a single write. print() writes its parts one by one,
    so with GOMAXPROCS > 1 lines printed at the same moment by goroutines on
    different threads could come out mixed together."""
    sys.stdout.write(" ".join(map(str, parts)) + "\n")


def worker(ident: int) -> None:
    echo(f"Worker {ident}: Starting")
    gotime.sleep(0.1)  # simulated work (the seed: 1 s)
    echo(f"Worker {ident}: Done")


def main() -> None:
    echo("Main: Starting")
    for i in range(1, 4):
        go(worker, i)

    # Twice the work time (the seed: 2 s). If main returned sooner, the
    # workers would be cut off: the run ends when main returns.
    gotime.sleep(0.2)
    echo("Main: Exiting")


if __name__ == "__main__":
    goroutines.run(main)
