"""Go by Example: Goroutines (https://gobyexample.com/goroutines), ported to goroutines.

A function called directly runs to completion; the same function started with
go() runs alongside the caller.

Run it with:  python examples/gobyexample/goroutine_basics.py

The file is not named goroutines.py: run as a script, that name would shadow
the goroutines package it imports.
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


def count(label: str) -> None:
    """Print three numbered lines. Nothing in here knows about concurrency."""
    for i in range(3):
        echo(label, ":", i)


def main() -> None:
    # A plain call: main waits for it, so these lines always come first.
    count("direct")

    # The same function as a goroutine: go() returns at once and count runs
    # concurrently with main (interleaved, or in parallel with GOMAXPROCS > 1).
    go(count, "goroutine")

    # Any callable can be a goroutine's body, a lambda included (Go's func literal).
    go(lambda message: echo(message), "going")

    # main is still running the show: when it returns, run() returns and
    # goroutines that have not finished are abandoned. Sleeping is the crude
    # way to let them finish; waitgroups.py shows the reliable one.
    gotime.sleep(0.2)
    echo("done")


if __name__ == "__main__":
    goroutines.run(main)
