"""Seed 004, "Concurrency vs parallelism in Go", section "The select
statement", ported to goroutines.

select() takes whichever channel is ready first; the faster goroutine's value
comes out first.

Run it with:  python examples/seeds/select_first_ready.py
"""

from __future__ import annotations

import goroutines
from goroutines import Chan, go, select
from goroutines import time as gotime


def main() -> None:
    ch1: Chan[str] = Chan()
    ch2: Chan[str] = Chan()

    def slow() -> None:
        gotime.sleep(0.2)  # the seed: 2 s
        ch1.send("one")

    def fast() -> None:
        gotime.sleep(0.1)  # the seed: 1 s
        ch2.send("two")

    go(slow)
    go(fast)

    for _ in range(2):
        index, msg = select(ch1.recv, ch2.recv)
        if index == 0:
            print("from ch1:", msg)
        else:
            print("from ch2:", msg)


if __name__ == "__main__":
    goroutines.run(main)
