"""Go by Example: WaitGroups (https://gobyexample.com/waitgroups), ported to goroutines.

A WaitGroup counts running goroutines; wait() returns when the count is back
to zero.

Run it with:  python examples/gobyexample/waitgroups.py
"""

from __future__ import annotations

import sys

import goroutines
from goroutines import time as gotime
from goroutines.sync import WaitGroup


def echo(*parts: object) -> None:
    """Print one line with a single write. print() writes its parts one by one,
    so with GOMAXPROCS > 1 lines printed at the same moment by goroutines on
    different threads could come out mixed together."""
    sys.stdout.write(" ".join(map(str, parts)) + "\n")


def worker(ident: int) -> None:
    """A task that knows nothing about WaitGroups: the group does the counting."""
    echo(f"Worker {ident} starting")
    gotime.sleep(0.1)  # something slow (Go's example: one second)
    echo(f"Worker {ident} done")


def main() -> None:
    wg = WaitGroup()

    # wg.go(f, *args) is Go 1.25's wg.Go: add(1), start f in a goroutine, and
    # done() when f returns or raises. The long form is wg.add(1) before go()
    # and wg.done() in a finally clause inside the goroutine.
    for ident in range(1, 6):
        wg.go(worker, ident)

    # Blocks until all five workers have returned. The order in which they
    # start and finish is up to the scheduler.
    wg.wait()
    echo("all workers done")

    # A WaitGroup only counts; to collect results or errors from the
    # goroutines, use a channel or goroutines.errgroup.


if __name__ == "__main__":
    goroutines.run(main)
