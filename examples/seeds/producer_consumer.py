"""Seed 004, "Concurrency vs parallelism in Go", section "Channel direction in
function signatures", ported to goroutines.

The producer may only send (and close); the consumer may only receive. The
annotations SendChan and RecvChan let mypy enforce that, as Go's compiler does.

Run it with:  python examples/seeds/producer_consumer.py
"""

from __future__ import annotations

import goroutines
from goroutines import Chan, RecvChan, SendChan, go


def producer(ch: SendChan[int]) -> None:
    for i in range(5):
        ch.send(i)
    ch.close()  # closing is allowed on the sending side


def consumer(ch: RecvChan[int]) -> None:
    for n in ch:
        print("received:", n)


def main() -> None:
    ch: Chan[int] = Chan(5)
    # A Chan is both a SendChan and a RecvChan, so it fits either parameter;
    # inside each function only that direction is available to the checker.
    go(producer, ch)
    consumer(ch)


if __name__ == "__main__":
    goroutines.run(main)
