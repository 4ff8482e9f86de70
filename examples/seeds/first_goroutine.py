"""Seed 002, "Go Goroutines and Concurrency Fundamentals", section "Your First
Goroutine", ported to goroutines.

go() starts a function in a new goroutine and returns at once; main sleeps a
little so that the goroutine gets to run before the program ends.

Run it with:  python examples/seeds/first_goroutine.py
"""

from __future__ import annotations

import goroutines
from goroutines import go
from goroutines import time as gotime


def say_hello() -> None:
    print("Hello from goroutine!")


def main() -> None:
    go(say_hello)  # Go: go sayHello()

    # While main sleeps, the scheduler runs the new goroutine. Sleeping to
    # wait is fragile; waitgroup_patterns.py shows the dependable way.
    gotime.sleep(0.1)

    print("Main function")


if __name__ == "__main__":
    goroutines.run(main)
