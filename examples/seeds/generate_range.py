"""Seed 004, "Concurrency vs parallelism in Go", section "Ranging over a
channel", ported to goroutines.

A generator goroutine sends a variable number of values and closes the
channel; the receiver's for loop ends at the close.

Run it with:  python examples/seeds/generate_range.py
"""

from __future__ import annotations

import goroutines
from goroutines import Chan, RecvChan, go


def generate(*nums: int) -> RecvChan[int]:
    ch: Chan[int] = Chan()

    def emit() -> None:
        for n in nums:
            ch.send(n)
        ch.close()  # no more values: ends the receiver's loop

    go(emit)
    return ch.recv_only()  # callers may only receive


def main() -> None:
    for n in generate(2, 3, 5, 7, 11):
        print(n)
    # the loop ended by itself when the channel was closed


if __name__ == "__main__":
    goroutines.run(main)
