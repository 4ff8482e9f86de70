"""Seed 002, "Go Goroutines and Concurrency Fundamentals" (10,000 goroutines),
and seed 004, "Concurrency vs parallelism in Go" (100,000 goroutines), ported
to goroutines.

Goroutines are cheap: a loop can start a hundred thousand of them and a
WaitGroup waits for them all.

Run it with:  python examples/seeds/many_goroutines.py
"""

from __future__ import annotations

import goroutines
from goroutines import go
from goroutines import time as gotime
from goroutines.sync import WaitGroup


def start_and_wait(n: int) -> None:
    """Start n goroutines that each do a trivial computation; wait for all."""
    wg = WaitGroup()

    def work(ident: int) -> None:
        try:
            _ = ident * 2  # the "work"
        finally:
            wg.done()

    for i in range(n):
        wg.add(1)  # before go(), so wait() cannot miss a goroutine
        go(work, i)
    wg.wait()


def main() -> None:
    started = gotime.now()
    start_and_wait(10_000)
    print("All 10,000 goroutines completed!")

    start_and_wait(100_000)
    print("all done")
    print(f"110,000 goroutines in {gotime.since(started):.2f} s")


if __name__ == "__main__":
    goroutines.run(main)
