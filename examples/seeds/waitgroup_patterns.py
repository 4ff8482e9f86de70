"""Seed 002, "Go Goroutines and Concurrency Fundamentals", sections "Basic
WaitGroup Usage" and "Common WaitGroup Patterns", ported to goroutines.

Three ways to wait for goroutines with a WaitGroup: add(1) per goroutine,
one add(n) for all of them, and an inline function given its argument.

Run it with:  python examples/seeds/waitgroup_patterns.py
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


def worker(ident: int, wg: WaitGroup) -> None:
    """The seed's worker: the WaitGroup is passed in (Go passes a pointer)."""
    try:
        echo(f"Worker {ident}: Starting")
        gotime.sleep(0.1)  # the seed: 1 s
        echo(f"Worker {ident}: Done")
    finally:
        wg.done()  # Go: defer wg.Done()


def basic_usage() -> None:
    wg = WaitGroup()
    for i in range(1, 4):
        wg.add(1)  # count the goroutine before starting it
        go(worker, i, wg)
    wg.wait()  # blocks until the counter is back to zero
    echo("All workers completed")


def add_all_at_once() -> None:
    """Pattern 1: the number of goroutines is known up front, so add it once."""
    wg = WaitGroup()
    finished: Chan[int] = Chan(5)
    wg.add(5)

    def quiet_worker(ident: int) -> None:
        try:
            finished.send(ident)
        finally:
            wg.done()

    for i in range(5):
        go(quiet_worker, i)
    wg.wait()
    finished.close()
    echo("pattern 1: finished", sorted(finished))


def inline_closure() -> None:
    """Pattern 2: an inline function; the loop value is passed as an argument."""
    wg = WaitGroup()
    seen: Chan[int] = Chan(5)
    for i in range(5):
        wg.add(1)

        def body(ident: int) -> None:
            try:
                seen.send(ident)  # the seed prints here; we collect to sort
            finally:
                wg.done()

        go(body, i)  # Go: go func(id int) { ... }(i)
    wg.wait()
    seen.close()
    echo("pattern 2: workers", sorted(seen))


def main() -> None:
    basic_usage()
    add_all_at_once()
    inline_closure()


if __name__ == "__main__":
    goroutines.run(main)
