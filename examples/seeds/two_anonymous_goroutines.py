"""Seed 003, "Goroutines are Go's fundamental building blocks..." (the chef
analogy), section "Example of using goroutines and WaitGroup", ported to
goroutines.

Two anonymous goroutines and one WaitGroup: their two lines may come in
either order, but the final line always comes last.

Run it with:  python examples/seeds/two_anonymous_goroutines.py
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


def main() -> None:
    wg = WaitGroup()

    wg.add(1)

    def first() -> None:
        try:
            echo("Executing 1st goroutine")
        finally:
            wg.done()

    go(first)

    wg.add(1)

    def second() -> None:
        try:
            echo("Executing 2nd goroutine")
        finally:
            wg.done()

    go(second)

    wg.wait()
    echo("All goroutines finished executing")


if __name__ == "__main__":
    goroutines.run(main)
