"""Seed 000, "Go Concurrency" (notes from a Golang index), the f2 examples,
ported to goroutines.

When main returns the whole run ends, so a goroutine that main does not wait
for may never run at all. A WaitGroup makes main wait for it.

Run it with:  python examples/seeds/main_does_not_wait.py

This script calls goroutines.run twice, once per version of the program, so
that the first version really ends (and abandons f2) before the second starts.
"""

from __future__ import annotations

import sys

import goroutines
from goroutines import go
from goroutines.sync import WaitGroup


def echo(*parts: object) -> None:
    """Print one line with a single write. print() writes its parts one by one,
    so with GOMAXPROCS > 1 lines printed at the same moment by goroutines on
    different threads could come out mixed together."""
    sys.stdout.write(" ".join(map(str, parts)) + "\n")


def f2() -> None:
    echo("function 2")


def main_without_waiting() -> None:
    echo("hello there")
    go(f2)
    echo("last line of main")
    # main returns here. With one processor f2 has not been scheduled yet and
    # is abandoned; with more, another processor may just manage to run it.


def f2_with_waitgroup(wg: WaitGroup) -> None:
    try:
        echo("function 2")
    finally:
        wg.done()  # Go: defer wg.Done(), so the count drops even on a panic


def main() -> None:
    wg = WaitGroup()  # a module-level WaitGroup works too; this one is passed along
    wg.add(1)  # one goroutine to wait for, counted before it starts
    echo("hello there")
    go(f2_with_waitgroup, wg)
    wg.wait()  # blocks until f2 has called done()
    echo("last line of main")


if __name__ == "__main__":
    echo("-- main does not wait:")
    goroutines.run(main_without_waiting)
    echo("-- main waits with a WaitGroup:")
    goroutines.run(main)
