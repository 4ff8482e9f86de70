"""Seed 004, "Concurrency vs parallelism in Go", sections "WaitGroup for
fan-out" and "WaitGroup plus channel: collecting results", ported to goroutines.

Fan out one goroutine per item and wait for them with a WaitGroup; to collect
results, a helper goroutine closes the results channel after the WaitGroup's
wait, which ends the collecting loop.

Run it with:  python examples/seeds/waitgroup_fan_out.py
"""

from __future__ import annotations

import sys

import goroutines
from goroutines import Chan, go
from goroutines import time as gotime
from goroutines.sync import WaitGroup


def echo(*parts: object) -> None:
    """Print one line with a single write. print() writes its parts one by one,
    so with GOMAXPROCS > 1 lines printed at the same moment by goroutines on
    different threads could come out mixed together."""
    sys.stdout.write(" ".join(map(str, parts)) + "\n")


def process_item(ident: int, wg: WaitGroup) -> None:
    try:
        gotime.sleep(0.05)
        echo(f"item {ident} processed")
    finally:
        wg.done()  # always, even if processing raises


def fan_out() -> None:
    wg = WaitGroup()
    for ident in [1, 2, 3, 4, 5]:
        wg.add(1)  # before go(), never inside the goroutine
        go(process_item, ident, wg)
    wg.wait()
    echo("all items processed")


def sum_of_squares(inputs: list[int]) -> int:
    results: Chan[int] = Chan(len(inputs))
    wg = WaitGroup()

    def square(x: int) -> None:
        results.send(x * x)

    for n in inputs:  # fan out
        wg.go(square, n)

    def close_results() -> None:
        wg.wait()
        results.close()

    go(close_results)

    return sum(results)  # fan in: iterates until results is closed


def main() -> None:
    fan_out()
    echo("sum of squares:", sum_of_squares([1, 2, 3, 4, 5]))  # 55


if __name__ == "__main__":
    goroutines.run(main)
