"""Seed 002, "Go Goroutines and Concurrency Fundamentals", section "Debugging
Goroutines" (check goroutine count), ported to goroutines.

runtime.num_goroutine() counts the goroutines that exist right now, main
included: a quick way to spot goroutines that do not go away.

Run it with:  python examples/seeds/goroutine_count.py
"""

from __future__ import annotations

import goroutines
from goroutines import go, runtime
from goroutines import time as gotime


def nap() -> None:
    gotime.sleep(0.1)  # the seed: 1 s


def main() -> None:
    print("Start goroutines:", runtime.num_goroutine())

    for _ in range(10):
        go(nap)

    gotime.sleep(0.01)
    print("Running goroutines:", runtime.num_goroutine())  # 10 naps + main

    gotime.sleep(0.2)
    print("End goroutines:", runtime.num_goroutine())  # the naps are over

    # The seed's other tool, a dump of every goroutine's stack (Go's SIGQUIT
    # output), is runtime.stack(); here only main is left in it.
    print(runtime.stack().splitlines()[0])


if __name__ == "__main__":
    goroutines.run(main)
