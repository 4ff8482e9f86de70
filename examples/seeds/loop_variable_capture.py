"""Seed 002, "Go Goroutines and Concurrency Fundamentals" ("Common Mistake:
Capturing Loop Variable"), and seed 004, "Concurrency vs parallelism in Go"
("Anonymous goroutines and closure capture"), ported to goroutines.

Python closures look variables up when they run, not when they are created,
exactly the Go (before 1.22) mistake the seeds describe: goroutines that run
after the loop all see its last value. Passing the value as an argument fixes it.

Run it with:  python examples/seeds/loop_variable_capture.py
"""

from __future__ import annotations

import goroutines
from goroutines import Chan, go
from goroutines.sync import WaitGroup


def collect(capture_by_argument: bool) -> list[int]:
    """Start five goroutines from a loop; return the values they saw, sorted."""
    seen: Chan[int] = Chan(5)
    wg = WaitGroup()
    for i in range(5):
        wg.add(1)
        if capture_by_argument:

            def show_argument(n: int) -> None:
                try:
                    seen.send(n)  # n is this goroutine's own copy of i
                finally:
                    wg.done()

            go(show_argument, i)
        else:

            def show_variable() -> None:
                try:
                    seen.send(i)  # noqa: B023 - the mistake on purpose: i is read when this runs
                finally:
                    wg.done()

            go(show_variable)
    wg.wait()
    seen.close()
    return sorted(seen)


def main() -> None:
    # The goroutines typically start only once main blocks in wg.wait(), after
    # the loop has finished, so they all read i == 4.
    print("captured the loop variable:", collect(capture_by_argument=False))
    print("passed as an argument:     ", collect(capture_by_argument=True))


if __name__ == "__main__":
    goroutines.run(main)
