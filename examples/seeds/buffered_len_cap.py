"""Seed 004, "Concurrency vs parallelism in Go", section "Buffered channels",
ported to goroutines.

Sends to a buffered channel complete at once while there is room; len() is
how many values wait in the buffer, cap its size.

Run it with:  python examples/seeds/buffered_len_cap.py
"""

from __future__ import annotations

import goroutines
from goroutines import Chan, default, select


def main() -> None:
    ch: Chan[int] = Chan(3)  # Go: make(chan int, 3)

    # Three sends, no receiver anywhere: the buffer holds them.
    ch.send(1)
    ch.send(2)
    ch.send(3)
    print("after three sends:", len(ch), ch.cap)

    # A fourth plain send would block main forever (and the runtime would
    # report a deadlock); a select with default shows it cannot proceed.
    index, _ = select((ch.send, 4), default)
    print("fourth send would block:", index == 1)

    print(ch.recv())
    print(ch.recv())
    print(ch.recv())
    print(len(ch), ch.cap)  # Go: len(ch), cap(ch) -> 0 3


if __name__ == "__main__":
    goroutines.run(main)
